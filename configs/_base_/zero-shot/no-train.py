# The no-training baseline tested: the model, mmseg's runtime and its test steps around a
# dataset's annotation loader (test_pipeline = [*_base_.test_head, <loader>, *_base_.test_tail]):
# CLIP's own view of the decoded file for the ranking pass (CLIPRankView, rank_size), then the
# image squashed to CLIPSeg's input size with PIL's (antialiased) bilinear resize, as
# CLIPSegProcessor does (cv2's bilinear would alias when shrinking); the view is packed with
# mmseg's meta keys.
_base_ = ['../models/coseg_no-train_clipseg-rd64.py', 'mmseg::_base_/default_runtime.py']
test_head = [
    dict(type='LoadImageFromFile'),
    dict(type='CLIPRankView', size=224),
    dict(type='Resize', scale=(352, 352), keep_ratio=False, backend='pillow'),
]
test_tail = [dict(type='PackSegInputs', meta_keys={{_base_.rank_meta_keys}})]
