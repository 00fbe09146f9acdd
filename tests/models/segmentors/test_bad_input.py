"""Bad input reaching the model: clear errors naming the file or value, or documented behaviour."""
import math

import pytest
import torch

from tests.models.segmentors.test_coseg import VOCAB, build_model, sample


def labelled(seg, path):
    s = sample(seg=seg)
    s.set_metainfo(dict(seg_map_path=path, img_path=path.replace('.png', '.jpg')))
    return s



def test_training_label_outside_vocabulary_names_the_file():
    model = build_model(vocabulary=VOCAB)
    model.train()
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[0, 0] = 7  # 3 classes in the vocabulary
    with pytest.raises(ValueError, match=r'ann/000000000042.png holds class ids \[7\] outside the '
                                         r'vocabulary of 3 classes'):
        model.loss(torch.randn(1, 3, 64, 64), [labelled(seg, 'ann/000000000042.png')])


def test_test_label_outside_vocabulary_names_the_file():
    model = build_model(test_vocabulary=VOCAB)
    model.eval()
    seg = torch.full((64, 64), 255, dtype=torch.long)
    seg[5, 5] = 3
    s = labelled(seg, 'ann/7.png')
    with pytest.raises(ValueError, match=r'ann/7.png holds class ids \[3\] outside the '
                                         r'vocabulary of 3'):
        with torch.no_grad():
            model.predict(torch.randn(1, 3, 64, 64), [s])


def test_all_ignore_label_map_gives_a_constant_loss_without_gradient():
    """docs/troubleshooting.md: no mask loss; the sequence contrast is log N, with no gradient."""
    model = build_model(vocabulary=VOCAB)
    model.train()
    seg = torch.full((64, 64), 255, dtype=torch.long)
    losses = model.loss(torch.randn(1, 3, 64, 64), [labelled(seg, 'a.png')])
    assert losses['decode.loss_coseg_mask'].item() == 0.0  # no valid pixel
    # every target is "unlabeled", so every row of the sequence contrast is uniform: log N
    assert losses['decode.loss_coseg_lang'].item() == pytest.approx(0.08 * math.log(4), rel=1e-5)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = [p.grad.abs().max().item() for p in model.parameters() if p.grad is not None]
    assert grads and max(grads) < 1e-6  # nothing is learnt from such an image


def test_more_classes_than_slots_keeps_the_largest():
    """Seven classes present, four slots: the loss is given class 0 (the largest) and, of the
    equal-area rest, the lowest ids 2, 3, 4, each with its own pixels as mask."""
    model = build_model(vocabulary=tuple(f'class {i}' for i in range(8)))  # N = 4 slots
    model.train()
    seg = torch.arange(8).repeat_interleave(8)[None].expand(64, -1).clone()  # 8 classes
    seg[:, :16] = 0  # class 0 the largest; class 1 gone
    seen = {}
    loss_forward = model.decode_head.loss_decode.forward

    def spy(mask_logits, target_masks, valid, slot_embeds, labels, vocab_embeds):
        seen.update(labels=labels, target_masks=target_masks)
        return loss_forward(mask_logits, target_masks, valid, slot_embeds, labels, vocab_embeds)

    model.decode_head.loss_decode.forward = spy
    losses = model.loss(torch.randn(1, 3, 64, 64), [labelled(seg, 'a.png')])
    assert seen['labels'].tolist() == [[0, 2, 3, 4]]
    for n, c in enumerate([0, 2, 3, 4]):
        assert torch.equal(seen['target_masks'][0, n], seg == c)
    assert all(torch.isfinite(v) for v in losses.values())


def test_nan_loss_stops_before_the_step_naming_the_images():
    model = build_model(vocabulary=VOCAB)
    model.train()
    seg = torch.zeros(64, 64, dtype=torch.long)
    with pytest.raises(FloatingPointError, match=r"decode.loss_coseg_mask is nan on the batch "
                                                 r"\['img/bad.jpg'\]"):
        model.loss(torch.full((1, 3, 64, 64), float('nan')), [
            labelled(seg, 'img/bad.png')])
