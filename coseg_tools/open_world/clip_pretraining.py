"""A tiny CLIP of the open world, trained as CLIP is: both towers together, contrastively.

Image-caption pairs are drawn from the world (:mod:`.world`) over ALL classes, seen and
unseen alike (CLIP saw the web; the segmentation data do not): single-class images captioned
with a prompt template ("a photo of a red striped disc."), and small scenes whose caption
names every class present ("a picture of a blue dotted square and a red striped disc on green
wavy ground."). The loss is CLIP's symmetric InfoNCE with a learnable temperature
(``logit_scale``); pairs of a batch whose captions name the same classes count as positives of
each other (soft targets), since single-class images repeat within a batch.

No patch-level term is used: the patch tokens get their meaning only from the scene captions
and from sharing the towers' weights, as in CLIP; the dense floor of :mod:`.clip_report` says
how much local meaning that leaves.

The model is a HuggingFace ``CLIPModel`` of the convergence benchmark's tiny size (128 px,
8 px patches), saved with ``save_pretrained`` together with a ``CLIPTokenizer`` equal to the
open_clip tokenizer the plugin uses, so that the plugin reads it through
``CLIPPretrained(source='huggingface')``.
"""
import json
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import world

# Image normalisation of the plugin's CLIP configs (configs/_base_/models/
# clip_data_preprocessor.py), in RGB order on the 0-255 scale.
CLIP_MEAN = (122.7709383, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)
# Templates for one class (the first is FrozenCLIPTextEncoder's default) and for scenes.
SINGLE_TEMPLATES = ('a photo of a {}.', 'a picture of a {}.', 'a {} in the scene.',
                    'there is a {} here.', 'an image with a {}.', '{}')
SCENE_TEMPLATES = ('a photo of {}.', 'a picture of {}.', '{}', 'an image with {}.',
                   'there is {} here.')
# Token positions kept in training (more if a caption is longer; the world's longest has 36):
# the causal text tower reads each token from the ones before it only, so the pooled
# end-of-text embedding is the same as with the full 77 positions.
TRAIN_CONTEXT = 40
# What makes a saved CLIP; a saved one is reused only when all of these match.
DEFAULTS = dict(steps=300, batch_size=64, pool_size=3000, single_fraction=0.5,
                unlabeled_fraction=0.03, lr=2e-3, weight_decay=0.05, warmup=50)
# CoSeg appends this name to every vocabulary (its padding class); the CLIP learns it from
# images of the bare background (what scenes leave unlabelled).
UNLABELED = 'unlabeled'
FORMAT_VERSION = 1
RECORD = 'coseg_world.json'


def clip_config(image_size: int = world.SCENE_SIZE):
    """The HF ``CLIPConfig`` of the world's tiny CLIP (the convergence benchmark's sizes;
    another ``image_size`` only for the tests' fast runs)."""
    from transformers import CLIPConfig
    from coseg_tools.generators.convergence import CONVERGENCE_VISION
    from coseg_tools.generators.tiny_assets import TINY_PROJECTION_DIM, TINY_TEXT
    return CLIPConfig(text_config=TINY_TEXT,
                      vision_config=dict(CONVERGENCE_VISION, image_size=image_size),
                      projection_dim=TINY_PROJECTION_DIM)


def scene_caption(names: Sequence[str], rng: np.random.Generator) -> str:
    """A caption naming every class of a scene: its things in random order, "on" its stuff."""
    things = [n for n in names if not world.is_stuff(n)]
    stuff = [n for n in names if world.is_stuff(n)]
    things = [things[i] for i in rng.permutation(len(things))]
    stuff = [stuff[i] for i in rng.permutation(len(stuff))]
    text = ' and '.join(f'a {n}' for n in things)
    if stuff:
        text += (' on ' if things else '') + ' and '.join(stuff)
    template = SCENE_TEMPLATES[int(rng.integers(len(SCENE_TEMPLATES)))]
    return template.format(text)


def draw_pair(rng: np.random.Generator, single_fraction: float = 0.5,
              unlabeled_fraction: float = 0.03, classes: Sequence[str] = world.CLASSES,
              size: int = world.SCENE_SIZE) -> Tuple[np.ndarray, str, Tuple[int, ...]]:
    """One image-caption pair over all classes: RGB image (H, W, 3) uint8, caption, and the
    sorted global ids the caption names (equal ids: positives of each other; ``(-1, )`` for
    the bare background captioned "unlabeled")."""
    draw = rng.random()
    if draw < unlabeled_fraction:
        label = np.full((size, size), world.IGNORE_INDEX, np.uint8)
        template = SINGLE_TEMPLATES[int(rng.integers(len(SINGLE_TEMPLATES)))]
        return world.paint(label, rng, classes), template.format(UNLABELED), (-1, )
    if draw < unlabeled_fraction + single_fraction:
        cls = int(rng.integers(len(classes)))
        image, _ = world.draw_single(rng, cls, classes=classes, size=size)
        template = SINGLE_TEMPLATES[int(rng.integers(len(SINGLE_TEMPLATES)))]
        return image, template.format(classes[cls]), (cls, )
    stuff = [i for i, c in enumerate(classes) if world.is_stuff(c)]
    things = [i for i, c in enumerate(classes) if not world.is_stuff(c)]
    image, label = world.draw_scene(rng, stuff, things, max_things=3, size=size)
    present = tuple(int(c) for c in np.unique(label) if c != world.IGNORE_INDEX)
    return image, scene_caption([classes[c] for c in present], rng), present


def to_pixel_values(images: np.ndarray):
    """(N, H, W, 3) RGB uint8 -> (N, 3, H, W) float tensor, normalised as the configs do."""
    import torch
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def tokenize(texts: Sequence[str], context_length: int = 77):
    """CLIP's BPE tokens (open_clip's tokenizer, the plugin's): (T, context_length) long."""
    from open_clip.tokenizer import SimpleTokenizer
    return SimpleTokenizer(context_length=context_length)(list(texts))


def symmetric_info_nce(image_embeds, text_embeds, logit_scale, keys: Sequence[Tuple[int, ...]]):
    """CLIP's loss: cross-entropy of image->text and text->image similarities, averaged.

    Args:
        image_embeds: (B, D) image features (normalised here).
        text_embeds: (B, D) text features (normalised here).
        logit_scale: Scalar tensor, the log of the inverse temperature.
        keys: Per pair, what its caption names; pairs with equal keys are all positives
            (soft targets spread evenly over them).

    Returns:
        Scalar loss.
    """
    import torch
    import torch.nn.functional as F
    img = F.normalize(image_embeds, dim=-1)
    txt = F.normalize(text_embeds, dim=-1)
    logits = logit_scale.exp() * img @ txt.t()  # (B, B)
    same = torch.tensor([[a == b for b in keys] for a in keys], dtype=logits.dtype)
    targets = same / same.sum(1, keepdim=True)
    loss_i = -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()
    loss_t = -(targets.t() * F.log_softmax(logits.t(), dim=1)).sum(1).mean()
    return (loss_i + loss_t) / 2


def build_pool(count: int, seed: int, single_fraction: float, unlabeled_fraction: float,
               size: int = world.SCENE_SIZE
               ) -> Tuple[np.ndarray, List[str], List[Tuple[int, ...]]]:
    """``count`` pairs of :func:`draw_pair` from the stream ``[seed, 1]``."""
    rng = np.random.default_rng([seed, 1])
    images, captions, keys = [], [], []
    for _ in range(count):
        image, caption, key = draw_pair(rng, single_fraction, unlabeled_fraction, size=size)
        images.append(image)
        captions.append(caption)
        keys.append(key)
    return np.stack(images), captions, keys


def train_world_clip(*, seed: int = 0, steps: int = DEFAULTS['steps'],
                     batch_size: int = DEFAULTS['batch_size'],
                     pool_size: int = DEFAULTS['pool_size'],
                     single_fraction: float = DEFAULTS['single_fraction'],
                     unlabeled_fraction: float = DEFAULTS['unlabeled_fraction'],
                     lr: float = DEFAULTS['lr'], weight_decay: float = DEFAULTS['weight_decay'],
                     warmup: int = DEFAULTS['warmup'], image_size: int = world.SCENE_SIZE,
                     log: Optional[Callable[[str], None]] = None) -> Tuple[object, object, Dict]:
    """Train the world's CLIP from scratch; return (trained model, model with the initial
    random text tower, record).

    A pool of ``pool_size`` pairs is drawn once and sampled (with a random horizontal flip)
    for ``steps`` AdamW steps of ``batch_size`` (linear warm-up, cosine decay). Everything
    random follows ``seed``, so two runs give the same weights.
    """
    import copy

    import torch
    from transformers import CLIPModel
    start = time.time()
    torch.manual_seed(seed)
    model = CLIPModel(clip_config(image_size))
    random_text = copy.deepcopy(model)
    images, captions, keys = build_pool(pool_size, seed, single_fraction, unlabeled_fraction,
                                        image_size)
    tokens = tokenize(captions)
    tokens = tokens[:, :max(TRAIN_CONTEXT, int((tokens != 0).sum(1).max()))]
    drawn = time.time() - start
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and 'embedding' not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and 'embedding' not in n)]
    optimizer = torch.optim.AdamW([dict(params=decay, weight_decay=weight_decay),
                                   dict(params=rest, weight_decay=0.0)], lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(
        (s + 1) / warmup, 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps))))
    g = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for step in range(steps):
        idx = torch.randperm(pool_size, generator=g)[:batch_size]
        pixels = to_pixel_values(images[idx.numpy()])
        flip = torch.rand(batch_size, generator=g) < 0.5
        pixels[flip] = pixels[flip].flip(-1)
        out_img = model.get_image_features(pixel_values=pixels)
        out_txt = model.get_text_features(input_ids=tokens[idx])
        img = getattr(out_img, 'pooler_output', out_img)
        txt = getattr(out_txt, 'pooler_output', out_txt)
        loss = symmetric_info_nce(img, txt, model.logit_scale, [keys[i] for i in idx.tolist()])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, np.log(100))
        losses.append(loss.item())
        if log is not None and (step % 50 == 0 or step == steps - 1):
            log(f'clip step {step + 1}/{steps}: loss {loss.item():.3f} '
                f'scale {model.logit_scale.exp().item():.1f} ({time.time() - start:.0f} s)')
    model.eval()
    text_keys = [k for k in random_text.state_dict() if k.startswith('text_')]
    state = model.state_dict()
    state.update({k: v for k, v in random_text.state_dict().items() if k in text_keys})
    random_text.load_state_dict(state)
    random_text.eval()
    record = dict(format_version=FORMAT_VERSION, clip_seed=int(seed), steps=steps,
                  batch_size=batch_size, pool_size=pool_size, single_fraction=single_fraction,
                  unlabeled_fraction=unlabeled_fraction, lr=lr, weight_decay=weight_decay,
                  warmup=warmup, image_size=image_size, classes=list(world.CLASSES))
    stats = dict(first_loss=float(np.mean(losses[:10])), last_loss=float(np.mean(losses[-10:])),
                 draw_seconds=round(drawn, 1), train_seconds=round(time.time() - start, 1))
    return model, random_text, dict(record, stats=stats)


def save_tokenizer(out_dir: str) -> None:
    """Save a ``CLIPTokenizer`` built from open_clip's BPE files (the plugin's tokenizer):
    the same vocabulary, merges, special tokens and padding, so both give the same ids."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer
    bpe = SimpleTokenizer()
    specials = {'<start_of_text>': '<|startoftext|>', '<end_of_text>': '<|endoftext|>'}
    vocab = {specials.get(k, k): v for k, v in bpe.encoder.items()}
    merges = sorted(bpe.bpe_ranks, key=bpe.bpe_ranks.get)
    os.makedirs(out_dir, exist_ok=True)
    vocab_file = os.path.join(out_dir, 'vocab.json')
    merges_file = os.path.join(out_dir, 'merges.txt')
    with open(vocab_file, 'w') as f:
        json.dump(vocab, f)
    with open(merges_file, 'w') as f:
        f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))
    # open_clip pads with token 0 ('!'), as the LAION CLIPs on the hub do
    CLIPTokenizer(vocab_file, merges_file, pad_token='!').save_pretrained(out_dir)


def read_record(clip_dir: str) -> Optional[Dict]:
    """The parameters a saved world CLIP was made with (None: no record)."""
    path = os.path.join(clip_dir, RECORD)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def wanted_record(seed: int, **kwargs) -> Dict:
    """The record a CLIP made with these arguments carries (without its stats)."""
    args = dict(DEFAULTS, image_size=world.SCENE_SIZE)
    args.update(kwargs)
    return dict(format_version=FORMAT_VERSION, clip_seed=int(seed), **args,
                classes=list(world.CLASSES))


def save_world_clip(model, out_dir: str, record: Dict) -> str:
    """``save_pretrained`` the model and the tokenizer in ``out_dir``, then the record (last:
    a folder without it is incomplete)."""
    os.makedirs(out_dir, exist_ok=True)
    record_path = os.path.join(out_dir, RECORD)
    if os.path.exists(record_path):
        os.remove(record_path)
    model.save_pretrained(out_dir)
    save_tokenizer(out_dir)
    with open(record_path, 'w') as f:
        json.dump(record, f, indent=1)
    return out_dir


def make_world_clips(clip_dir: str, random_text_dir: str, *, seed: int = 0,
                     log: Optional[Callable[[str], None]] = None, **kwargs) -> Dict:
    """Train and save the world's CLIP and its random-text ablation; return the record."""
    model, random_text, record = train_world_clip(seed=seed, log=log, **kwargs)
    save_world_clip(model, clip_dir, record)
    save_world_clip(random_text, random_text_dir, dict(record, random_text_tower=True))
    return record
