# The decode head and loss of the authors' released code (ToviTu/CoSeg_Detectron2; see
# docs/recipes.md), as options of FiLMCLIPSegHead and CoSegLoss. A config applies them with
# model = dict(decode_head={{_base_.authors_decode_head}}).
authors_decode_head = dict(
    # FiLM (shared film_mul / film_add) before every decoder block, not once as in CLIPSeg.
    film_layer=(0, 1, 2),
    # Activations read shallow to deep (blocks 3, 6, 9), GELU in the decoder MLPs and the
    # mask head, replicate padding in its 3x3 convolution.
    layer_order='shallow_first',
    decoder_act='gelu',
    mask_head_act='gelu',
    mask_head_padding='replicate',
    # Each pixel to the slot maximising mask x class probability, duplicates merged. The
    # authors label every pixel: the threshold on that product is only kept above 0 so that
    # pixels of "unlabeled" slots stay without a label.
    inference_rule='authors',
    mask_threshold=1e-6,
    # Slots named at the temperature of the loss below.
    naming_temperature=0.08,
    # BCE + 0.18 Dice (one over the batch) + 0.12 cross-entropy over the whole training
    # vocabulary at temperature 0.08.
    loss_decode=dict(
        type='CoSegLoss', contrast='vocabulary', lang_weight=0.12, temperature=0.08,
        dice_weight=0.18))
