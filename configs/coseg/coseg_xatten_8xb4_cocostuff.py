# CoSeg-Xatten, COCO-Stuff-164k, the paper's recipe on 8 GPUs: total batch 32 = 8 x 4.
# Run with 8 processes (tools/dist_train.sh CONFIG 8); the LR is the paper's (base_batch_size 32).
_base_ = ['./coseg_xatten_cocostuff.py']
train_dataloader = dict(batch_size=4)
