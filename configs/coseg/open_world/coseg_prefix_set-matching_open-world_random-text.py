# Ablation: coseg_prefix_set-matching_open-world.py with the world CLIP's text tower left
# untrained (data/open_world/clip_random_text: the same image tower, random text weights), in
# training and test. Names then share nothing with the images: no transfer is expected.
_base_ = ['./coseg_prefix_set-matching_open-world.py']
model = dict(
    text_encoder=dict(init_cfg=dict(checkpoint='data/open_world/clip_random_text')))
