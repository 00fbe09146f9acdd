# COCO-Stuff-164k (171 classes, natural names: ./coco_stuff164k.py) with the paper's input sizes:
# for training, the shortest edge resized to 224 and the central 224 x 224 crop (deterministic); for
# testing, the image resized to fit 896 x 224, aspect ratio kept. The per-GPU batch is set by the
# configs that use this file.
_base_ = ['./coco_stuff164k.py']
crop_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # Centre square crop resized to 224: shortest edge to 224, then the central 224 x 224.
    dict(type='ResizeShortestEdge', scale=224, max_size=100000),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(896, 224), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    sampler=dict(type='DefaultSampler', shuffle=True), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
