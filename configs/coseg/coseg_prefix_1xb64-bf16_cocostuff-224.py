# coseg_prefix_1xb64-bf16_cocostuff.py reading a training set written once already resized and
# centre-cropped to 224 (tools/dataset_converters/preresize_coco_stuff.py, images as lossless
# PNG: the same tensors as resizing every epoch, for less work per image in the dataloader).
# The resize and crop stay in the pipeline: no-ops on the converted images, and the right result
# should the data root hold the original ones. Validation reads the original images.
_base_ = ['./coseg_prefix_1xb64-bf16_cocostuff.py']
train_dataloader = dict(
    num_workers=4,
    dataset=dict(data_root='data/coco_stuff164k_224', img_suffix='.png'))
