"""The norms of real architectures: RMS normalization, and every row of the chapter's atlas."""

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from .. import affine, data, load_keras, moments, standardize
from ..book.ledger import claim
from ..chapters.architectures import (
    LLAMA_NORM_EPS,
    GroupNorm32,
    MlCvnetsLayerNorm2D,
    PoolFormerGroupNorm,
    bf16_rms_norm,
    convnext_layer_norm,
    hf_module,
    llama_rms_norm,
    timm_layer_norm2d,
    timm_std_conv_weight,
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

@claim("rmsnorm-eps-none-is-float32-eps", chapter=CH, layout="[B,T,F]",
       statement="F.rms_norm with eps=None adds torch.finfo(torch.float32).eps = 2^-23 in "
                 "float32, float16 and bfloat16 alike (not the input dtype's machine epsilon).",
       left="F.rms_norm(x, (F,), eps=None), x in float32, float16, bfloat16",
       right="F.rms_norm(x, (F,), eps=2**-23), same x", tol=0.0)
def _():
    x = torch.full((1, 1, 8), 2.0**-12)  # mean of squares 2^-24: eps is not negligible
    dtypes = [torch.float32, torch.float16, torch.bfloat16]
    left = [F.rms_norm(x.to(d), (8,), eps=None).double() for d in dtypes]
    right = [F.rms_norm(x.to(d), (8,), eps=2.0**-23).double() for d in dtypes]
    return torch.stack(left), torch.stack(right)


@claim("rmsnorm-eps-none-not-dtype-eps", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="In float16, eps=None is not torch.finfo(torch.float16).eps (2^-10).",
       left="F.rms_norm(x, (F,), eps=None), x in float16",
       right="F.rms_norm(x, (F,), eps=torch.finfo(torch.float16).eps)")
def _():
    x = torch.full((1, 1, 8), 2.0**-12, dtype=torch.float16)
    return F.rms_norm(x, (8,)), F.rms_norm(x, (8,), eps=torch.finfo(torch.float16).eps)


@claim("llama-upcast-rounds-once", chapter=CH, layout="[B,T,F]", tol=0.0,
       statement="On bfloat16 input, LLaMA's RMSNorm (computed in float32, cast back) gives the "
                 "float64 result rounded once to bfloat16 (weight 1), in every entry.",
       left="llama_rms_norm(x) (transcription), x in bfloat16",
       right='standardize(x.double(), "B T F", over="F", center=False).bfloat16()')
def _():
    x = torch.from_numpy(data.sequence(B=2, T=8, F=512, seed=15)).bfloat16()
    w = torch.ones(512, dtype=torch.bfloat16)
    exact = standardize(x.double(), "B T F", over="F", center=False, eps=1e-5)
    return llama_rms_norm(x, w, eps=1e-5).double(), exact.bfloat16().double()


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
       statement="ml-cvnets' 'layer_norm_2d' (LayerNorm2D_NCHW, our transcription) is "
                 "GroupNorm(1, C): statistics over C, H and W.",
       left="MlCvnetsLayerNorm2D(C) (transcription)",
       right='standardize(x, "N C H W", over="C H W")')
def _():
    x = torch.from_numpy(data.images(N=2, C=8, H=5, W=5, seed=15, dtype=np.float64))
    norm = MlCvnetsLayerNorm2D(8).double()  # weight 1, bias 0 at initialisation
    return norm(x), standardize(x, "N C H W", over="C H W")


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


@claim("arch-wav2vec2-conv-gn-is-in", chapter=CH, layout="[B,F,T]",
       statement="The 'layer_norm' of wav2vec 2.0's first feature-encoder conv is "
                 "GroupNorm(C, C): one group per channel, statistics over time: Instance Norm.",
       left="Wav2Vec2GroupNormConvLayer.layer_norm (transformers), on [B, F, T]",
       right='affine(standardize(x, "B F T", over="T"), "B F T", "F", w, b)')
def _():
    layer, norm = hf_module("wav2vec2-conv")
    x = torch.from_numpy(data.sequence(B=2, T=16, F=8, seed=15, dtype=np.float64))
    x = x.transpose(1, 2)  # [B, F, T], as the conv layers see it
    norm, w, b = norm.double(), norm.weight.double(), norm.bias.double()
    ours = affine(standardize(x, "B F T", over="T"), "B F T", "F", w, b)
    return norm(x), ours


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
       statement="LLaMA's RMSNorm with the model's eps 1e-5 (ModelArgs.norm_eps): "
                 "transformers' LlamaRMSNorm and our transcription of Meta's code are "
                 "standardize over F without centering, times a weight per feature.",
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
       statement="Weight Standardization (timm's StdConv2d, our transcription) standardizes each "
                 "output channel's kernel over its input channels and positions.",
       left="timm_std_conv_weight(w) (transcription), eps 1e-6",
       right='standardize(w, "O I kH kW", over="I kH kW", eps=1e-6)')
def _():
    w = torch.randn(16, 8, 3, 3, generator=torch.Generator().manual_seed(15))
    return timm_std_conv_weight(w), standardize(w, "O I kH kW", over="I kH kW", eps=1e-6)
