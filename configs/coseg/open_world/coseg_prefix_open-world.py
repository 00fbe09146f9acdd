# CoSeg-Prefix on the generated open world (docs/open_vocabulary.md), the paper's recipe
# (area-ranked slot targets): trained on the `train` scenes, which hold seen classes only, with
# the seen names as vocabulary. `tools/test.py` on this config is the generalized zero-shot test
# (`val_mixed` scenes under all names: seen / unseen mIoU and hIoU); the cross-vocabulary test
# is zero-shot/coseg_prefix_open-world_cross-vocab.py. Make the world first:
#   python tools/make_open_world_data.py --out data/open_world
_base_ = [
    '../../_base_/models/coseg_prefix_open-world.py',
    '../../_base_/datasets/open_world.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_cosine_1k.py',
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
