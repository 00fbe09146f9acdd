# 16-bit label maps (ids above 255, ignore index 65535): their loader, and the model's side of
# them (labels padded with and ignored at 65535). The datasets that use such maps inherit this;
# configs that test on them write model = dict(_base_.uint16_ignore, ...).
test_annotations = dict(type='LoadUInt16Annotations', ignore_index=65535)
uint16_ignore = dict(
    data_preprocessor=dict(seg_pad_val=65535), decode_head=dict(ignore_index=65535))
