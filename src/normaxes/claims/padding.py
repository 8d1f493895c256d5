"""The padding chapter's claims: statistics over T see the padding unless a mask keeps it out."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import data, load_keras, moments, on_channels_first, standardize, to_numpy
from ..book.ledger import claim
from ..chapters.padding import (
    TinyFeatureEncoder,
    hf_feature_encoder,
    hf_wav2vec2,
    keras_batch,
    pad_images,
    pad_sequences,
    padded_batches,
    padded_pair,
    plain_masked,
    real_frames,
    real_pixels,
    tiny_padded,
    toy_waveform,
    train_bn,
    two_images,
    two_sequences,
    unpack,
)
from ..running import running_update

CH = "padding"


# --- the worked example ---------------------------------------------------------------------------

@claim("padded-tiny-by-hand", chapter=CH, layout="[B,T,F]",
       statement="On the tiny sequence whose second sequence keeps 2 of its 3 frames, the masked "
                 "statistics over T of that sequence are those of its two real frames (4, 0) and "
                 "(5, 9), worked out by hand: means 9/2 and 9/2, variances 1/4 and 81/4.",
       left='moments(x, "B T F", over="T", mask=mask) of sequence 2',
       right="the fractions written out by hand")
def _():
    x, mask = tiny_padded()  # x[1, 2] = (0, 0) is padding; mask [B, T, 1]
    mu, var, _ = moments(x, "B T F", over="T", mask=mask)
    return np.stack([mu[1, 0], var[1, 0]]), np.array([[9 / 2, 9 / 2], [1 / 4, 81 / 4]])


@claim("masked-plain-equals-standardize", chapter=CH, layout="[B,T,F]",
       statement="Masked standardize equals masked statistics written in plain PyTorch (a mean "
                 "and a variance weighted by the mask, 0 at padding) for Batch, Group (G = 2) and "
                 "Instance Norm on a padded batch, padded entries included.",
       left="standardize(..., mask=mask): BN, GN, IN, stacked",
       right="plain_masked(x, mask, dims): BN, GN, IN, stacked")
def _():
    x, mask = pad_sequences(list(two_sequences()))  # [2, 30, 8], mask [2, 30, 1]
    ours = [standardize(x, "B T F", over="B T", mask=mask),
            standardize(x, "B T (G Fg)", over="T Fg", G=2, mask=mask),
            standardize(x, "B T F", over="T", mask=mask)]
    gn = plain_masked(x.reshape(2, 30, 2, 4), mask[..., None], (1, 3))  # G = 2 groups of 4
    gn = gn.reshape(2, 30, 8)
    plain = [plain_masked(x, mask, (0, 1)), gn, plain_masked(x, mask, (1,))]
    return torch.stack(ours), torch.stack(plain)


# --- unmasked statistics see the padding ---------------------------------------------------------

@claim("bn-padding-changes-output", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Batch Norm over B and T on a zero-padded batch does not give the real frames "
                 "the output of Batch Norm on the real frames alone: the padded frames enter "
                 "the statistics.",
       left="F.batch_norm on the padded batch [B,F,T], real frames",
       right="F.batch_norm on the real frames packed [sum T_b, F]")
def _():
    a, b = two_sequences()
    x, mask = pad_sequences([a, b])  # a is padded with 10 zero frames
    padded = on_channels_first(lambda v: F.batch_norm(v, None, None, training=True), x)
    packed = F.batch_norm(real_frames(x, mask), None, None, training=True)
    return real_frames(padded, mask), packed


@claim("gn-padding-changes-output", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Group Norm (over T and the features of a group) gives a sequence another "
                 "output when it is zero-padded in a batch than when it runs alone.",
       left="F.group_norm on the padded batch, sequence a", right="F.group_norm on a alone")
def _():
    a, b = two_sequences()
    x, _ = pad_sequences([a, b])
    padded = on_channels_first(lambda v: F.group_norm(v, 2), x)[0, :20]
    alone = on_channels_first(lambda v: F.group_norm(v, 2), a[None])[0]
    return padded, alone


@claim("in-padding-changes-output", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Instance Norm (over T) gives a sequence another output when it is zero-padded "
                 "in a batch than when it runs alone.",
       left="F.instance_norm on the padded batch, sequence a", right="F.instance_norm on a alone")
def _():
    a, b = two_sequences()
    x, _ = pad_sequences([a, b])
    padded = on_channels_first(F.instance_norm, x)[0, :20]
    alone = on_channels_first(F.instance_norm, a[None])[0]
    return padded, alone


@claim("zero-padding-scales-stats", chapter=CH, layout="[B,T,F]",
       statement="Zero padding from T_b to T frames turns the statistics over T of a sequence "
                 "(μ, σ²) into μ' = rμ and σ'² = r(σ² + μ²) − (rμ)², with r = T_b / T.",
       left="moments over T of a (20 frames) zero-padded to 50",
       right="the formula, from the moments of a alone")
def _():
    a, _ = two_sequences()  # 20 frames
    x, _ = pad_sequences([a], 50)  # 30 zero frames appended
    mu_p, var_p, _ = moments(x, "B T F", "T")
    mu, var, _ = moments(a[None], "B T F", "T")
    r = 20 / 50
    return torch.cat([mu_p, var_p]), torch.cat([r * mu, r * (var + mu**2) - (r * mu) ** 2])


@claim("ln-ignores-padding", chapter=CH, layout="[B,T,F]",
       statement="Per-frame Layer Norm (over F) gives the real frames the same output, padded "
                 "or alone: no statistic crosses frames.",
       left="F.layer_norm on the padded batch, sequence a", right="F.layer_norm on a alone")
def _():
    a, b = two_sequences()
    x, _ = pad_sequences([a, b])
    return F.layer_norm(x, (8,))[0, :20], F.layer_norm(a, (8,))


# --- masked statistics ---------------------------------------------------------------------------

@claim("masked-bn-equals-packed-torch", chapter=CH, layout="[B,T,F]",
       statement="Masked Batch Norm (standardize over B and T with the length mask) equals "
                 "PyTorch's Batch Norm on the real frames packed into [sum T_b, F], and is 0 at "
                 "the padded frames.",
       left='standardize over "B T", mask, every frame',
       right="F.batch_norm on the packed real frames, unpacked (0 at padding)")
def _():
    a, b = two_sequences()
    x, mask = pad_sequences([a, b])
    ours = standardize(x, "B T F", over="B T", mask=mask)
    packed = F.batch_norm(real_frames(x, mask), None, None, training=True)
    return ours, unpack(packed, mask)


@claim("masked-gn-equals-alone-torch", chapter=CH, layout="[B,T,F]",
       statement="Masked Group Norm gives every sequence of a padded batch the output PyTorch's "
                 "Group Norm gives it alone, unpadded, on [1, F, T_b], and 0 at its padded "
                 "frames.",
       left='standardize "B T (G Fg)" over "T Fg", G=2, mask, every frame',
       right="F.group_norm(2) on each sequence alone, padded with 0")
def _():
    a, b = two_sequences()
    x, mask = pad_sequences([a, b])
    ours = standardize(x, "B T (G Fg)", over="T Fg", G=2, mask=mask)
    alone = [on_channels_first(lambda v: F.group_norm(v, 2), s[None])[0] for s in (a, b)]
    return ours, pad_sequences(alone)[0]


@claim("masked-in-equals-alone-torch", chapter=CH, layout="[B,T,F]",
       statement="Masked Instance Norm gives every sequence of a padded batch the output "
                 "PyTorch's Instance Norm gives it alone, unpadded, on [1, F, T_b], and 0 at its "
                 "padded frames.",
       left='standardize over "T", mask, every frame',
       right="F.instance_norm on each sequence alone, padded with 0")
def _():
    a, b = two_sequences()
    x, mask = pad_sequences([a, b])
    ours = standardize(x, "B T F", over="T", mask=mask)
    alone = [on_channels_first(F.instance_norm, s[None])[0] for s in (a, b)]
    return ours, pad_sequences(alone)[0]


@claim("masked-ignores-padding", chapter=CH, layout="[B,T,F]",
       statement="With the mask, neither the amount nor the content of the padding changes the "
                 "output of Batch, Group or Instance Norm: the same at real frames, 0 at every "
                 "padded one.",
       left="BN, GN, IN with mask: 10 frames of zero padding (T = 30), output padded with 0 "
            "to T = 45",
       right="the same: 25 frames of padding filled with 100 (T = 45)")
def _():
    a, b = two_sequences()
    sides = []
    for T, value in ((30, 0.0), (45, 100.0)):
        x, mask = pad_sequences([a, b], T, value=value)
        y = torch.stack([standardize(x, "B T F", over="B T", mask=mask),
                         standardize(x, "B T (G Fg)", over="T Fg", G=2, mask=mask),
                         standardize(x, "B T F", over="T", mask=mask)])  # [3, B, T, F]
        sides.append(F.pad(y, (0, 0, 0, 45 - T)))  # 0 after frame T
    return sides


# --- Keras: BatchNormalization takes a mask, GroupNormalization passes it on ---------------------

@claim("keras-bn-mask-equals-masked", chapter=CH, layout="[B,T,F]",
       statement="Keras' BatchNormalization called with mask= in training takes its statistics "
                 "over the real frames only, and normalizes every frame with them, the padded "
                 "ones included (their output is not 0).",
       left="keras BatchNormalization()(x, training=True, mask=mask[..., 0]), every frame",
       right="(x - mu) / sqrt(var + 1e-3), mu and var of the real frames (moments with the mask)")
def _():
    x, mask = keras_batch()  # float32, zero-padded; mask [B, T, 1]
    bn = load_keras().layers.BatchNormalization()  # epsilon 1e-3
    y = bn(x, training=True, mask=mask[..., 0])  # Keras wants its mask as [B, T]
    mu, var, _ = moments(x, "B T F", over="B T", mask=mask)  # the real frames only
    return to_numpy(y), (x - mu) / np.sqrt(var + 1e-3)


@claim("keras-bn-moving-stats-masked", chapter=CH, layout="[F]",
       statement="Its moving statistics are updated with the real frames only (Keras' convention: "
                 "momentum 0.99 on the old value, biased variance).",
       left="keras BatchNormalization moving_mean, moving_variance after one masked step",
       right='running_update(..., convention="keras", mask=mask)')
def _():
    x, mask = keras_batch()
    bn = load_keras().layers.BatchNormalization()
    bn(x, training=True, mask=mask[..., 0])
    init = np.zeros(8, np.float32), np.ones(8, np.float32)  # Keras' initial moving stats
    ours = running_update(*init, x, "B T F", "B T", momentum=0.99, convention="keras",
                          mask=mask)
    moving = [to_numpy(bn.moving_mean), to_numpy(bn.moving_variance)]
    return np.concatenate(moving), np.concatenate(ours)


@claim("keras-gn-ignores-mask", chapter=CH, layout="[B,T,F]",
       statement="Keras' GroupNormalization behind a Masking layer receives the mask and passes "
                 "it on (a BatchNormalization after it, in the same model, uses it), but does not "
                 "use it: its own output is the unmasked Group Norm, padding included.",
       left="keras Model: Masking(0.0) -> GroupNormalization(groups=2) -> BatchNormalization, "
            "both outputs, training=True",
       right="standardize over T F, G=2, eps=1e-3, no mask; then Batch Norm with the statistics "
             "of its real frames")
def _():
    x, mask = keras_batch()
    k = load_keras()
    inp = k.Input(x.shape[1:])
    gn = k.layers.GroupNormalization(groups=2)(k.layers.Masking(0.0)(inp))
    bn = k.layers.BatchNormalization()(gn)  # uses a mask if one reaches it
    g, y = (to_numpy(v) for v in k.Model(inp, [gn, bn])(x, training=True))
    unmasked = standardize(x, "B T (G Fg)", over="T Fg", G=2, eps=1e-3)  # padding included
    mu, var, _ = moments(g, "B T F", over="B T", mask=mask)  # real frames of the GN output
    return np.stack([g, y]), np.stack([unmasked, (g - mu) / np.sqrt(var + 1e-3)])


@claim("keras-masking-reaches-bn", chapter=CH, layout="[B,T,F]",
       statement="Behind the same Masking layer, Keras' BatchNormalization receives the mask and "
                 "uses it: masked Batch Norm over B and T.",
       left="keras Model: Masking(0.0) -> BatchNormalization, training=True, real frames",
       right='standardize over "B T", mask, eps=1e-3')
def _():
    x, mask = keras_batch()
    k = load_keras()
    inp = k.Input(x.shape[1:])
    model = k.Model(inp, k.layers.BatchNormalization()(k.layers.Masking(0.0)(inp)))
    y = to_numpy(model(x, training=True))
    ours = standardize(x, "B T F", over="B T", eps=1e-3, mask=mask)
    return real_frames(y, mask), real_frames(ours, mask)


# --- Batch Norm in training: masked running statistics -------------------------------------------

@claim("masked-bn-train-equals-bn1d", chapter=CH, layout="[B,T,F]",
       statement="MaskedBatchNorm1d in training mode gives the real frames of a padded batch the "
                 "output of nn.BatchNorm1d on the packed real frames, step after step, and 0 at "
                 "the padded frames.",
       left="MaskedBatchNorm1d(x, mask), every frame, 3 steps",
       right="nn.BatchNorm1d on the packed real frames, unpacked (0 at padding), 3 steps")
def _():
    _, _, outs = train_bn(packed=True)  # per step: (ours, nn.BatchNorm1d unpacked)
    return torch.cat([o.flatten() for o, _ in outs]), torch.cat([r.flatten() for _, r in outs])


@claim("masked-bn-running-equals-bn1d", chapter=CH, layout="[F]",
       statement="After the same steps, MaskedBatchNorm1d holds the running mean and running "
                 "(unbiased) variance of nn.BatchNorm1d trained on the packed real frames.",
       left="MaskedBatchNorm1d running_mean, running_var",
       right="nn.BatchNorm1d (packed real frames) running_mean, running_var")
def _():
    ours, ref, _ = train_bn(packed=True)
    return (torch.cat([ours.running_mean, ours.running_var]),
            torch.cat([ref.running_mean, ref.running_var]))


@claim("masked-bn-eval-equals-bn1d", chapter=CH, layout="[B,T,F]",
       statement="In eval mode, MaskedBatchNorm1d and nn.BatchNorm1d (trained on the packed real "
                 "frames) give the real frames the same output; MaskedBatchNorm1d gives 0 at the "
                 "padded frames.",
       left="MaskedBatchNorm1d.eval()(x, mask), every frame",
       right="nn.BatchNorm1d.eval() on the packed real frames, unpacked (0 at padding)")
def _():
    ours, ref, _ = train_bn(packed=True)
    x, mask = padded_batches(1, seed=40)[0]  # new data
    with torch.no_grad():
        y, packed = ours.eval()(x, mask), ref.eval()(real_frames(x, mask))
    return y, unpack(packed, mask)


@claim("bn1d-running-stats-polluted", chapter=CH, layout="[F]", expect="differ",
       statement="nn.BatchNorm1d trained on the zero-padded batches keeps other running "
                 "statistics than on the real frames: the padding is averaged in.",
       left="nn.BatchNorm1d on the padded batches [B,F,T]: running_mean, running_var",
       right="nn.BatchNorm1d on the packed real frames: running_mean, running_var")
def _():
    _, polluted, _ = train_bn(packed=False)
    _, clean, _ = train_bn(packed=True)
    return (torch.cat([polluted.running_mean, polluted.running_var]),
            torch.cat([clean.running_mean, clean.running_var]))


@claim("bn1d-polluted-eval-output", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="In eval mode the polluted running statistics change the output of every real "
                 "frame, even of a batch without any padding.",
       left="nn.BatchNorm1d trained on the padded batches, eval, on new real frames",
       right="nn.BatchNorm1d trained on the packed real frames, eval, on the same frames")
def _():
    _, polluted, _ = train_bn(packed=False)
    _, clean, _ = train_bn(packed=True)
    x, mask = padded_batches(1, seed=40)[0]  # new data
    frames = real_frames(x, mask)  # [sum T_b, F], no padding at all
    with torch.no_grad():
        y_polluted, y_clean = polluted.eval()(frames), clean.eval()(frames)
    return y_polluted, y_clean


# --- wav2vec 2.0's feature encoder in miniature --------------------------------------------------

@claim("w2v-groupnorm-is-instance-norm", chapter=CH, layout="[B,T,F]",
       statement="The GroupNorm of wav2vec 2.0's group mode, one group per channel, is Instance "
                 "Norm: statistics over T, per sequence and channel.",
       left="nn.GroupNorm(num_groups=F, num_channels=F) on [B,F,T]", right='standardize over "T"')
def _():
    x = torch.from_numpy(data.sequence(B=2, T=30, F=8, seed=13, dtype=np.float64))
    with torch.no_grad():
        gn = on_channels_first(torch.nn.GroupNorm(8, 8, dtype=torch.float64), x)
    return gn, standardize(x, "B T F", over="T")


@claim("w2v-group-mode-depends-on-padding", chapter=CH, layout="[B,samples] -> [B,T,C]",
       expect="differ",
       statement="In group mode, the frames of a waveform change when it is zero-padded to the "
                 "length of a longer waveform in its batch, although they see only real samples.",
       left='group mode, padded in a batch: the frames of the waveform alone',
       right="group mode on the waveform alone")
def _():
    alone, batch = padded_pair()
    enc = TinyFeatureEncoder("group", seed=0).double()
    n = enc.output_length(400)  # the frames that read only the 400 real samples
    with torch.no_grad():
        padded, by_itself = enc(batch)[0, :n], enc(alone)[0]
    return padded, by_itself


@claim("w2v-layer-mode-ignores-padding", chapter=CH, layout="[B,samples] -> [B,T,C]",
       statement="In layer mode, the frames whose receptive field lies in the real samples are "
                 "the same, padded in a batch or alone.",
       left="layer mode, padded in a batch: the frames of the waveform alone",
       right="layer mode on the waveform alone")
def _():
    alone, batch = padded_pair()
    enc = TinyFeatureEncoder("layer", seed=0).double()
    n = enc.output_length(400)
    with torch.no_grad():
        padded, by_itself = enc(batch)[0, :n], enc(alone)[0]
    return padded, by_itself


@claim("w2v-edge-frames-see-padding", chapter=CH, layout="[B,samples] -> [B,T,C]",
       expect="differ",
       statement="Even in layer mode, the frames after those, whose receptive field reaches into "
                 "the padding, change with the padding content.",
       left="layer mode, frames n.. of the padded waveform, zero padding",
       right="the same frames, padding filled with noise")
def _():
    _, batch = padded_pair()
    noisy = batch.clone()
    noisy[0, 400:] = torch.from_numpy(toy_waveform(240, seed=3, dtype=np.float64))
    enc = TinyFeatureEncoder("layer", seed=0).double()
    n = enc.output_length(400)
    with torch.no_grad():
        zeros, noise = enc(batch)[0, n:], enc(noisy)[0, n:]
    return zeros, noise


@claim("w2v-group-mode-masked", chapter=CH, layout="[B,samples] -> [B,T,C]",
       statement="Group mode with the per-channel statistics taken over the frames that see real "
                 "samples only (a mask) gives the frames of the waveform alone.",
       left="group mode, padded in a batch, lengths given: frames of the waveform",
       right="group mode on the waveform alone")
def _():
    alone, batch = padded_pair()
    enc = TinyFeatureEncoder("group", seed=0).double()
    n = enc.output_length(400)
    with torch.no_grad():
        masked, by_itself = enc(batch, lengths=[400, 640])[0, :n], enc(alone)[0]
    return masked, by_itself


@claim("w2v-tiny-is-hf-encoder", chapter=CH, layout="[B,samples] -> [B,T,C]",
       statement="TinyFeatureEncoder is Hugging Face's Wav2Vec2FeatureEncoder in miniature: "
                 "given its weights, the encoder transformers builds for the same three "
                 "convolutions gives the same frames, in both modes.",
       left="TinyFeatureEncoder(mode) on the padded batch, both modes",
       right="transformers' Wav2Vec2FeatureEncoder, same weights, both modes")
def _():
    _, batch = padded_pair()
    ours, hf = [], []
    with torch.no_grad():
        for mode in ("group", "layer"):
            tiny = TinyFeatureEncoder(mode, seed=0).double()
            ours.append(tiny(batch))  # [B, T, C]
            hf.append(hf_feature_encoder(tiny)(batch).transpose(1, 2))  # [B, C, T] -> [B, T, C]
    return torch.stack(ours), torch.stack(hf)


@claim("w2v-hf-group-mode-mask-no-remedy", chapter=CH, layout="[B,samples] -> [B,T,C]",
       expect="differ",
       statement="In Hugging Face's Wav2Vec2Model (small, random, group mode), attention_mask "
                 "does not help: the output frames of a waveform padded in a batch differ from "
                 "those of the waveform alone.",
       left="Wav2Vec2Model group mode, padded batch with attention_mask: the waveform's frames",
       right="the same model on the waveform alone")
def _():
    alone, batch = padded_pair()
    model = hf_wav2vec2("group", seed=0)
    mask = torch.ones(2, 640, dtype=torch.long)
    mask[0, 400:] = 0  # padding
    with torch.no_grad():
        by_itself = model(alone).last_hidden_state[0]  # [frames, hidden]
        padded = model(batch, attention_mask=mask).last_hidden_state[0, :len(by_itself)]
    return padded, by_itself


# --- images of different sizes -------------------------------------------------------------------

@claim("in-img-padding-changes-output", chapter=CH, layout="[N,C,H,W]", expect="differ",
       statement="Instance Norm (over H and W) changes the pixels of a small image zero-padded "
                 "into a batch of larger images.",
       left="F.instance_norm on the padded batch, the small image's pixels",
       right="F.instance_norm on the small image alone")
def _():
    x, _, small, _ = two_images()  # small: 3 x 4 pixels, padded to 5 x 5
    return F.instance_norm(x)[0, :, :3, :4], F.instance_norm(small[None])[0]


@claim("gn-img-padding-changes-output", chapter=CH, layout="[N,C,H,W]", expect="differ",
       statement="So does Group Norm (over a group of C, H and W).",
       left="F.group_norm(3) on the padded batch, the small image's pixels",
       right="F.group_norm(3) on the small image alone")
def _():
    x, _, small, _ = two_images()
    return F.group_norm(x, 3)[0, :, :3, :4], F.group_norm(small[None], 3)[0]


@claim("bn-img-padding-changes-output", chapter=CH, layout="[N,C,H,W]", expect="differ",
       statement="So does Batch Norm in training (over N, H and W): the padded pixels enter "
                 "its statistics too.",
       left="F.batch_norm on the padded batch, the real pixels",
       right="F.batch_norm on the real pixels packed into [pixels, C]")
def _():
    x, mask, _, _ = two_images()
    padded = F.batch_norm(x, None, None, training=True)
    packed = F.batch_norm(real_pixels(x, mask), None, None, training=True)
    return real_pixels(padded, mask), packed


@claim("masked-bn-img-equals-packed-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Masked Batch Norm, with a mask [N, 1, H, W], equals PyTorch's Batch Norm on "
                 "the real pixels packed into [pixels, C], and is 0 at the padded pixels.",
       left='standardize over "N H W", mask, every pixel',
       right="F.batch_norm on the real pixels packed, unpacked (0 at padding)")
def _():
    x, mask, _, _ = two_images()
    ours = standardize(x, "N C H W", over="N H W", mask=mask)
    packed = F.batch_norm(real_pixels(x, mask), None, None, training=True)
    return ours, unpack(packed, mask)


@claim("masked-in-img-equals-alone-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Masked Instance Norm, with a mask [N, 1, H, W], gives each image of a padded "
                 "batch the output of PyTorch's Instance Norm on the image alone, and 0 at the "
                 "padded pixels.",
       left='standardize over "H W", mask, every pixel',
       right="F.instance_norm on each image alone, padded with 0")
def _():
    x, mask, small, big = two_images()
    ours = standardize(x, "N C H W", over="H W", mask=mask)
    alone = [F.instance_norm(im[None])[0] for im in (small, big)]
    return ours, pad_images(alone)[0]


@claim("masked-gn-img-equals-alone-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Masked Group Norm gives each image of a padded batch the output of PyTorch's "
                 "Group Norm on the image alone, and 0 at the padded pixels.",
       left='standardize "N (G Cg) H W" over "Cg H W", G=3, mask, every pixel',
       right="F.group_norm(3) on each image alone, padded with 0")
def _():
    x, mask, small, big = two_images()
    ours = standardize(x, "N (G Cg) H W", over="Cg H W", G=3, mask=mask)
    alone = [F.group_norm(im[None], 3)[0] for im in (small, big)]
    return ours, pad_images(alone)[0]
