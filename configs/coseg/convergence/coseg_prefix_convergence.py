# CoSeg-Prefix on the convergence benchmark (docs/convergence.md): a closed vocabulary of 12
# COCO-Stuff classes drawn as textured, occluding scenes in COCO-Stuff-164k's layout, and a
# tiny CLIP (8 px patches) whose text tower was trained to tell the class prompts apart. Both
# are made by tools/make_convergence_data.py under data/convergence/ (paths relative to the
# working directory). The model is the tiny demo's at 128 px, with a wider neck and decoder
# (docs/convergence.md: what each width buys). This is the paper's recipe (area-ranked
# targets); the other recipes of the comparison inherit this file.
_base_ = ['../../tiny/coseg_prefix_tiny_cocostuff.py']

convergence_clip = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='data/convergence/clip')
data_root = 'data/convergence/coco_stuff164k'
crop_size = (128, 128)
# The benchmark's classes, as the COCO-Stuff dataset names them (it maps their trainIds to
# 0..11) and as the model's vocabulary.
convergence_classes = ('person', 'bicycle', 'car', 'bird', 'cat', 'dog', 'grass', 'road', 'sea',
                       'sky', 'tree', 'brick wall')

model = dict(
    backbone=dict(image_size=128, patch_size=8, init_cfg=convergence_clip),
    text_encoder=dict(init_cfg=convergence_clip),
    neck=dict(num_slots=8, embed_dims=64),
    decode_head=dict(patch_size=8, channels=32),
    vocabulary=convergence_classes,
    test_vocabulary=convergence_classes)

# The scenes are drawn at 128 px; the Resize steps keep that size (the ablation of
# tools/benchmarks/benchmark_convergence.py lowers it).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=convergence_classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=convergence_classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 2000
optim_wrapper = dict(optimizer=dict(lr=2e-3))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters))
