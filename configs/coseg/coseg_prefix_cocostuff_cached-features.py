# CoSeg-Prefix trained from precomputed CLIP features: the paper's training pipeline (centre crop
# + resize) is deterministic, so the frozen backbone's outputs of each image are computed in the
# first epoch, stored (float16) and read back afterwards. It pays where the backbone is the
# expensive part (CPU); on a fast GPU, reading the features back can cost more than computing
# them (measured figures: docs/benchmarks.md).
_base_ = ['./coseg_prefix_cocostuff.py']
model = dict(
    feature_cache=dict(
        cache_dir='work_dirs/feature_cache/coseg_prefix_cocostuff', dtype='float16'))
