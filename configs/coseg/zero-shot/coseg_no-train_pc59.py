# The no-training baseline, tested zero-shot on Pascal Context val, 59 classes (background
# ignored).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_no-train_pc59.py
_base_ = [
    '../../_base_/models/coseg_no-train_clipseg-rd64.py',
    'mmseg::_base_/datasets/pascal_context_59.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(test_vocabulary='pascal_context_59')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # CLIP's own input for the ranking pass, from the decoded file (rank_size).
    dict(type='CLIPRankView', size=224),
    # Squashed to CLIPSeg's input size with PIL's (antialiased) bilinear resize, as
    # CLIPSegProcessor does; cv2's bilinear would alias when shrinking.
    dict(type='Resize', scale=(352, 352), keep_ratio=False, backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs', meta_keys={{_base_.rank_meta_keys}}),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
