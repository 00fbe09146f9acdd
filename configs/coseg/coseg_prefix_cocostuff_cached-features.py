# CoSeg-Prefix trained from precomputed CLIP features: the paper's training pipeline (centre crop
# + resize) is deterministic, so the frozen backbone's outputs of each image are computed in the
# first epoch, stored (float16, ~1.1 MB per image) and read back afterwards.
_base_ = ['./coseg_prefix_cocostuff.py']
model = dict(
    feature_cache=dict(
        cache_dir='work_dirs/feature_cache/coseg_prefix_cocostuff', dtype='float16'))
