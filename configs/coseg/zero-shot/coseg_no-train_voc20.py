# The no-training baseline, tested zero-shot on Pascal VOC 2012 val, 20 classes (background
# ignored).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_no-train_voc20.py
_base_ = ['../../_base_/zero-shot/no-train.py', '../../_base_/datasets/pascal_voc12_20cls.py']
model = dict(test_vocabulary='voc20')
test_pipeline = [*_base_.test_head, dict(type='LoadAnnotations'), *_base_.test_tail]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
