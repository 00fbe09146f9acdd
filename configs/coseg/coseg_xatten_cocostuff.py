# CoSeg-Xatten, COCO-Stuff-164k, the paper's recipe: total batch 32 = 4 GPUs x 8 images each.
# The same run as coseg_xatten_4xb8_cocostuff.py; on 1, 2 or 8 GPUs take the config named after
# them (coseg_xatten_1xb32 / 2xb16 / 8xb4_cocostuff.py), for another total add --auto-scale-lr.
# 4 encoder blocks over the CLIP tokens, 4 decoder blocks in which the 20 slots self- and
# cross-attend (paper, section 3.4); the data and schedule are coseg_prefix_cocostuff.py's.
_base_ = [
    '../_base_/models/coseg_xatten_vit-b16.py',
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
