# Pascal VOC 2012 val with its 20 object classes: mmseg's dataset base with a 20-class metainfo,
# so that mmseg maps "background" to 255 (ignored) and the classes to 0..19.
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']
metainfo = dict(
    classes=('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
             'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
             'sheep', 'sofa', 'train', 'tvmonitor'))
val_dataloader = dict(dataset=dict(metainfo=metainfo))
test_dataloader = val_dataloader
