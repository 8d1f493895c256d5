"""The norms of real architectures: RMS normalization, and every row of the chapter's atlas."""

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from .. import affine, data, load_keras, moments, standardize
from ..book.ledger import claim
from ..chapters.architectures import (
    BIT_STD_CONV_EPS,
    LLAMA_NORM_EPS,
    GroupNorm32,
    MlCvnetsLayerNorm2D,
    PoolFormerGroupNorm,
    bf16_rms_norm,
    convnext_layer_norm,
    hf_module,
    llama_rms_norm,
    record,
    timm_layer_norm2d,
    timm_std_conv_weight,
    wav2vec2_model,
)

CH = "architectures"

# --- RMS normalization against PyTorch and Keras -------------------------------------------------

@claim("rms-seq-torch", chapter=CH, layout="[B,T,F]",
       statement="RMS normalization per frame is standardize over F without centering: "
                 "F.rms_norm and nn.RMSNorm give the same numbers.",
       left='standardize(x, "B T F", over="F", center=False) · w',
       right="F.rms_norm(x, (F,), w), nn.RMSNorm(F)")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=16, F=8, seed=15))
    w = torch.linspace(0.5, 2.0, 8)
    ours = standardize(x, "B T F", over="F", center=False, eps=1e-6) * w
    module = torch.nn.RMSNorm(8, eps=1e-6)
    with torch.no_grad():
        module.weight.copy_(w)
    theirs = torch.stack([F.rms_norm(x, (8,), w, eps=1e-6), module(x)])
    return torch.stack([ours, ours]), theirs


@claim("rms-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="On images, F.rms_norm over (C, H, W) is standardize over C H W without "
                 "centering.",
       left='standardize(x, "N C H W", over="C H W", center=False)',
       right="F.rms_norm(x, (C, H, W))")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=15))
    ours = standardize(x, "N C H W", over="C H W", center=False, eps=1e-6)
    return ours, F.rms_norm(x, (6, 5, 5), eps=1e-6)


@claim("rms-seq-keras", chapter=CH, layout="[B,T,F]",
       statement="Keras 3 RMSNormalization (axis=-1, epsilon=1e-6 by default) is standardize "
                 "over F without centering.",
       left='standardize(x, "B T F", over="F", center=False, eps=1e-6)',
       right="keras.layers.RMSNormalization()(x)")
def _():
    x = data.sequence(B=4, T=16, F=8, seed=15)
    layer = load_keras().layers.RMSNormalization()
    return standardize(x, "B T F", over="F", center=False, eps=1e-6), layer(x)


@claim("rms-differs-ln", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="RMS normalization is not Layer Norm: on frames whose mean is not 0 the "
                 "outputs differ.",
       left='standardize(x, "B T F", over="F", center=False)', right="F.layer_norm(x, (F,))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=16, F=8, seed=15))
    return standardize(x, "B T F", over="F", center=False), F.layer_norm(x, (8,))


@claim("rms-equals-ln-centered", chapter=CH, layout="[B,T,F]",
       statement="On frames whose mean is 0, RMS normalization and Layer Norm agree.",
       left='standardize(x0, "B T F", over="F", center=False)', right="F.layer_norm(x0, (F,))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=16, F=8, seed=15))
    x0 = x - x.mean(dim=-1, keepdim=True)  # every frame centred
    return standardize(x0, "B T F", over="F", center=False), F.layer_norm(x0, (8,))


@claim("keras-rms-scaling-is-not-rms", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Keras LayerNormalization(rms_scaling=True) is not RMS normalization.",
       left="keras LayerNormalization(rms_scaling=True, epsilon=1e-6)",
       right="keras RMSNormalization(epsilon=1e-6)")
def _():
    k, x = load_keras(), data.sequence(B=4, T=16, F=8, seed=15)
    with warnings.catch_warnings():  # Keras 3.15 deprecates rms_scaling with a warning
        warnings.simplefilter("ignore")
        scaled = k.layers.LayerNormalization(rms_scaling=True, epsilon=1e-6)(x)
    return scaled, k.layers.RMSNormalization(epsilon=1e-6)(x)


@claim("keras-rms-scaling-divides-by-std", chapter=CH, layout="[B,T,F]",
       statement="Keras LayerNormalization(rms_scaling=True) divides the uncentred x by the "
                 "standard deviation over F: x / sqrt(σ² + ε).",
       left="keras LayerNormalization(rms_scaling=True, epsilon=1e-6)",
       right='x / sqrt(var + 1e-6), var from moments(x, "B T F", over="F")')
def _():
    k, x = load_keras(), data.sequence(B=4, T=16, F=8, seed=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaled = k.layers.LayerNormalization(rms_scaling=True, epsilon=1e-6)(x)
    mean, var, count = moments(x, "B T F", over="F")
    return scaled, x / np.sqrt(var + 1e-6)


# --- eps and dtype --------------------------------------------------------------------------------

@claim("rmsnorm-eps-none-is-compute-eps", chapter=CH, layout="[B,T,F]", tol=0.0,
       statement="nn.RMSNorm(eps=None) adds the machine epsilon of the type it computes in: "
                 "torch.finfo(torch.float32).eps = 2^-23 for float16, bfloat16 and float32 "
                 "input, torch.finfo(torch.float64).eps = 2^-52 for float64.",
       left="nn.RMSNorm(F, eps=None)(x), x in float16, bfloat16, float32, float64",
       right="F.rms_norm(x, (F,), w, eps=2**-23), and eps=2**-52 for float64")
def _():
    x = torch.full((1, 1, 8), 2.0**-12)  # mean of squares 2^-24: eps is not negligible
    left, right = [], []
    for dtype, eps in [(torch.float16, 2.0**-23), (torch.bfloat16, 2.0**-23),
                       (torch.float32, 2.0**-23), (torch.float64, 2.0**-52)]:
        norm = torch.nn.RMSNorm(8, eps=None, dtype=dtype)  # weight 1
        with torch.no_grad():
            left.append(norm(x.to(dtype)).double())
            right.append(F.rms_norm(x.to(dtype), (8,), norm.weight, eps=eps).double())
    return torch.stack(left), torch.stack(right)


@claim("rmsnorm-eps-none-not-dtype-eps", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="In float16 and bfloat16, eps=None is not the input dtype's machine epsilon "
                 "(2^-10 and 2^-7).",
       left="F.rms_norm(x, (F,), eps=None), x in float16 and bfloat16",
       right="F.rms_norm(x, (F,), eps=torch.finfo(x.dtype).eps)")
def _():
    x = torch.full((1, 1, 8), 2.0**-12)
    halves = [x.half(), x.bfloat16()]
    left = [F.rms_norm(h, (8,)).double() for h in halves]
    right = [F.rms_norm(h, (8,), eps=torch.finfo(h.dtype).eps).double() for h in halves]
    return torch.stack(left), torch.stack(right)


@claim("llama-upcast-rounds-once", chapter=CH, layout="[B,T,F]", tol=0.0,
       statement="On bfloat16 input, LLaMA's RMSNorm (computed in float32, cast back), Meta's "
                 "code and transformers' LlamaRMSNorm alike, gives the float64 result rounded "
                 "once to bfloat16 (weight 1), in every entry.",
       left="llama_rms_norm(x) (transcription), LlamaRMSNorm (transformers), x in bfloat16",
       right='standardize(x.double(), "B T F", over="F", center=False).bfloat16()')
def _():
    x = torch.from_numpy(data.sequence(B=2, T=8, F=512, seed=15)).bfloat16()
    w = torch.ones(512, dtype=torch.bfloat16)
    hf = hf_module("llama", hidden_size=512, rms_norm_eps=1e-5)[1].bfloat16()
    with torch.no_grad():
        hf.weight.fill_(1.0)
        ours = [llama_rms_norm(x, w, eps=1e-5), hf(x)]
    exact = standardize(x.double(), "B T F", over="F", center=False, eps=1e-5)
    return torch.stack(ours).double(), torch.stack([exact, exact]).bfloat16().double()


@claim("bf16-rms-differs", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=1e-2,
       statement="The same lines computed in bfloat16 throughout do not give the float64 "
                 "result rounded once.",
       left="bf16_rms_norm(x): every operation in bfloat16",
       right='standardize(x.double(), "B T F", over="F", center=False).bfloat16()')
def _():
    x = torch.from_numpy(data.sequence(B=2, T=8, F=512, seed=15)).bfloat16()
    w = torch.ones(512, dtype=torch.bfloat16)
    exact = standardize(x.double(), "B T F", over="F", center=False, eps=1e-5)
    return bf16_rms_norm(x, w, eps=1e-5).double(), exact.bfloat16().double()


# --- the atlas: one claim per row ----------------------------------------------------------------

@claim("arch-convnext-stem-is-ln-per-pixel", chapter=CH, layout="[N,C,H,W]",
       statement="ConvNeXt's LayerNorm(data_format='channels_first') pools C only, at every "
                 "pixel: the transformers port and our transcription of the original both equal "
                 "standardize over C, eps 1e-6, with a weight and bias per channel.",
       left="ConvNextLayerNorm (transformers), convnext_layer_norm (transcription)",
       right='affine(standardize(x, "N C H W", over="C", eps=1e-6), "N C H W", "C", w, b)')
def _():
    stem, norm = hf_module("convnext-stem")
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "N C H W", over="C", eps=1e-6), "N C H W", "C", w, b)
    original = convnext_layer_norm(x, w, b, eps=1e-6, data_format="channels_first")
    return torch.stack([norm(x), original]), torch.stack([ours, ours])


@claim("arch-convnext-block-is-ln-per-pixel", chapter=CH, layout="[N,H,W,C]",
       statement="In a ConvNeXt block the LayerNorm runs on the channels-last tensor: the same "
                 "per-pixel statistics over C.",
       left="ConvNextLayer.layernorm (transformers), convnext_layer_norm channels_last",
       right='affine(standardize(x, "N H W C", over="C", eps=1e-6), "N H W C", "C", w, b)')
def _():
    block, norm = hf_module("convnext-block")
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15, dtype=np.float64))
    x = x.permute(0, 2, 3, 1)  # N H W C, as the block permutes it
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "N H W C", over="C", eps=1e-6), "N H W C", "C", w, b)
    return torch.stack([norm(x), convnext_layer_norm(x, w, b)]), torch.stack([ours, ours])


@claim("arch-convnext-ln-differs-gn1", chapter=CH, layout="[N,C,H,W]", expect="differ",
       statement="ConvNeXt's channels-first LayerNorm is not GroupNorm(1, C).",
       left="ConvNextLayerNorm, channels_first (transformers)",
       right="nn.GroupNorm(1, C, eps=1e-6), same weight and bias")
def _():
    stem, norm = hf_module("convnext-stem")
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15))
    return norm(x), F.group_norm(x, 1, norm.weight, norm.bias, eps=1e-6)


@claim("arch-timm-layernorm2d-is-ln-per-pixel", chapter=CH, layout="[N,C,H,W]",
       statement="timm's LayerNorm2d (our transcription: permute, F.layer_norm, permute back) "
                 "equals ConvNeXt's channels-first LayerNorm and standardize over C.",
       left="timm_layer_norm2d, convnext_layer_norm channels_first (transcriptions)",
       right='affine(standardize(x, "N C H W", over="C", eps=1e-6), "N C H W", "C", w, b)')
def _():
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15, dtype=np.float64))
    w, b = torch.linspace(0.5, 2, 8, dtype=torch.float64), torch.linspace(-1, 1, 8).double()
    ours = affine(standardize(x, "N C H W", over="C", eps=1e-6), "N C H W", "C", w, b)
    theirs = [timm_layer_norm2d(x, w, b),
              convnext_layer_norm(x, w, b, data_format="channels_first")]
    return torch.stack(theirs), torch.stack([ours, ours])


@claim("arch-poolformer-is-gn1", chapter=CH, layout="[N,C,H,W]",
       statement="PoolFormer's default norm is GroupNorm with one group: statistics over C, H "
                 "and W, a weight and bias per channel (the transformers port and our "
                 "transcription of the original).",
       left="PoolFormerGroupNorm (transformers), PoolFormerGroupNorm (transcription)",
       right='affine(standardize(x, "N C H W", over="C H W"), "N C H W", "C", w, b)')
def _():
    layer, norm = hf_module("poolformer")
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    original = PoolFormerGroupNorm(8).double()
    with torch.no_grad():
        original.weight.copy_(w), original.bias.copy_(b)
    ours = affine(standardize(x, "N C H W", over="C H W"), "N C H W", "C", w, b)
    return torch.stack([norm(x), original(x)]), torch.stack([ours, ours])


@claim("arch-poolformer-differs-ln-per-pixel", chapter=CH, layout="[N,C,H,W]",
       expect="differ",
       statement="PoolFormer's GroupNorm is not the per-pixel LayerNorm of transformers "
                 "(its LayerNormChannel, ConvNeXt's channels-first LayerNorm).",
       left='standardize(x, "N C H W", over="C H W")',
       right='standardize(x, "N C H W", over="C")')
def _():
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15))
    return standardize(x, "N C H W", over="C H W"), standardize(x, "N C H W", over="C")


@claim("arch-mlcvnets-layernorm2d-is-gn1", chapter=CH, layout="[N,C,H,W]",
       statement="MobileViTv2's 'layer_norm_2d' is GroupNorm(1, C): statistics over C, H and W, "
                 "a weight and bias per channel (ml-cvnets' LayerNorm2D_NCHW, our "
                 "transcription, and transformers' MobileViTV2TransformerLayer.layernorm_before).",
       left="layernorm_before (transformers), MlCvnetsLayerNorm2D(C) (transcription)",
       right='affine(standardize(x, "N C H W", over="C H W"), "N C H W", "C", w, b)')
def _():
    layer, norm = hf_module("mobilevitv2")
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    original = MlCvnetsLayerNorm2D(8).double()
    with torch.no_grad():
        original.weight.copy_(w), original.bias.copy_(b)
    ours = affine(standardize(x, "N C H W", over="C H W"), "N C H W", "C", w, b)
    return torch.stack([norm(x), original(x)]), torch.stack([ours, ours])


@claim("arch-vit-ln-per-token", chapter=CH, layout="[B,T,F]",
       statement="ViT's pre-LN nn.LayerNorm (ViTLayer.layernorm_before), "
                 "built by transformers from its default config, is standardize over F "
                 "with eps 1e-12, then a weight and bias per feature.",
       left="vit norm (transformers), float64",
       right='affine(standardize(x, "B T F", over="F", eps=1e-12), "B T F", "F", w, b)')
def _():
    layer, norm = hf_module("vit")
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B T F", over="F", eps=1e-12), "B T F", "F", w, b)
    return norm(x), ours


@claim("arch-swin-ln-per-token", chapter=CH, layout="[B,T,F]",
       statement="Swin's pre-LN nn.LayerNorm (SwinLayer.layernorm_before), "
                 "built by transformers from its default config, is standardize over F "
                 "with eps 1e-5, then a weight and bias per feature.",
       left="swin norm (transformers), float64",
       right='affine(standardize(x, "B T F", over="F", eps=1e-5), "B T F", "F", w, b)')
def _():
    layer, norm = hf_module("swin")
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B T F", over="F", eps=1e-5), "B T F", "F", w, b)
    return norm(x), ours


@claim("arch-bert-ln-per-token", chapter=CH, layout="[B,T,F]",
       statement="BERT's post-LN LayerNorm (BertSelfOutput.LayerNorm), "
                 "built by transformers from its default config, is standardize over F "
                 "with eps 1e-12, then a weight and bias per feature.",
       left="bert norm (transformers), float64",
       right='affine(standardize(x, "B T F", over="F", eps=1e-12), "B T F", "F", w, b)')
def _():
    layer, norm = hf_module("bert")
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B T F", over="F", eps=1e-12), "B T F", "F", w, b)
    return norm(x), ours


@claim("arch-whisper-ln-per-frame", chapter=CH, layout="[B,T,F]",
       statement="Whisper's pre-LN nn.LayerNorm (WhisperEncoderLayer.self_attn_layer_norm), "
                 "built by transformers from its default config, is standardize over F "
                 "with eps 1e-5, then a weight and bias per feature.",
       left="whisper norm (transformers), float64",
       right='affine(standardize(x, "B T F", over="F", eps=1e-5), "B T F", "F", w, b)')
def _():
    layer, norm = hf_module("whisper")
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B T F", over="F", eps=1e-5), "B T F", "F", w, b)
    return norm(x), ours


@claim("arch-wav2vec2-encoder-ln-per-frame", chapter=CH, layout="[B,T,F]",
       statement="wav2vec 2.0's post-LN nn.LayerNorm (Wav2Vec2EncoderLayer.layer_norm), "
                 "built by transformers from its default config, is standardize over F "
                 "with eps 1e-5, then a weight and bias per feature.",
       left="wav2vec2-encoder norm (transformers), float64",
       right='affine(standardize(x, "B T F", over="F", eps=1e-5), "B T F", "F", w, b)')
def _():
    layer, norm = hf_module("wav2vec2-encoder")
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15, dtype=np.float64))
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B T F", over="F", eps=1e-5), "B T F", "F", w, b)
    return norm(x), ours


@claim("arch-wav2vec2-base-conv-norms", chapter=CH, layout="[B,F,T]",
       statement="wav2vec 2.0's base configuration (feat_extract_norm='group'): the first conv "
                 "of the feature encoder ends in GroupNorm(C, C), one group per channel, "
                 "statistics over time: Instance Norm; the other convs have no norm.",
       left="Wav2Vec2Model feature encoder (transformers), base configuration",
       right="each conv; Instance Norm after the first only; GELU")
def _():
    model = wav2vec2_model("base").double()
    wave = torch.from_numpy(data.sequence(B=2, T=1, F=32, seed=15, dtype=np.float64))[:, 0]
    h = wave[:, None]  # [B, 1, samples]
    for k, layer in enumerate(model.feature_extractor.conv_layers):
        h = layer.conv(h)  # [B, F, T]
        if k == 0:
            norm = layer.layer_norm
            h = affine(standardize(h, "B F T", over="T"), "B F T", "F", norm.weight, norm.bias)
        h = F.gelu(h)
    return model.feature_extractor(wave), h


@claim("arch-wav2vec2-large-conv-norms", chapter=CH, layout="[B,F,T]",
       statement="wav2vec 2.0's large configuration (feat_extract_norm='layer'): every conv of "
                 "the feature encoder ends in a per-frame Layer Norm over its channels.",
       left="Wav2Vec2Model feature encoder (transformers), large configuration",
       right="each conv, then per-frame Layer Norm over F, then GELU")
def _():
    model = wav2vec2_model("large").double()
    wave = torch.from_numpy(data.sequence(B=2, T=1, F=32, seed=15, dtype=np.float64))[:, 0]
    h = wave[:, None]  # [B, 1, samples]
    for layer in model.feature_extractor.conv_layers:
        norm = layer.layer_norm
        h = affine(standardize(layer.conv(h), "B F T", over="F", eps=1e-5), "B F T", "F",
                   norm.weight, norm.bias)
        h = F.gelu(h)
    return model.feature_extractor(wave), h


@claim("arch-wav2vec2-base-encoder-post-norm", chapter=CH, layout="[B,T,F]",
       statement="In the base configuration (do_stable_layer_norm=False) the encoder is "
                 "post-norm: the encoder's LayerNorm comes before the first layer, and a layer's "
                 "attention reads its raw input and the layer returns its final LayerNorm's "
                 "output.",
       left="what the modules saw in one forward call",
       right="the post-norm order", tol=0.0)
def _():
    model = wav2vec2_model("base")
    wave = torch.from_numpy(data.sequence(B=2, T=1, F=32, seed=15))[:, 0]
    first = model.encoder.layers[0]
    seen = record(lambda: model(wave), encoder_norm=model.encoder.layer_norm, layer=first,
                  attention=first.attention, final_norm=first.final_layer_norm)
    left = [seen["layer"].input, seen["attention"].input, seen["layer"].output]
    right = [seen["encoder_norm"].output, seen["layer"].input, seen["final_norm"].output]
    return torch.stack(left), torch.stack(right)


@claim("arch-wav2vec2-large-encoder-pre-norm", chapter=CH, layout="[B,T,F]",
       statement="In the large configuration (do_stable_layer_norm=True) the encoder is "
                 "pre-norm: a layer's LayerNorm reads the layer's input and its attention reads "
                 "that norm's output, and the encoder's LayerNorm comes after the last layer.",
       left="what the modules saw in one forward call",
       right="the pre-norm order", tol=0.0)
def _():
    model = wav2vec2_model("large")
    wave = torch.from_numpy(data.sequence(B=2, T=1, F=32, seed=15))[:, 0]
    first, last = model.encoder.layers[0], model.encoder.layers[-1]
    seen = record(lambda: model(wave), encoder_norm=model.encoder.layer_norm, layer=first,
                  norm=first.layer_norm, attention=first.attention, last=last)
    left = [seen["norm"].input, seen["attention"].input, seen["encoder_norm"].input]
    right = [seen["layer"].input, seen["norm"].output, seen["last"].output]
    return torch.stack(left), torch.stack(right)


@claim("arch-conformer-conv-is-bn", chapter=CH, layout="[B,F,T]",
       statement="The convolution module of the Conformer (transformers' wav2vec2-conformer) "
                 "normalizes with BatchNorm1d: in training, statistics over the batch and time.",
       left="Wav2Vec2ConformerConvolutionModule.batch_norm, training mode",
       right='affine(standardize(x, "B F T", over="B T"), "B F T", "F", w, b)')
def _():
    module, norm = hf_module("conformer-conv")
    x = torch.from_numpy(data.sequence(B=2, T=16, F=8, seed=15, dtype=np.float64))
    x = x.transpose(1, 2)  # [B, F, T] after the depthwise conv
    norm, w, b = norm.double().train(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B F T", over="B T"), "B F T", "F", w, b)
    return norm(x), ours


@claim("arch-conformer-bn-padding-leaks", chapter=CH, layout="[B,F,T]", expect="differ",
       statement="So in training, the zero frames that pad a shorter utterance change the "
                 "Conformer's BatchNorm output on the real frames of every utterance.",
       left="batch_norm of the padded batch, real frames of sequence 0",
       right="batch_norm statistics of the real frames only (masked standardize over B T)")
def _():
    module, norm = hf_module("conformer-conv")
    x = torch.from_numpy(data.sequence(B=2, T=16, F=8, seed=15, dtype=np.float64))
    x[1, 8:] = 0.0  # sequence 1 has 8 real frames, then zero padding
    real = torch.from_numpy(data.length_mask([16, 8], T=16)).transpose(1, 2)  # [B, 1, T]
    norm, w, b = norm.double().train(), norm.weight.double(), norm.bias.double()
    padded = norm(x.transpose(1, 2))
    masked = affine(standardize(x.transpose(1, 2), "B F T", over="B T", mask=real),
                    "B F T", "F", w, b)
    return padded[0], masked[0]


@claim("arch-t5-is-rmsnorm", chapter=CH, layout="[B,T,F]",
       statement="T5LayerNorm is RMS normalization: standardize over F without centering, "
                 "eps 1e-6, times a weight per feature; no bias.",
       left="T5LayerNorm (transformers), float32",
       right='standardize(x, "B T F", over="F", center=False, eps=1e-6) * w')
def _():
    norm, _ = hf_module("t5")  # it computes the mean of squares in float32, whatever x is
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15))
    return norm(x), standardize(x, "B T F", over="F", center=False, eps=1e-6) * norm.weight


@claim("arch-llama-is-rmsnorm", chapter=CH, layout="[B,T,F]",
       statement="LLaMA's RMSNorm with Llama 2's eps 1e-5: transformers' LlamaRMSNorm and our "
                 "transcription of Meta's code are standardize over F without centering, times "
                 "a weight per feature.",
       left="LlamaRMSNorm (transformers), llama_rms_norm (transcription), eps 1e-5",
       right='standardize(x, "B T F", over="F", center=False, eps=1e-5) * w')
def _():
    norm, _ = hf_module("llama", rms_norm_eps=LLAMA_NORM_EPS)
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=15, dtype=np.float64))
    w = norm.weight.detach().double()
    ours = standardize(x, "B T F", over="F", center=False, eps=1e-5) * w
    with torch.no_grad():  # the transcription upcasts to float32: compare in float32
        theirs = [norm.double()(x).float(), llama_rms_norm(x.float(), w.float(), eps=1e-5)]
    return torch.stack(theirs), torch.stack([ours, ours]).float()


@claim("arch-unet-groupnorm32", chapter=CH, layout="[N,C,H,W]",
       statement="The U-Net of guided diffusion normalizes with GroupNorm32(32, C) (our "
                 "transcription): Group Norm with 32 groups computed in float32 and cast back, "
                 "here on float16 input.",
       left="GroupNorm32(32, 64)(x), x in float16, compared in float32",
       right='standardize(x.float(), "N (G Cg) H W", over="Cg H W", G=32).half()')
def _():
    x = torch.from_numpy(data.images(N=2, C=64, H=4, W=4, seed=15)).half()
    norm = GroupNorm32(32, 64)  # weight 1, bias 0 at initialisation
    ours = standardize(x.float(), "N (G Cg) H W", over="Cg H W", G=32).half()
    # both outputs are float16; compared in float32, at float32's tolerance, not float16's
    return norm(x).float(), ours.float()


@claim("arch-stdconv-weights", chapter=CH, layout="[O,I,kH,kW]",
       statement="Weight Standardization (timm's StdConv2d, our transcription, with the eps "
                 "1e-8 of timm's BiT models) standardizes each output channel's kernel over its "
                 "input channels and positions.",
       left="timm_std_conv_weight(w, eps=BIT_STD_CONV_EPS) (transcription)",
       right='standardize(w, "O I kH kW", over="I kH kW", eps=BIT_STD_CONV_EPS)')
def _():
    w = torch.randn(16, 8, 3, 3, generator=torch.Generator().manual_seed(15))
    ours = standardize(w, "O I kH kW", over="I kH kW", eps=BIT_STD_CONV_EPS)
    return timm_std_conv_weight(w, eps=BIT_STD_CONV_EPS), ours
