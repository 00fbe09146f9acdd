# CoSeg-Prefix trained from precomputed CLIP features: the paper's training pipeline (centre crop
# + resize) is deterministic, so the frozen backbone's outputs of each image are computed in the
# first epoch, stored (float16) and read back afterwards, in the training process. For CPU
# training, where the backbone is the expensive part of a step; not for a GPU, where reading
# one image's features back costs more than computing them (docs/benchmarks/data_pipeline.md).
_base_ = ['./coseg_prefix_cocostuff.py']
model = dict(
    feature_cache=dict(
        cache_dir='work_dirs/feature_cache/coseg_prefix_cocostuff', dtype='float16'))
