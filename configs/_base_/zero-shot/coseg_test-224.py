# CoSeg's test pipeline around a dataset's annotation loader: the image resized to fit
# 896 x 224, aspect ratio kept (the paper's test size). A config writes
# test_pipeline = [*_base_.test_head, <its dataset's annotation loader>, *_base_.test_tail].
test_head = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(896, 224), keep_ratio=True)]
test_tail = [dict(type='PackSegInputs')]
