"""Padding helpers, MaskedBatchNorm1d against nn.BatchNorm1d on packed real frames, and the tiny
wav2vec 2.0 feature encoder."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from normaxes import standardize
from normaxes.chapters.padding import (
    MaskedBatchNorm1d,
    TinyFeatureEncoder,
    conv_output_length,
    pad_images,
    pad_sequences,
    padded_batches,
    padded_pair,
    real_frames,
    receptive_field,
    toy_waveform,
)
from normaxes.data import length_mask

# --- padding helpers -----------------------------------------------------------------------------

def test_pad_sequences_numpy_and_torch():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 3)) for n in (4, 2, 5)]
    x, mask = pad_sequences(seqs, 6, value=7.0)
    assert x.shape == (3, 6, 3) and mask.shape == (3, 6, 1) and mask.dtype == bool
    np.testing.assert_array_equal(mask, length_mask([4, 2, 5], 6))
    assert (x[~np.broadcast_to(mask, x.shape)] == 7.0).all()
    np.testing.assert_array_equal(real_frames(x, mask), np.concatenate(seqs))
    xt, mt = pad_sequences([torch.from_numpy(s) for s in seqs])
    assert xt.shape == (3, 5, 3) and mt.dtype == torch.bool
    np.testing.assert_array_equal(real_frames(xt, mt).numpy(), np.concatenate(seqs))
    np.testing.assert_array_equal(real_frames(xt, mt[..., 0]).numpy(), np.concatenate(seqs))


def test_pad_images():
    rng = np.random.default_rng(1)
    imgs = [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 2))]
    x, mask = pad_images(imgs)
    assert x.shape == (2, 2, 5, 4) and mask.shape == (2, 1, 5, 4)
    assert mask[0, 0].sum() == 12 and mask[1, 0].sum() == 10
    np.testing.assert_array_equal(x[0, :, :3, :4], imgs[0])
    np.testing.assert_array_equal(x[1, :, :5, :2], imgs[1])
    assert (x[0, :, 3:] == 0).all()


def test_padded_batches_are_deterministic_and_zero_padded():
    one, two = padded_batches(2, seed=5), padded_batches(2, seed=5)
    for (x1, m1), (x2, m2) in zip(one, two, strict=True):
        assert torch.equal(x1, x2) and torch.equal(m1, m2)
        assert x1.shape[0] == 4 and x1.shape[2] == 8 and m1.shape == x1.shape[:2] + (1,)
        assert (x1[~m1.expand_as(x1)] == 0).all()
        assert int(m1.sum(dim=1).min()) >= 5 and int(m1.sum(dim=1).max()) == x1.shape[1]


@pytest.mark.parametrize("call, words", [
    (lambda: padded_batches(min_length=0), ["min_length", "T=30", "0"]),
    (lambda: pad_sequences(np.zeros((2, 3, 4))), ["seqs must be a list"]),
    (lambda: pad_sequences([]), ["seqs is empty"]),
    (lambda: pad_sequences([np.zeros(3)]), ["sequence 0", "[T, F]"]),
    (lambda: pad_sequences([np.zeros((3, 2)), np.zeros((3, 4))]), ["sequence 1", "F=4", "F=2"]),
    (lambda: pad_sequences([np.zeros((3, 2))], 2), ["T=2", "length 3"]),
    (lambda: pad_images([np.zeros((2, 3))]), ["image 0", "[C, H, W]"]),
    (lambda: pad_images([np.zeros((2, 3, 3)), np.zeros((1, 3, 3))]), ["image 1", "C=1", "C=2"]),
    (lambda: pad_images([np.zeros((2, 3, 3))], H=2), ["image 0", "H=3", "H=2"]),
    (lambda: real_frames(np.zeros((2, 3)), np.ones((2, 3), bool)), ["[B, T, F]", "(2, 3)"]),
    (lambda: real_frames(np.zeros((2, 3, 4)), np.ones((2, 4), bool)), ["mask of shape (2, 4)"]),
])
def test_padding_helpers_errors(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value), (w, str(err.value))


# --- MaskedBatchNorm1d ---------------------------------------------------------------------------

def _pair(seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    ref = torch.nn.BatchNorm1d(5, dtype=dtype)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5, generator=g), ref.bias.uniform_(-1, 1, generator=g)
    ours = MaskedBatchNorm1d(5).to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(2, 9), seed=st.integers(0, 2**31 - 1))
def test_masked_bn_equals_batchnorm1d_on_packed_real_frames(B, T, seed):
    rng = np.random.default_rng(seed)
    ours, ref = _pair(seed % 1000)
    for _ in range(3):
        lengths = rng.integers(0, T + 1, size=B)
        lengths[0] = max(lengths[0], 2)  # at least two real frames
        x = torch.from_numpy(rng.normal(size=(B, T, 5)) * 3 + 1)
        x = torch.where(torch.from_numpy(length_mask(lengths, T)), x,
                        torch.tensor(float("nan"), dtype=x.dtype))  # padding content is irrelevant
        mask = torch.from_numpy(length_mask(lengths, T))
        y = ours.train()(x, mask)
        ref_y = ref.train()(real_frames(x, mask))
        torch.testing.assert_close(real_frames(y, mask), ref_y, rtol=0, atol=1e-10)
        assert (y[~mask.expand_as(y)] == 0).all()
        torch.testing.assert_close(ours.running_mean, ref.running_mean, rtol=0, atol=1e-12)
        torch.testing.assert_close(ours.running_var, ref.running_var, rtol=0, atol=1e-12)
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 3
    with torch.no_grad():
        torch.testing.assert_close(real_frames(ours.eval()(x, mask), mask),
                                   ref.eval()(real_frames(x, mask)), rtol=0, atol=1e-10)


def test_masked_bn_gradients_equal_batchnorm1d():
    ours, ref = _pair(3)
    rng = np.random.default_rng(3)
    mask = torch.from_numpy(length_mask([6, 3, 1], 6))
    x = torch.from_numpy(rng.normal(size=(3, 6, 5))).requires_grad_(True)
    w = torch.from_numpy(rng.normal(size=(3, 6, 5)))
    (ours(x, mask) * w).sum().backward()
    xp = real_frames(x.detach(), mask).requires_grad_(True)
    (ref(xp) * real_frames(w, mask)).sum().backward()
    torch.testing.assert_close(real_frames(x.grad, mask), xp.grad, rtol=0, atol=1e-10)
    assert (x.grad[~mask.expand_as(x)] == 0).all()
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=0, atol=1e-10)


def test_masked_bn_without_mask_is_batchnorm1d_and_affine_off():
    ours, ref = _pair(4)
    x = torch.from_numpy(np.random.default_rng(4).normal(size=(2, 7, 5)))
    torch.testing.assert_close(ours(x), ref(x.transpose(1, 2)).transpose(1, 2), rtol=0, atol=1e-10)
    plain = MaskedBatchNorm1d(5, affine=False).double()
    assert plain.weight is None and plain.bias is None
    torch.testing.assert_close(plain(x), standardize(x, "B T F", over="B T"), rtol=0, atol=1e-10)
    assert "momentum=0.1" in repr(plain)


def test_masked_bn_state_dict_matches_batchnorm1d():
    assert set(MaskedBatchNorm1d(4).state_dict()) == set(torch.nn.BatchNorm1d(4).state_dict())


@pytest.mark.parametrize("call, words", [
    (lambda: MaskedBatchNorm1d(0), ["num_features", "0"]),
    (lambda: MaskedBatchNorm1d(3, momentum=1.5), ["momentum", "1.5"]),
    (lambda: MaskedBatchNorm1d(3, eps=-1.0), ["eps", "-1.0"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 3)), ["[B, T, F]", "(2, 3)"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 4, 5)), ["F=5", "num_features=3"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 4, 3), torch.ones(2, 5, dtype=torch.bool)),
     ["mask of shape (2, 5)", "(2, 4, 3)"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 4, 3), torch.ones(2, 4)), ["boolean"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 4, 3), [[True] * 4] * 2), ["mask must be"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 4, 3), torch.from_numpy(length_mask([1, 0], 4))),
     ["2 real frames", "marks 1"]),
    (lambda: MaskedBatchNorm1d(3)(torch.zeros(2, 4, 3), torch.zeros(2, 4, 1, dtype=torch.bool)),
     ["2 real frames", "marks 0"]),
])
def test_masked_bn_errors(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value), (w, str(err.value))


# --- the tiny feature encoder --------------------------------------------------------------------

KERNELS, STRIDES = (10, 3, 3), (5, 2, 2)


@pytest.mark.parametrize("n", [0, 9, 10, 39, 40, 41, 59, 60, 400, 417])
def test_output_length_is_the_frames_inside_the_real_samples(n):
    R, S = receptive_field(KERNELS, STRIDES)
    assert (R, S) == (40, 20)
    inside = (n - R) // S + 1 if n >= R else 0  # frames t with t*S + R <= n
    assert conv_output_length(n, KERNELS, STRIDES) == inside
    enc = TinyFeatureEncoder("layer").double()
    if n >= R:
        with torch.no_grad():
            assert enc(torch.zeros(1, n, dtype=torch.float64)).shape[1] == inside


@settings(max_examples=15, deadline=None)
@given(n=st.integers(40, 300), pad=st.integers(1, 200), seed=st.integers(0, 1000))
def test_layer_mode_and_masked_group_mode_ignore_padding(n, pad, seed):
    wave = torch.from_numpy(toy_waveform(n, seed=seed, dtype=np.float64))[None]
    padded = torch.cat([wave, torch.from_numpy(
        np.random.default_rng(seed).normal(size=(1, pad)))], dim=1)  # any padding content
    k = conv_output_length(n, KERNELS, STRIDES)
    with torch.no_grad():
        for mode in ("layer", "group"):
            enc = TinyFeatureEncoder(mode, seed=seed).double()
            alone = enc(wave)[0]
            torch.testing.assert_close(enc(padded, lengths=[n])[0, :k], alone, rtol=0, atol=1e-10)
            assert (enc(padded, lengths=[n])[0, k:] == 0).all()
            if mode == "layer":
                torch.testing.assert_close(enc(padded)[0, :k], alone, rtol=0, atol=1e-10)


def test_group_mode_without_lengths_depends_on_padding():
    wave = torch.from_numpy(toy_waveform(200, seed=0, dtype=np.float64))[None]
    padded = torch.cat([wave, torch.zeros(1, 100, dtype=torch.float64)], dim=1)
    enc = TinyFeatureEncoder("group").double()
    k = enc.output_length(200)
    with torch.no_grad():
        assert (enc(padded)[0, :k] - enc(wave)[0]).abs().max() > 0.05


def test_padded_pair():
    alone, batch = padded_pair(30, 50)
    assert alone.shape == (1, 30) and batch.shape == (2, 50)
    assert torch.equal(batch[0, :30], alone[0]) and (batch[0, 30:] == 0).all()


def test_encoder_structure_follows_wav2vec2():
    g, ln = TinyFeatureEncoder("group"), TinyFeatureEncoder("layer")
    assert isinstance(g.norms[0], torch.nn.GroupNorm)
    assert g.norms[0].num_groups == g.norms[0].num_channels == 4
    assert all(isinstance(n, torch.nn.Identity) for n in g.norms[1:])
    assert all(isinstance(n, torch.nn.LayerNorm) for n in ln.norms)
    assert all(c.bias is None for c in g.convs)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 4, 9)))
    with torch.no_grad():  # one group per channel is Instance Norm
        torch.testing.assert_close(torch.nn.GroupNorm(4, 4).double()(x), F.instance_norm(x))


@pytest.mark.parametrize("call, words", [
    (lambda: TinyFeatureEncoder("batch"), ["mode", "'batch'"]),
    (lambda: TinyFeatureEncoder("group", channels=(4, 4), kernels=(3,), strides=(1,)),
     ["channels (2)", "kernels (1)"]),
    (lambda: TinyFeatureEncoder()(torch.zeros(100)), ["[B, samples]", "(100,)"]),
    (lambda: TinyFeatureEncoder()(torch.zeros(2, 100), lengths=[100]), ["1 entries", "B=2"]),
    (lambda: TinyFeatureEncoder()(torch.zeros(1, 100), lengths=[101]), ["[0, 100]", "[101]"]),
    (lambda: conv_output_length(10, (3, 3), (1,)), ["kernels (2)", "strides (1)"]),
    (lambda: conv_output_length(-1, (3,), (1,)), ["n_samples", "-1"]),
    (lambda: padded_pair(500, 400), ["short", "long=400", "500"]),
])
def test_encoder_errors(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value), (w, str(err.value))


# --- the chapter's worked example and helpers -----------------------------------------------------

def test_padded_sets_of_the_tiny_example_are_the_fractions_worked_by_hand():
    from normaxes.chapters.padding import padded_sets, tiny_padded

    x, mask = tiny_padded()
    assert mask[..., 0].tolist() == [[True, True, True], [True, True, False]]
    rows = padded_sets(x, mask, "B T F", "T").splitlines()[2:]
    # sequence 2, feature 1: 4, 5 and a padded 0; feature 2: 0, 9 and a padded 0
    assert rows[2] == "| 3 | 4 5 (0) | 3; 3; 14/3 | 2; 9/2; 1/4 |"
    assert rows[3] == "| 4 | 0 9 (0) | 3; 3; 18 | 2; 9/2; 81/4 |"
    gn1 = padded_sets(x, mask, "B T (G Fg)", "T Fg", G=1).splitlines()[3]
    assert gn1 == "| 2 | 4 0 5 9 (0) (0) | 6; 3; 34/3 | 4; 9/2; 41/4 |"


def test_plain_masked_equals_standardize_and_is_zero_at_padding():
    from normaxes.chapters.padding import plain_masked, two_sequences

    x, mask = pad_sequences(list(two_sequences()))
    for dims, over in (((0, 1), "B T"), ((1,), "T")):
        y = plain_masked(x, mask, dims)
        assert torch.allclose(y, standardize(x, "B T F", over=over, mask=mask), atol=1e-12)
        assert (y[~mask.expand_as(x)] == 0).all()


def test_unpack_inverts_real_frames_and_real_pixels():
    from normaxes.chapters.padding import real_pixels, two_images, two_sequences, unpack

    x, mask = pad_sequences(list(two_sequences()))
    assert torch.equal(unpack(real_frames(x, mask), mask), x)  # the padding of x is 0
    imgs, img_mask, small, _ = two_images()
    assert torch.equal(unpack(real_pixels(imgs, img_mask), img_mask), imgs)
    assert torch.equal(real_pixels(imgs, img_mask)[:12], small.reshape(6, 12).T)


# --- Hugging Face's implementation (small random configurations, no download) ---------------------

def test_hf_layer_mode_with_attention_mask_gives_the_waveform_alone():
    from normaxes.chapters.padding import hf_wav2vec2

    alone, batch = padded_pair()
    mask = torch.ones(2, 640, dtype=torch.long)
    mask[0, 400:] = 0
    for seed in (0, 1):
        model = hf_wav2vec2("layer", seed=seed)
        with torch.no_grad():
            by_itself = model(alone).last_hidden_state[0]
            padded = model(batch, attention_mask=mask).last_hidden_state[0, :len(by_itself)]
        torch.testing.assert_close(padded, by_itself, rtol=0, atol=1e-10)


def test_hf_encoder_has_the_tiny_encoders_norms_and_frames():
    from normaxes.chapters.padding import hf_feature_encoder

    _, batch = padded_pair()
    for mode in ("group", "layer"):
        tiny = TinyFeatureEncoder(mode, seed=3).double()
        hf = hf_feature_encoder(tiny)
        norms = [getattr(layer, "layer_norm", None) for layer in hf.conv_layers]
        if mode == "group":
            assert isinstance(norms[0], torch.nn.GroupNorm) and norms[1:] == [None, None]
            assert norms[0].num_groups == norms[0].num_channels == 4
        else:
            assert all(isinstance(n, torch.nn.LayerNorm) for n in norms)
        with torch.no_grad():
            torch.testing.assert_close(hf(batch).transpose(1, 2), tiny(batch), rtol=0, atol=1e-12)


def test_hf_model_leaves_the_global_generator_alone():
    from normaxes.chapters.padding import hf_wav2vec2

    torch.manual_seed(5)
    before = torch.rand(3)
    torch.manual_seed(5)
    hf_wav2vec2("group", seed=0)
    assert torch.equal(torch.rand(3), before)
