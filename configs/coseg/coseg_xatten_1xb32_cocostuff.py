# CoSeg-Xatten, COCO-Stuff-164k, the paper's recipe on 1 GPU: total batch 32 = 1 x 32.
# Run with 1 process (tools/train.py); the LR is the paper's (base_batch_size 32).
_base_ = ['./coseg_xatten_cocostuff.py']
train_dataloader = dict(batch_size=32)
