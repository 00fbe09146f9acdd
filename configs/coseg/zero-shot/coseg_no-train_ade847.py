# The no-training baseline, tested zero-shot on ADE20K-847 val (the full ADE20K release,
# 2000 images), all 847 classes (16-bit maps, ignore 65535).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_no-train_ade847.py
_base_ = ['../../_base_/zero-shot/no-train.py', '../../_base_/datasets/ade20k_847.py']
model = dict(_base_.uint16_ignore, test_vocabulary='ade20k_847')
test_pipeline = [*_base_.test_head, _base_.test_annotations, *_base_.test_tail]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
