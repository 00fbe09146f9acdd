# CoSeg-Prefix trained from precomputed CLIP features: the paper's training pipeline (centre crop
# + resize) is deterministic, so the frozen backbone's outputs of each image are computed in the
# first epoch, stored (float16, ~1.1 MB per image) and read back afterwards. It pays where the
# backbone is the expensive part (CPU: 1.36x a step); on a fast GPU, reading the features back
# cost more than computing them (H200: 0.72x; README "Speed and memory").
_base_ = ['./coseg_prefix_cocostuff.py']
model = dict(
    feature_cache=dict(
        cache_dir='work_dirs/feature_cache/coseg_prefix_cocostuff', dtype='float16'))
