# CoSeg-Prefix tested zero-shot: the model, mmseg's runtime and CoSeg's test steps
# (./coseg_test-224.py); each configs/coseg/zero-shot/coseg_prefix_*.py adds its dataset.
_base_ = ['../models/coseg_prefix_vit-b16.py', 'mmseg::_base_/default_runtime.py',
          './coseg_test-224.py']
