# CoSeg-Xatten trained on COCO-Stuff-164k: 4 encoder blocks over the CLIP tokens, 4 decoder
# blocks in which the 20 slots self- and cross-attend (paper, section 3.4); the data, schedule
# and batch are coseg_prefix_cocostuff.py's.
_base_ = [
    '../_base_/models/coseg_xatten_vit-b16.py',
    '../_base_/datasets/coco-stuff164k_center-crop-224.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_cosine_100e.py',
]
train_dataloader = dict(batch_size=8, num_workers=4)
# batch 32 = 8 per GPU x 4 GPUs; mmengine rescales the LR if another total is used.
auto_scale_lr = dict(enable=False, base_batch_size=32)
log_processor = dict(by_epoch=True)
# COCO-Stuff's 171 classes as natural prompts ("brick wall", not "wall-brick"), for training
# and testing; mmseg's inference APIs read the test vocabulary from here too.
model = dict(vocabulary='coco_stuff', test_vocabulary='coco_stuff')
