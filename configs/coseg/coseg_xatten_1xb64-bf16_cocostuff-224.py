# coseg_xatten_1xb64-bf16_cocostuff.py reading the pre-resized training set of
# coseg_prefix_1xb64-bf16_cocostuff-224.py.
_base_ = ['./coseg_xatten_1xb64-bf16_cocostuff.py']
train_dataloader = dict(
    num_workers=4,
    dataset=dict(data_root='data/coco_stuff164k_224', img_suffix='.png'))
