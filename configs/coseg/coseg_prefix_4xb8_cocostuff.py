# CoSeg-Prefix, COCO-Stuff-164k, the paper's recipe on 4 GPUs: total batch 32 = 4 x 8.
# Run with 4 processes (tools/dist_train.sh CONFIG 4); the same run as coseg_prefix_cocostuff.py.
_base_ = ['./coseg_prefix_cocostuff.py']
train_dataloader = dict(batch_size=8)
