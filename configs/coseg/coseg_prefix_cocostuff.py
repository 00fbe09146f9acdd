# CoSeg-Prefix trained on COCO-Stuff-164k (171 classes) with the paper's recipe:
# 224x224 centre crop, Adam, cosine LR 1e-4 -> 1e-6, batch 32 (4 GPUs x 8), 100 epochs.
_base_ = [
    '../_base_/models/coseg_prefix_vit-b16.py',
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
