# Cross-vocabulary zero-shot test of ../coseg_xatten_set-matching_open-world.py (the COCO-Stuff -> Pascal situation):
# the `val_unseen` scenes, which hold unseen classes only, under the unseen names alone.
# Usage: python tools/test.py configs/coseg/open_world/zero-shot/coseg_xatten_set-matching_open-world_cross-vocab.py CHECKPOINT
_base_ = ['../coseg_xatten_set-matching_open-world.py']
test_dataloader = dict(
    dataset=dict(
        vocabulary='unseen',
        data_prefix=dict(img_path='img_dir/val_unseen', seg_map_path='ann_dir/val_unseen')))
test_evaluator = dict(_delete_=True, type='IoUMetric', iou_metrics=['mIoU'])
