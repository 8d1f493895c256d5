"""The atlas of real architectures: every row's values (layout, pooled axes, eps, affine shape,
placement, the book's name of the norm) executed against the module its claim runs, so that a
wrong cell fails here; and the helpers that read a model (record, placement, wav2vec2_model)."""

import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from normaxes import affine, data, standardize
from normaxes.book import ledger
from normaxes.chapters import architectures as arch
from normaxes.chapters.architectures import (
    ATLAS,
    BIT_STD_CONV_EPS,
    LLAMA_NORM_EPS,
    GroupNorm32,
    MlCvnetsLayerNorm2D,
    atlas_table,
    book_name,
    hf_module,
    placement,
    record,
    timm_layer_norm2d,
    timm_std_conv_weight,
    wav2vec2_model,
)

ROOT = Path(__file__).resolve().parents[1]
ROWS = {r.claim: r for r in ATLAS}


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _without_conv(layer):
    """A wav2vec 2.0 conv layer with its convolution taken out: norm, then GELU."""
    layer.conv = nn.Identity()
    return layer


def _module(claim):
    """The norm the row's claim executes, as (function of x, weight, bias, shape of x, then):
    *then* is applied to the reference too (GELU where the module ends in its activation)."""
    ident = lambda y: y  # noqa: E731
    if claim in ("arch-convnext-stem-is-ln-per-pixel", "arch-poolformer-is-gn1"):
        key = "convnext-stem" if "convnext" in claim else "poolformer"
        norm = hf_module(key)[1].double()
        return norm, norm.weight, norm.bias, (2, 8, 5, 5), ident
    if claim == "arch-convnext-block-is-ln-per-pixel":
        norm = hf_module("convnext-block")[1].double()
        return norm, norm.weight, norm.bias, (2, 5, 5, 8), ident
    if claim == "arch-timm-layernorm2d-is-ln-per-pixel":
        w, b = _randn(8, seed=1) + 1, _randn(8, seed=2)
        return (lambda x: timm_layer_norm2d(x, w, b)), w, b, (2, 8, 5, 5), ident
    if claim == "arch-mlcvnets-layernorm2d-is-gn1":
        norm = MlCvnetsLayerNorm2D(8).double()
        arch._perturb_norms(norm)
        return norm, norm.weight, norm.bias, (2, 8, 5, 5), ident
    if claim == "arch-mlcvnets-layernorm2d-hf":
        norm = hf_module("mobilevitv2")[1].double()
        return norm, norm.weight, norm.bias, (2, 8, 5, 5), ident
    hf = {"arch-vit-ln-per-token": "vit", "arch-swin-ln-per-token": "swin",
          "arch-bert-ln-per-token": "bert", "arch-whisper-ln-per-frame": "whisper",
          "arch-conformer-conv-is-bn": "conformer-conv", "arch-t5-is-rmsnorm": "t5"}
    if claim in hf:
        norm = hf_module(hf[claim])[1]
        if claim == "arch-conformer-conv-is-bn":
            norm.train()
        shape = (2, 8, 6) if claim == "arch-conformer-conv-is-bn" else (2, 6, 8)
        return norm.double(), norm.weight, getattr(norm, "bias", None), shape, ident
    if claim == "arch-llama-is-rmsnorm":
        norm = hf_module("llama", rms_norm_eps=LLAMA_NORM_EPS)[1].double()
        return norm, norm.weight, None, (2, 6, 8), ident
    if claim.startswith("arch-wav2vec2"):
        model = wav2vec2_model("large" if "large" in claim else "base").double()
        if claim.endswith("conv-norms"):
            layer = _without_conv(model.feature_extractor.conv_layers[0])
            return layer, layer.layer_norm.weight, layer.layer_norm.bias, (2, 8, 6), F.gelu
        enc = model.encoder.layers[0]
        norm = enc.final_layer_norm if "base" in claim else enc.layer_norm
        return norm, norm.weight, norm.bias, (2, 6, 8), ident
    if claim == "arch-unet-groupnorm32":
        norm = GroupNorm32(32, 64)
        arch._perturb_norms(norm)
        w, b = norm.weight.double(), norm.bias.double()
        return norm, w, b, (2, 64, 4, 4), ident
    if claim == "arch-stdconv-weights":
        return (lambda w: timm_std_conv_weight(w, eps=BIT_STD_CONV_EPS)), None, None, \
            (16, 8, 3, 3), ident
    raise KeyError(claim)


def _reference(row, x, weight, bias):
    """The row's own values as a computation: standardize over its axes with its eps, then its
    affine step."""
    sizes = {"G": row.G} if row.G else {}
    y = standardize(x, row.layout, over=row.over, eps=row.eps, center=row.center, **sizes)
    if not row.affine:
        return y
    along = "G Cg" if row.G else row.affine
    return affine(y, row.layout, along, weight.detach().double(),
                  bias.detach().double() if row.shift else None, **sizes)


def _max_diff(row, fn, weight, bias, x, then):
    with torch.no_grad():
        got = fn(x).double()
        want = then(_reference(row, x, weight, bias))
    return float((got - want).abs().max())


# float32 where the module computes in float32 (T5, LLaMA, guided diffusion's GroupNorm32)
TOL = {"arch-t5-is-rmsnorm": 1e-5, "arch-llama-is-rmsnorm": 1e-5, "arch-unet-groupnorm32": 1e-5}


MOBILEVIT_HF = replace(ROWS["arch-mlcvnets-layernorm2d-is-gn1"],
                       claim="arch-mlcvnets-layernorm2d-hf")  # the same row, on the HF port


@pytest.mark.parametrize("row", ATLAS + [MOBILEVIT_HF],
                         ids=[r.claim for r in ATLAS] + [MOBILEVIT_HF.claim])
def test_atlas_row_is_what_its_module_computes(row):
    """Run the row's values against the module on a *quiet* input, whose variance (or mean
    square) is of the size of the row's eps, so that the eps decides the output: a wrong eps,
    wrong pooled axes, a missing mean or a wrong affine shape in the row fails here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn, weight, bias, shape, then = _module(row.claim)
    x = (_randn(*shape, seed=3) + (0.0 if row.center else 0.5)) * row.eps ** 0.5
    tol = TOL.get(row.claim, 1e-9)
    assert _max_diff(row, fn, weight, bias, x, then) <= tol
    # the same check refuses a row with another eps, other pooled axes or the other centering
    axes = row.layout.replace("(", "").replace(")", "").split()[1:]
    other_over = " ".join(axes) if " ".join(axes) != row.over else axes[-1]
    for wrong in [replace(row, eps=row.eps * 10), replace(row, over=other_over),
                  replace(row, center=not row.center)]:
        assert _max_diff(wrong, fn, weight, bias, x, then) > 1e-2, wrong


def test_atlas_affine_column_is_the_modules_parameter_shape():
    for row in ATLAS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn, weight, bias, shape, _ = _module(row.claim)
        if not row.affine:
            assert weight is None and bias is None, row.claim
            continue
        C = shape[row.layout.replace("(G Cg)", "C").split().index(row.affine)]
        assert tuple(weight.shape) == (C,), row.claim
        assert (bias is not None) == row.shift, row.claim


def _block(claim):
    """(run, block, norm) for the rows whose placement a forward call can show."""
    x = _randn(2, 6, 8, seed=4).float()
    if claim == "arch-poolformer-is-gn1":
        layer, norm = hf_module("poolformer")
        xi = _randn(2, 8, 5, 5, seed=4).float()
        return (lambda: layer(xi)), layer, norm
    if claim in ("arch-vit-ln-per-token", "arch-swin-ln-per-token", "arch-whisper-ln-per-frame"):
        layer, norm = hf_module(claim.split("-")[1])
        if "swin" in claim:
            xs = _randn(2, 49, 8, seed=4).float()  # one window of 7 x 7 tokens
            return (lambda: layer(xs, (7, 7))), layer, norm
        if "whisper" in claim:
            return (lambda: layer(x, attention_mask=None)), layer, norm
        return (lambda: layer(x)), layer, norm
    if claim == "arch-mlcvnets-layernorm2d-is-gn1":
        layer, norm = hf_module("mobilevitv2")
        xp = _randn(2, 8, 4, 4, seed=4).float()  # [B, C, pixels of a patch, patches]
        return (lambda: layer(xp)), layer, norm
    if claim == "arch-bert-ln-per-token":
        layer, norm = hf_module("bert")
        return (lambda: layer(x, x)), layer, norm
    if claim.startswith("arch-wav2vec2"):
        model = wav2vec2_model("large" if "large" in claim else "base")
        wave = _randn(2, 32, seed=4).float()
        layer = model.encoder.layers[0]
        norm = layer.layer_norm if "large" in claim else layer.final_layer_norm
        return (lambda: model(wave)), layer, norm
    import transformers as tr
    if claim == "arch-t5-is-rmsnorm":
        from transformers.models.t5.modeling_t5 import T5LayerFF

        layer = T5LayerFF(tr.T5Config(d_model=8, d_ff=16)).eval()
        return (lambda: layer(x)), layer, layer.layer_norm
    if claim == "arch-llama-is-rmsnorm":
        torch.manual_seed(0)
        model = tr.LlamaModel(tr.LlamaConfig(hidden_size=8, intermediate_size=16,
                                             num_attention_heads=2, num_key_value_heads=2,
                                             num_hidden_layers=1, vocab_size=16)).eval()
        ids = torch.arange(6).reshape(1, 6)
        layer = model.layers[0]
        return (lambda: model(ids)), layer, layer.input_layernorm
    raise KeyError(claim)


@pytest.mark.parametrize("row", [r for r in ATLAS if r.placement], ids=lambda r: r.claim)
def test_atlas_placement_is_read_off_a_forward_call(row):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run, block, norm = _block(row.claim)
        assert placement(run, block, norm) == row.placement


def test_atlas_where_column_says_pre_or_post_only_where_it_is_executed():
    for row in ATLAS:
        assert ("(pre-norm)" in row.where) == (row.placement == "pre"), row.claim
        assert ("(post-norm)" in row.where) == (row.placement == "post"), row.claim


def test_placement_tells_pre_from_post_and_inside():
    lin, norm = nn.Linear(4, 4), nn.LayerNorm(4)
    x = torch.randn(2, 4)

    class Pre(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm, self.lin = norm, lin

        def forward(self, h):
            return h + self.lin(self.norm(h))

    class Post(Pre):
        def forward(self, h):
            return self.norm(h + self.lin(h))

    class Inside(Pre):
        def forward(self, h):
            return h + self.norm(self.lin(h))

    for cls, where in [(Pre, "pre"), (Post, "post"), (Inside, "inside")]:
        block = cls()
        assert placement(lambda b=block: b(x), block, norm) == where


def test_record_sees_the_input_and_output_of_each_module():
    lin = nn.Linear(3, 3)
    x = torch.randn(2, 3)
    seen = record(lambda: lin(x), lin=lin)
    assert torch.equal(seen["lin"].input, x) and torch.equal(seen["lin"].output, lin(x).detach())
    assert not lin._forward_hooks  # removed after the call


def test_wav2vec2_model_norms_have_trained_looking_parameters():
    """Ones and zeros would let a claim pass that forgot the affine step."""
    for config in ("base", "large"):
        norms = [m for m in wav2vec2_model(config).modules()
                 if "Norm" in type(m).__name__ and isinstance(getattr(m, "weight", None),
                                                              nn.Parameter)]
        assert len(norms) >= 5
        for m in norms:
            assert not torch.all(m.weight == 1) and not torch.all(m.bias == 0), (config, m)


def test_the_wav2vec2_configurations_differ_where_the_claims_say():
    base, large = wav2vec2_model("base"), wav2vec2_model("large")
    norms = [type(getattr(c, "layer_norm", None)).__name__
             for c in base.feature_extractor.conv_layers]
    assert norms == ["GroupNorm", "NoneType", "NoneType"]
    assert all(isinstance(c.layer_norm, nn.LayerNorm) for c in large.feature_extractor.conv_layers)
    g = base.feature_extractor.conv_layers[0].layer_norm
    assert g.num_groups == g.num_channels == 8
    with pytest.raises(ValueError, match="config must be one of"):
        wav2vec2_model("xls-r")


@pytest.mark.parametrize("claim, other", [
    ("arch-wav2vec2-base-encoder-post-norm", "large"),
    ("arch-wav2vec2-large-encoder-pre-norm", "base"),
    ("arch-wav2vec2-base-conv-norms", "large"),
    ("arch-wav2vec2-large-conv-norms", "base"),
])
def test_a_wav2vec2_claim_fails_on_the_other_configuration(claim, other, monkeypatch):
    import normaxes.claims.architectures as mod

    assert ledger.run(claim).holds
    real = arch.wav2vec2_model
    monkeypatch.setattr(mod, "wav2vec2_model", lambda config: real(other))
    try:
        r = ledger.run(claim)
    except (RuntimeError, AttributeError):  # the other configuration lacks what it reads
        return
    assert not r.holds


def test_atlas_table_is_generated_from_the_rows(monkeypatch):
    results = {r.claim: ledger.run(r.claim) for r in ATLAS}
    table = atlas_table(results)
    lines = table.splitlines()
    assert len(lines) == len(ATLAS) + 2
    for row, line in zip(ATLAS, lines[2:], strict=True):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert float(cells[4].split()[0]) == row.eps
        assert cells[3].startswith(f"{row.over} of `{row.layout}`")
        assert ("no mean" in cells[3]) != row.center
        assert cells[6] == row.norm and f"claim-{row.claim}" in cells[7]
        want = "none" if not row.affine else f"[{row.affine}]" + ("" if row.shift else ", no shift")
        assert cells[5] == want
    bad = dict(results, **{ATLAS[0].claim: ledger.run("rms-differs-ln").__class__(
        **{**results[ATLAS[0].claim].__dict__, "holds": False})})
    with pytest.raises(AssertionError, match="fails"):
        atlas_table(bad)


def _notation_names():
    """The notation page's table 'One name for each norm': name -> (over on [B,T,F], on
    [N,C,H,W]), for the rows that give a plain over (not a grouped layout)."""
    text = (ROOT / "chapters" / "notation.md").read_text()
    section = text.split("## One name for each norm")[1].split("\n## ")[0]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[2].startswith(("`over", "")):
            continue
        seq = re.fullmatch(r'`over="([^"]+)"`(, `center=False`)?', cells[2])
        img = re.fullmatch(r'`over="([^"]+)"`', cells[3])
        name = cells[0].strip("*")
        if seq or img:
            out[name] = (seq.group(1) if seq else None, img.group(1) if img else None,
                         bool(seq and seq.group(2)))
    return out


def test_book_names_are_the_notation_pages():
    names = _notation_names()
    assert {"Batch Norm", "per-frame Layer Norm", "per-pixel Layer Norm", "Instance Norm",
            "RMS Norm", "per-example Layer Norm"} <= set(names)
    for name, (seq, img, rms) in names.items():
        if seq:
            assert book_name("B T F", seq, center=not rms) == name
        if img:
            assert book_name("N C H W", img) == name
    assert book_name("N C H W", "C H W", affine="C") == "GN(1)"
    assert book_name("N (G Cg) H W", "Cg H W", G=32) == "GN(32)"
    with pytest.raises(ValueError, match="no name"):
        book_name("N C H W", "N C")


def test_every_atlas_claim_runs_and_holds():
    for row in ATLAS:
        assert ledger.run(row.claim).holds, row.claim
    assert len({r.claim for r in ATLAS}) == len(ATLAS)


def test_bit_eps_is_what_timm_builds_not_the_class_default():
    assert ROWS["arch-stdconv-weights"].eps == BIT_STD_CONV_EPS == 1e-8
    w = _randn(4, 2, 3, 3, seed=5) * 1e-4  # variance 1e-8 per output channel
    assert not torch.allclose(timm_std_conv_weight(w), timm_std_conv_weight(w, eps=1e-8))


def test_llama_row_is_llama2s_eps_and_not_the_class_default():
    row = ROWS["arch-llama-is-rmsnorm"]
    assert row.eps == LLAMA_NORM_EPS == 1e-5 and arch.LLAMA_RMSNORM_DEFAULT_EPS == 1e-6
    assert "params.json" in row.eps_from


def test_atlas_rows_use_the_books_names_for_sequences_of_channels():
    x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=1, dtype=np.float64))
    per_frame = standardize(x.transpose(1, 2), "B F T", over="F").transpose(1, 2)
    torch.testing.assert_close(per_frame, standardize(x, "B T F", over="F"))
