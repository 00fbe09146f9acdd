# The closed-set floor (../fcn_clip-frozen_closed-set_open-world.py) on the cross-vocabulary
# scenes (`val_unseen`, unseen classes only). Its classes cannot change, so the scenes are read
# under all names and the figure is SeenUnseenIoUMetric's unseen mIoU.
# Usage: python tools/test.py configs/coseg/open_world/zero-shot/fcn_clip-frozen_closed-set_open-world_cross-vocab.py CHECKPOINT
_base_ = ['../fcn_clip-frozen_closed-set_open-world.py']
test_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val_unseen', seg_map_path='ann_dir/val_unseen')))
