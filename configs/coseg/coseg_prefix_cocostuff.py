# CoSeg-Prefix, COCO-Stuff-164k, the paper's recipe: total batch 32 = 4 GPUs x 8 images each.
# The same run as coseg_prefix_4xb8_cocostuff.py. On 1, 2 or 8 GPUs take the config named after
# them (coseg_prefix_1xb32 / 2xb16 / 8xb4_cocostuff.py: always 32 in all, the same LR); with any
# other total batch add --auto-scale-lr (LR x total / 32). Otherwise the paper's recipe:
# 224x224 centre crop, Adam, cosine LR 1e-4 -> 1e-6, 100 epochs, 171 classes.
_base_ = [
    '../_base_/models/coseg_prefix_vit-b16.py',
    '../_base_/datasets/coco-stuff164k_center-crop-224.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_cosine_100e.py',
]
# 8 per GPU: total batch 32 on 4 GPUs (auto_scale_lr: the schedule's base_batch_size=32).
train_dataloader = dict(batch_size=8, num_workers=4)
log_processor = dict(by_epoch=True)
# COCO-Stuff's 171 classes as natural prompts ("brick wall", not "wall-brick"), for training
# and testing; mmseg's inference APIs read the test vocabulary from here too.
model = dict(vocabulary='coco_stuff', test_vocabulary='coco_stuff')
