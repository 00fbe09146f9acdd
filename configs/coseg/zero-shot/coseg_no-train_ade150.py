# The no-training baseline, tested zero-shot on ADE20K-150 val (ADEChallengeData2016,
# 2000 images), 150 classes ("other", 0, ignored: mmseg's reduce_zero_label).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_no-train_ade150.py
_base_ = [
    '../../_base_/models/coseg_no-train_clipseg-rd64.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(test_vocabulary='ade20k_150')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # CLIP's own input for the ranking pass, from the decoded file (rank_size).
    dict(type='CLIPRankView', size=224),
    # Squashed to CLIPSeg's input size with PIL's (antialiased) bilinear resize, as
    # CLIPSegProcessor does; cv2's bilinear would alias when shrinking.
    dict(type='Resize', scale=(352, 352), keep_ratio=False, backend='pillow'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs', meta_keys={{_base_.rank_meta_keys}}),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
