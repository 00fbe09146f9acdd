# COCO-Stuff-164k (171 classes): mmseg's dataset config, every split named with the natural
# class names of coseg_mmseg.datasets.vocabularies.COCO_STUFF ("brick wall", not "wall-brick").
_base_ = ['mmseg::_base_/datasets/coco-stuff164k.py']
dataset_type = 'COCOStuffNaturalDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = val_dataloader
