"""Helpers of the chapter on the norms of real architectures.

Where the real code installs within the book's pins (Hugging Face ``transformers``, which does not
depend on torch), the claims run it. Where it does not (timm needs torchvision, whose PyPI build
does not load beside the CPU build of torch; the original research repositories are not packages),
the functions below are **our transcriptions** of the few lines that matter, operation by
operation, each pinned to the commit we read. They check our reading of that code, not the
installed code.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._arrays import is_torch

__all__ = ["convnext_layer_norm", "timm_layer_norm2d", "timm_std_conv_weight", "BIT_STD_CONV_EPS",
           "llama_rms_norm", "LLAMA_NORM_EPS", "LLAMA_RMSNORM_DEFAULT_EPS",
           "PoolFormerGroupNorm", "GroupNorm32", "MlCvnetsLayerNorm2D", "bf16_rms_norm",
           "hf_module", "WAV2VEC2_CONFIGS", "wav2vec2_model", "record", "placement",
           "AtlasRow", "book_name", "ATLAS", "atlas_table"]


# --- transcriptions, each pinned to the commit we read --------------------------------------------

def convnext_layer_norm(x, weight, bias, eps: float = 1e-6, data_format: str = "channels_last"):
    """Our transcription of ``LayerNorm.forward`` of facebookresearch/ConvNeXt,
    ``models/convnext.py``, commit ``06f7b05``: ``channels_last`` calls ``F.layer_norm`` over the
    last dimension; ``channels_first`` computes mean and biased variance over dimension 1 (C).
    """
    if data_format == "channels_last":
        return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)
    if data_format != "channels_first":
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(s + eps)
    return weight[:, None, None] * x + bias[:, None, None]


def timm_layer_norm2d(x, weight, bias, eps: float = 1e-6):
    """Our transcription of ``LayerNorm2d.forward`` of timm (huggingface/pytorch-image-models,
    ``timm/layers/norm.py``, commit ``05ab01d``), without its optional fused kernel: permute
    ``[N, C, H, W]`` to channels last, ``F.layer_norm`` over C, permute back.
    """
    x = x.permute(0, 2, 3, 1)
    x = F.layer_norm(x, (x.shape[-1],), weight, bias, eps)
    return x.permute(0, 3, 1, 2)


def timm_std_conv_weight(weight, eps: float = 1e-6):
    """Our transcription of the weight of timm's ``StdConv2d.forward`` (``timm/layers/std_conv.py``
    lines 29-66, commit ``6ee68e5``): the kernel ``[O, I, kH, kW]`` read as ``[1, O, I*kH*kW]``
    and put through ``F.batch_norm`` in training mode, so each output channel's weights are
    standardized. *eps* defaults to the class default, 1e-6; the BiT models pass
    :data:`BIT_STD_CONV_EPS`.
    """
    C_out = weight.shape[0]
    return F.batch_norm(weight.reshape(1, C_out, -1), None, None, training=True, momentum=0.0,
                        eps=eps).reshape_as(weight)


BIT_STD_CONV_EPS = 1e-8
"""The epsilon of every ``StdConv2d`` of timm's BiT ResNet-V2 models: ``_create_resnetv2_bit``
builds them with ``conv_layer=partial(StdConv2d, eps=1e-8)`` (``timm/models/resnetv2.py``
line 890, commit ``6ee68e5``), not the class default 1e-6."""


LLAMA_NORM_EPS = 1e-5
"""Llama 2's epsilon, in every RMSNorm of the model. ``ModelArgs.norm_eps`` defaults to it
(meta-llama/llama ``llama/model.py`` line 28, commit ``8580eb9``); each checkpoint's
``params.json`` overrides it (``llama/generation.py`` lines 107-114), and Meta's maintainers give
1e-5 for the released Llama 2 checkpoints (meta-llama/llama issue #771)."""
LLAMA_RMSNORM_DEFAULT_EPS = 1e-6
"""The default of its ``RMSNorm(dim, eps=1e-6)`` (``llama/model.py`` line 35); the model passes
``norm_eps`` to every RMSNorm (lines 383, 384 and 445)."""


def llama_rms_norm(x, weight, eps: float = LLAMA_RMSNORM_DEFAULT_EPS):
    """Our transcription of ``RMSNorm`` of meta-llama/llama (``llama/model.py`` lines 34-77,
    commit ``8580eb9``): ``x * rsqrt(mean(x**2) + eps)`` over the last dimension, computed on
    ``x.float()``, cast back to the dtype of *x*, then multiplied by the weight.
    """
    def _norm(v):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps)

    output = _norm(x.float()).type_as(x)
    return output * weight


def bf16_rms_norm(x, weight, eps: float = LLAMA_RMSNORM_DEFAULT_EPS):
    """The same lines as :func:`llama_rms_norm` without the float32 upcast: every operation in the
    dtype of *x* (the variant the upcast exists to avoid)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class PoolFormerGroupNorm(nn.GroupNorm):
    """Our transcription of ``GroupNorm`` of sail-sg/poolformer (``models/poolformer.py``, commit
    ``0c2a8f5``), PoolFormer's default ``norm_layer``: ``nn.GroupNorm`` with one group. timm's
    ``GroupNorm1`` (``timm/layers/norm.py``, commit ``05ab01d``) is the same subclass."""

    def __init__(self, num_channels, **kwargs):
        super().__init__(1, num_channels, **kwargs)


class GroupNorm32(nn.GroupNorm):
    """Our transcription of ``GroupNorm32`` of openai/guided-diffusion (``guided_diffusion/nn.py``,
    commit ``aca3097``): ``nn.GroupNorm`` run on ``x.float()``, the result cast back; its
    ``normalization(channels)`` is ``GroupNorm32(32, channels)``."""

    def forward(self, x):
        """Group Norm of ``x.float()``, cast back to the dtype of *x*."""
        return super().forward(x.float()).type(x.dtype)


class MlCvnetsLayerNorm2D(nn.GroupNorm):
    """Our transcription of ``LayerNorm2D_NCHW`` of apple/ml-cvnets
    (``cvnets/layers/normalization/layer_norm.py`` lines 75-102, commit ``0c0f798``), registered
    as the norm ``"layer_norm_2d"``: ``nn.GroupNorm`` with ``num_groups=1`` (issue
    apple/ml-cvnets#34). MobileViTv2 uses it as ``attn_norm_layer``, before the attention and the
    feed-forward part of each of its transformer blocks; its convolutions use Batch Norm
    (``config/classification/imagenet/mobilevit_v2.yaml`` lines 78-82)."""

    def __init__(self, num_features, eps=1e-5, elementwise_affine=True, *args, **kwargs):
        super().__init__(num_channels=num_features, eps=eps, affine=elementwise_affine,
                         num_groups=1)


# --- the real modules of Hugging Face transformers ------------------------------------------------

def hf_module(name: str, **config):
    """A norm layer of a real model in Hugging Face ``transformers``, built from a small config
    with seeded random weights (nothing is downloaded).

    *name* is one of ``"t5"``, ``"llama"``, ``"bert"``, ``"vit"``, ``"swin"``, ``"whisper"``,
    ``"wav2vec2-encoder"``, ``"conformer-conv"``, ``"convnext-stem"``,
    ``"convnext-block"``, ``"poolformer"``, ``"mobilevitv2"``. Returns ``(module, norm)``: the
    model's layer (or block) and the norm inside it.
    """
    with warnings.catch_warnings():  # transformers imports tqdm.auto, which warns in notebooks
        warnings.simplefilter("ignore")
        import transformers as tr  # imported here: it takes a few seconds
    from transformers.models.bert.modeling_bert import BertSelfOutput
    from transformers.models.convnext.modeling_convnext import ConvNextEmbeddings, ConvNextLayer
    from transformers.models.llama.modeling_llama import LlamaRMSNorm
    from transformers.models.mobilevitv2.modeling_mobilevitv2 import MobileViTV2TransformerLayer
    from transformers.models.poolformer.modeling_poolformer import PoolFormerLayer
    from transformers.models.swin.modeling_swin import SwinLayer
    from transformers.models.t5.modeling_t5 import T5LayerNorm
    from transformers.models.vit.modeling_vit import ViTLayer
    from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2EncoderLayer
    from transformers.models.wav2vec2_conformer.modeling_wav2vec2_conformer import (
        Wav2Vec2ConformerConvolutionModule,
    )
    from transformers.models.whisper.modeling_whisper import WhisperEncoderLayer

    small = dict(hidden_size=8, num_attention_heads=2, intermediate_size=16)
    builders = {
        "t5": lambda: (m := T5LayerNorm(config.get("hidden_size", 8)), m),
        "llama": lambda: (m := LlamaRMSNorm(
            config.get("hidden_size", 8), eps=tr.LlamaConfig(**config).rms_norm_eps), m),
        "bert": lambda: (m := BertSelfOutput(tr.BertConfig(**small, **config)), m.LayerNorm),
        "vit": lambda: (m := ViTLayer(tr.ViTConfig(**small, **config)), m.layernorm_before),
        "swin": lambda: (m := SwinLayer(tr.SwinConfig(**config), dim=8, input_resolution=(4, 4),
                                        num_heads=2), m.layernorm_before),
        "whisper": lambda: (m := WhisperEncoderLayer(tr.WhisperConfig(
            d_model=8, encoder_attention_heads=2, encoder_ffn_dim=16, **config)),
            m.self_attn_layer_norm),
        "wav2vec2-encoder": lambda: (m := Wav2Vec2EncoderLayer(tr.Wav2Vec2Config(
            **small, **config)), m.layer_norm),
        "conformer-conv": lambda: (m := Wav2Vec2ConformerConvolutionModule(
            tr.Wav2Vec2ConformerConfig(**small, conv_depthwise_kernel_size=3, **config)),
            m.batch_norm),
        "convnext-stem": lambda: (m := ConvNextEmbeddings(tr.ConvNextConfig(
            hidden_sizes=[8, 16, 32, 64], **config)), m.layernorm),
        "convnext-block": lambda: (m := ConvNextLayer(tr.ConvNextConfig(**config), dim=8),
                                   m.layernorm),
        "mobilevitv2": lambda: (m := MobileViTV2TransformerLayer(
            tr.MobileViTV2Config(**config), embed_dim=8, ffn_latent_dim=16), m.layernorm_before),
        "poolformer": lambda: (m := PoolFormerLayer(tr.PoolFormerConfig(**config), 8, 3, 8,
                                                    16, 0.0), m.before_norm),
    }
    if name not in builders:
        raise ValueError(f"hf_module: unknown model {name!r}; choose one of {sorted(builders)}")
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module, norm = builders[name]()
    with torch.no_grad():  # trained-looking affine parameters instead of ones and zeros
        for p in norm.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) * 0.5
                    + (1.0 if p is getattr(norm, "weight", None) else 0.0))
    return module.eval(), norm


# --- wav2vec 2.0 in its two configurations, and where a norm sits in a block --------------------

WAV2VEC2_CONFIGS = {
    "base": dict(feat_extract_norm="group", do_stable_layer_norm=False),
    "large": dict(feat_extract_norm="layer", do_stable_layer_norm=True),
}
"""The two norm settings of ``transformers``' ``Wav2Vec2Config``: ``"base"`` is its default (the
base model, fairseq's ``extractor_mode: default``), ``"large"`` that of the large LV-60 model
(fairseq's ``wav2vec2_large_librivox.yaml``: ``extractor_mode: layer_norm``,
``layer_norm_first: true``)."""


def wav2vec2_model(config: str = "base"):
    """A small ``transformers.Wav2Vec2Model`` (three convolutions of 8 channels, two encoder
    layers of width 8) with the norm settings of *config* (``"base"`` or ``"large"``, see
    :data:`WAV2VEC2_CONFIGS`), seeded random weights and random norm parameters, in eval mode.
    """
    if config not in WAV2VEC2_CONFIGS:
        raise ValueError(f"wav2vec2_model: config must be one of {sorted(WAV2VEC2_CONFIGS)}, "
                         f"got {config!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import transformers as tr

        cfg = tr.Wav2Vec2Config(hidden_size=8, num_attention_heads=2, intermediate_size=16,
                                num_hidden_layers=2, conv_dim=(8, 8, 8), conv_kernel=(3, 3, 3),
                                conv_stride=(1, 1, 1), num_conv_pos_embeddings=3,
                                num_conv_pos_embedding_groups=1, **WAV2VEC2_CONFIGS[config])
        torch.manual_seed(0)
        model = tr.Wav2Vec2Model(cfg)
    _perturb_norms(model)
    return model.eval()


def _perturb_norms(module):
    """Give every norm inside *module* seeded random weights and biases (trained-looking affine
    parameters instead of ones and zeros)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in module.modules():
            if "Norm" in type(m).__name__:  # LayerNorm, GroupNorm, BatchNorm1d, ...
                for name, p in m.named_parameters(recurse=False):
                    p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5
                            + (1.0 if name == "weight" else 0.0))


class Seen:
    """What a module saw in one forward call: its first tensor input and its output tensor."""

    def __init__(self):
        self.input = None
        self.output = None


def record(run, **modules) -> dict[str, Seen]:
    """Call *run()* once with a forward hook on each of *modules* (name = module) and return, per
    name, the first tensor the module received and the tensor it returned (the first of a tuple;
    the last call's, if it runs more than once)."""
    seen = {name: Seen() for name in modules}
    hooks = []

    def hook(name):
        def capture(module, args, kwargs, output):
            inputs = list(args) + list(kwargs.values())
            seen[name].input = next(a for a in inputs if is_torch(a))
            out = output[0] if isinstance(output, tuple) else output
            seen[name].output = getattr(out, "last_hidden_state", out)
        return capture

    try:
        for name, module in modules.items():
            hooks.append(module.register_forward_hook(hook(name), with_kwargs=True))
        with torch.no_grad():
            run()
    finally:
        for h in hooks:
            h.remove()
    return seen


def placement(run, block, norm) -> str:
    """Where *norm* sits in *block*, read off one forward call *run()*: ``"pre"`` when the norm
    reads the block's input, ``"post"`` when the block returns the norm's output, else
    ``"inside"``."""
    seen = record(run, block=block, norm=norm)
    b, n = seen["block"], seen["norm"]
    if n.input.shape == b.input.shape and torch.equal(n.input, b.input):
        return "pre"
    if n.output.shape == b.output.shape and torch.equal(n.output, b.output):
        return "post"
    return "inside"


# --- the atlas ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AtlasRow:
    """One norm of a real model: where it sits, what its code calls it, the layout it receives,
    the axes it pools (*over*, with *center*: False for RMS Norm), its epsilon and where that
    value comes from, its affine parameters (one per entry of *affine*, ``""`` for none; *shift*:
    a bias too), and the ledger *claim* that executes it. *placement* is ``"pre"`` or ``"post"``
    where a unit test reads it off the block (see :func:`placement`), else ``""``.
    """

    model: str
    where: str
    name: str
    layout: str
    over: str
    eps: float
    eps_from: str
    affine: str
    shift: bool
    claim: str
    center: bool = True
    G: int | None = None
    placement: str = ""

    @property
    def norm(self) -> str:
        """The book's name of the norm (the notation page's "One name for each norm")."""
        return book_name(self.layout, self.over, center=self.center, affine=self.affine, G=self.G)


def book_name(layout: str, over: str, *, center: bool = True, affine: str = "", G=None) -> str:
    """The book's name of the norm that pools *over* on *layout*, as the notation page names it.
    Raises ``ValueError`` for a combination the book does not name."""
    if not center:
        if layout == "B T F" and over == "F":
            return "RMS Norm"
    elif layout in ("N C H W", "N H W C") and over == "C":
        return "per-pixel Layer Norm"
    elif (layout, over) in (("B T F", "F"), ("B F T", "F")):
        return "per-frame Layer Norm"
    elif (layout, over) == ("B T F", "T F"):
        return "per-example Layer Norm"
    elif layout == "B T (G Fg)" and over == "T Fg" and G:
        return f"GN({G})"
    elif (layout, over) in (("B T F", "T"), ("B F T", "T"), ("N C H W", "H W")):
        return "Instance Norm"
    elif (layout, over) in (("B T F", "B T"), ("B F T", "B T"), ("N C H W", "N H W")):
        return "Batch Norm"
    elif layout == "N C H W" and over == "C H W":
        return "GN(1)" if affine == "C" else "per-example Layer Norm"
    elif layout == "N (G Cg) H W" and over == "Cg H W" and G:
        return f"GN({G})"
    elif layout == "O I kH kW" and over == "I kH kW":
        return "Weight Standardization"
    raise ValueError(f"book_name: no name for over={over!r} on {layout!r} (center={center})")


HF = "†"  # the default of the transformers configuration
CODE = ""  # set in the model's code
ATLAS = [
    AtlasRow("ConvNeXt", "stem, and before each downsampling conv",
             '`LayerNorm(data_format="channels_first")`', "N C H W", "C", 1e-6, CODE, "C", True,
             "arch-convnext-stem-is-ln-per-pixel"),
    AtlasRow("ConvNeXt", "every block, after the depthwise conv", "`LayerNorm` (channels last)",
             "N H W C", "C", 1e-6, CODE, "C", True, "arch-convnext-block-is-ln-per-pixel"),
    AtlasRow("timm (ConvNeXt, EdgeNeXt, ...)", "as `norm_layer`", "`LayerNorm2d`", "N C H W", "C",
             1e-6, CODE, "C", True, "arch-timm-layernorm2d-is-ln-per-pixel"),
    AtlasRow("PoolFormer", "before token mixer and MLP (pre-norm)", "`GroupNorm` (1 group)",
             "N C H W", "C H W", 1e-5, CODE, "C", True, "arch-poolformer-is-gn1",
             placement="pre"),
    AtlasRow("MobileViTv2", "before attention and FFN of its transformer blocks (pre-norm)",
             '`LayerNorm2D_NCHW` ("layer_norm_2d")', "N C H W", "C H W", 1e-5, CODE, "C", True,
             "arch-mlcvnets-layernorm2d-is-gn1", placement="pre"),
    AtlasRow("ViT", "before attention and MLP (pre-norm)", "`nn.LayerNorm`", "B T F", "F", 1e-12,
             HF, "F", True, "arch-vit-ln-per-token", placement="pre"),
    AtlasRow("Swin", "before attention and MLP (pre-norm)", "`nn.LayerNorm`", "B T F", "F", 1e-5,
             HF, "F", True, "arch-swin-ln-per-token", placement="pre"),
    AtlasRow("BERT", "after attention and MLP (post-norm)", "`LayerNorm`", "B T F", "F", 1e-12,
             HF, "F", True, "arch-bert-ln-per-token", placement="post"),
    AtlasRow("Whisper", "before attention and MLP (pre-norm)", "`nn.LayerNorm`", "B T F", "F",
             1e-5, HF, "F", True, "arch-whisper-ln-per-frame", placement="pre"),
    AtlasRow("wav2vec 2.0 base", "first conv of the feature encoder",
             "`GroupNorm(C, C)` (`layer_norm`)", "B F T", "T", 1e-5, HF, "F", True,
             "arch-wav2vec2-base-conv-norms"),
    AtlasRow("wav2vec 2.0 base", "after attention and MLP (post-norm)", "`nn.LayerNorm`", "B T F",
             "F", 1e-5, HF, "F", True, "arch-wav2vec2-base-encoder-post-norm", placement="post"),
    AtlasRow("wav2vec 2.0 large", "every conv of the feature encoder",
             "`nn.LayerNorm` (`layer_norm`)", "B F T", "F", 1e-5, HF, "F", True,
             "arch-wav2vec2-large-conv-norms"),
    AtlasRow("wav2vec 2.0 large", "before attention and MLP (pre-norm)", "`nn.LayerNorm`",
             "B T F", "F", 1e-5, HF, "F", True, "arch-wav2vec2-large-encoder-pre-norm",
             placement="pre"),
    AtlasRow("Conformer (wav2vec2-conformer)", "convolution module", "`nn.BatchNorm1d`", "B F T",
             "B T", 1e-5, HF, "F", True, "arch-conformer-conv-is-bn"),
    AtlasRow("T5", "before attention and MLP (pre-norm)", "`T5LayerNorm`", "B T F", "F", 1e-6, HF,
             "F", False, "arch-t5-is-rmsnorm", center=False, placement="pre"),
    AtlasRow("Llama 2", "before attention and MLP (pre-norm)", "`RMSNorm`", "B T F", "F",
             LLAMA_NORM_EPS, "`params.json`", "F", False, "arch-llama-is-rmsnorm", center=False,
             placement="pre"),
    AtlasRow("U-Net of diffusion models", "every ResBlock and attention block",
             "`GroupNorm32(32, C)`", "N (G Cg) H W", "Cg H W", 1e-5, CODE, "C", True,
             "arch-unet-groupnorm32", G=32),
    AtlasRow("BiT ResNet-V2 (timm)", "the weights of every conv",
             "`StdConv2d`", "O I kH kW", "I kH kW", BIT_STD_CONV_EPS, "BiT models",
             "", False, "arch-stdconv-weights"),
]
"""One row per norm of a real model; ``claim`` names the ledger claim that executes it, and a unit
test runs each row's own values (layout, over, eps, affine, placement) against the model's
module (``tests/test_architectures.py``)."""


def _eps_text(eps: float) -> str:
    """``1e-6`` for a power of ten, else ``%g``: the atlas' epsilon as a reader writes it."""
    n = round(-math.log10(eps))
    return f"1e-{n}" if eps == 10.0**-n else f"{eps:g}"


def atlas_table(results=None) -> str:
    """The atlas as a Markdown table, every column generated from the rows of ``ATLAS``: the
    pooled axes, the epsilon, the affine shape and the book's name of each norm, and a link to
    its claim, which runs now (unless *results*, a dict claim name -> result, is given) and
    must hold."""
    from ..book import ledger

    head = ["model", "where", "name in the code", "pools, of layout", "ε", "affine", "is",
            "claim"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in ATLAS:
        result = results[r.claim] if results else ledger.check(r.claim)
        if not result.holds:
            raise AssertionError(f"atlas row {r.model}: claim {r.claim} fails")
        pools = f"{r.over} of `{r.layout}`" + ("" if r.center else ", no mean")
        affine_ = "none" if not r.affine else f"[{r.affine}]" + ("" if r.shift else ", no shift")
        eps = _eps_text(r.eps) + (f" ({r.eps_from})" if r.eps_from not in (CODE, HF) else
                                  " †" if r.eps_from == HF else "")
        cells = [r.model, r.where, r.name, pools, eps, affine_, r.norm,
                 f"{{ref}}`holds <{ledger.anchor(r.claim)}>`"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
