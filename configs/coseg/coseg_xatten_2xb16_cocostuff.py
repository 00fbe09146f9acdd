# CoSeg-Xatten, COCO-Stuff-164k, the paper's recipe on 2 GPUs: total batch 32 = 2 x 16.
# Run with 2 processes (tools/dist_train.sh CONFIG 2); the LR is the paper's (base_batch_size 32).
_base_ = ['./coseg_xatten_cocostuff.py']
train_dataloader = dict(batch_size=16)
