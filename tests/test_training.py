"""The training chapter's helpers: the digits, the stacked networks, and the two-process launcher
(bounded in time, always shut down, nothing left listening)."""

import numpy as np
import psutil
import pytest
import torch
import torch.nn.functional as F

from normaxes.chapters import training


def test_digits_are_sklearns_load_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x_train, y_train, x_test, y_test = training.digits()
    x = torch.cat([x_train, x_test])[:, 0].numpy() * 16
    y = torch.cat([y_train, y_test]).numpy()
    order = np.random.default_rng(0).permutation(len(d.target))[:len(y)]
    assert np.array_equal(x, d.images[order]) and np.array_equal(y, d.target[order])
    assert len(d.target) == 1797  # the page says so
    assert x_train.shape == (training.N_TRAIN, 1, 8, 8)
    assert x_test.shape == (training.N_TEST, 1, 8, 8)


def _alone_and_stacked(norms=("BN", "BN-conv", "GN4", "LN", "none"), seeds=(0, 1, 2, 3, 4)):
    alone = [training.TinyNet(n).seed(s) for n, s in zip(norms, seeds, strict=True)]
    return alone, training.Stack(list(norms), alone)


def _batches(K, B, steps):  # [steps, K, B] distinct images per network and step
    return torch.arange(steps * K * B).view(steps, B, K).transpose(1, 2) % training.N_TRAIN


def test_a_stacked_network_trains_as_it_would_alone():
    """Network k of a Stack follows the trajectory of the same TinyNet trained on its own with
    PyTorch's layers (nn.Conv2d, nn.BatchNorm2d/1d, nn.GroupNorm, nn.Linear), F.cross_entropy and
    torch.optim.SGD: the outputs in both modes and the running statistics agree after 6 steps."""
    x_train, y_train, _, _ = training.digits()
    images = x_train.view(-1, 8, 8, 1)
    with training.fixed_threads(1):
        alone, net = _alone_and_stacked()
        opts = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in alone]
        opt = training.SGD(net.parameters(), lr=0.05, momentum=0.9)
        for idx in _batches(len(alone), 4, 6):
            loss = training.cross_entropy_sum(net(images[idx]).reshape(-1, 10),
                                              y_train[idx].reshape(-1)) / 4
            loss.backward()
            opt.step()
            for k, (m, o) in enumerate(zip(alone, opts, strict=True)):
                o.zero_grad()
                F.cross_entropy(m(x_train[idx[k]]), y_train[idx[k]]).backward()
                o.step()
        for layer, ours in enumerate(net.bn_layers()):  # BN's 4 layers, BN-conv's first 3
            assert list(ours.rows) == ([0, 1] if layer < 3 else [0])
            for j, k in enumerate(ours.rows):
                ref = alone[k].norms[layer]
                torch.testing.assert_close(ours.running_mean[j], ref.running_mean, atol=1e-5,
                                           rtol=1e-4)
                torch.testing.assert_close(ours.running_var[j], ref.running_var, atol=1e-5,
                                           rtol=1e-4)
                assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 6
        test = x_train[:16]
        with torch.no_grad():
            for mode in ("eval", "train"):
                stacked = getattr(net, mode)()(test.view(1, 16, 8, 8, 1).expand(5, -1, -1, -1, -1))
                for k, m in enumerate(alone):
                    torch.testing.assert_close(stacked[k], getattr(m, mode)()(test),
                                               atol=1e-4, rtol=1e-4)


def test_batchnorm_is_pytorchs_batchnorm():
    """training.BatchNorm (then ReLU) against nn.BatchNorm2d (then ReLU): output, gradients and the
    running mean and unbiased variance after three steps with momentum 0.1, then evaluation."""
    g = torch.Generator().manual_seed(0)
    ours = training.BatchNorm(1, 3)
    ref = torch.nn.BatchNorm2d(3, momentum=training.ALPHA)
    with torch.no_grad():
        w, b = torch.rand(3, generator=g) + 0.5, torch.randn(3, generator=g)
        ours.weight.copy_(w.view(1, 1, 3)), ours.bias.copy_(b.view(1, 1, 3))
        ref.weight.copy_(w), ref.bias.copy_(b)
    for _ in range(3):
        x = torch.randn(4, 3, 2, 2, generator=g) * 3 + 1  # [N, C, H, W]
        xl = x.permute(0, 2, 3, 1)[None].clone().requires_grad_(True)  # [1, N, H, W, C]
        xr = x.clone().requires_grad_(True)
        dy = torch.randn(4, 3, 2, 2, generator=g)
        y, yr = ours(xl), torch.relu(ref(xr))
        torch.testing.assert_close(y[0].permute(0, 3, 1, 2), yr)
        y.backward(dy.permute(0, 2, 3, 1)[None]), yr.backward(dy)
        torch.testing.assert_close(xl.grad[0].permute(0, 3, 1, 2), xr.grad)
        torch.testing.assert_close(ours.weight.grad.flatten(), ref.weight.grad)
        torch.testing.assert_close(ours.bias.grad.flatten(), ref.bias.grad)
        ours.weight.grad = ours.bias.grad = ref.weight.grad = ref.bias.grad = None
    torch.testing.assert_close(ours.running_mean[0], ref.running_mean)
    torch.testing.assert_close(ours.running_var[0], ref.running_var)
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 3
    x = torch.randn(5, 3, 2, 2, generator=g)
    torch.testing.assert_close(ours.eval()(x.permute(0, 2, 3, 1)[None])[0].permute(0, 3, 1, 2),
                               torch.relu(ref.eval()(x)))


@pytest.mark.parametrize("G", [1, 2, 4])
def test_groupnorm_is_pytorchs_groupnorm(G):
    g = torch.Generator().manual_seed(G)
    ours, ref = training.GroupNorm(1, G, 8), torch.nn.GroupNorm(G, 8)
    with torch.no_grad():
        w, b = torch.rand(8, generator=g) + 0.5, torch.randn(8, generator=g)
        ours.weight.copy_(w.view(ours.weight.shape)), ours.bias.copy_(b.view(ours.bias.shape))
        ref.weight.copy_(w), ref.bias.copy_(b)
    x = (torch.randn(3, 8, 2, 2, generator=g) * 2 + 1).requires_grad_(True)
    xl = x.detach().permute(0, 2, 3, 1)[None].clone().requires_grad_(True)
    dy = torch.randn(3, 8, 2, 2, generator=g)
    y, yr = ours(xl), torch.relu(ref(x))
    torch.testing.assert_close(y[0].permute(0, 3, 1, 2), yr)
    y.backward(dy.permute(0, 2, 3, 1)[None]), yr.backward(dy)
    torch.testing.assert_close(xl.grad[0].permute(0, 3, 1, 2), x.grad)
    torch.testing.assert_close(ours.weight.grad.flatten(), ref.weight.grad)


def test_the_learning_rate_scales_with_the_batch_and_drops_once():
    steps = 5 * training.N_TRAIN // 2
    lr = [training.learning_rate(2, s, steps) for s in range(steps)]
    drop = int(steps * training.DECAY_AT)
    assert lr[0] == lr[drop - 1] == pytest.approx(0.1 * 2 / 32)
    assert lr[drop] == lr[-1] == pytest.approx(0.1 * 2 / 32 / 10)
    assert training.learning_rate(32, 0, 160) == pytest.approx(0.1)


_HASH = """
import hashlib, torch
from normaxes.chapters import training
with training.fixed_threads(1):
    net, _ = training.train(8, norms=("BN", "GN4", "LN", "none"), seeds=(0,), epochs=1)
print(hashlib.sha256(b"".join(t.numpy().tobytes() for t in net.state_dict().values())).hexdigest())
"""


def test_training_gives_the_same_bits_on_every_cpu_path_and_thread_count():
    """What the chapter prints is the test error of trained networks, which one rounding step
    anywhere in training would change: the same training run, in processes with PyTorch's
    non-vectorised CPU path and with 1 or 2 threads, ends with bit-identical weights and running
    statistics."""
    import os
    import subprocess
    import sys

    def run(**env):
        out = subprocess.run([sys.executable, "-c", _HASH], capture_output=True, text=True,
                             env={**os.environ, **env}, timeout=300, check=True)
        return out.stdout.strip()

    native = run(OMP_NUM_THREADS="2")
    assert len(native) == 64
    assert run(ATEN_CPU_CAPABILITY="default", OMP_NUM_THREADS="1") == native


def _bn_inputs(net, x, batch):
    """Every BatchNorm layer's input over the batches of *x*, captured by forward hooks on a copy
    of *net* in training mode: ``[layer][k, all entries, C]``, float64."""
    import copy

    probe = copy.deepcopy(net).train()
    seen = [[] for _ in probe.bn_layers()]
    hooks = [m.register_forward_pre_hook(
        lambda m, args, i=i: seen[i].append(args[0].reshape(len(args[0]), -1, args[0].shape[-1])))
        for i, m in enumerate(probe.bn_layers())]
    with torch.no_grad():
        for i in range(0, x.shape[1], batch):
            probe(x[:, i:i + batch])
    for h in hooks:
        h.remove()
    return [torch.cat(parts, dim=1).double() for parts in seen]


@pytest.fixture(scope="module")
def trained():
    with training.fixed_threads(1):
        net, _ = training.train(8, norms=("BN", "GN4"), seeds=(0, 1), epochs=1)
    x_train = training.digits()[0]
    return net, x_train.view(1, -1, 8, 8, 1).expand(net.K, -1, -1, -1, -1)


def test_precise_bn_gives_each_layer_the_statistics_of_all_training_images(trained):
    """Precise BN, stated: afterwards each BN layer's running mean and running variance are the
    mean and the unbiased variance (as PyTorch stores it) of that layer's input over all the
    training images, fed in batches of PRECISE_BATCH in training mode, computed here from the
    inputs themselves; and num_batches_tracked counts those batches."""
    import copy

    net, x = trained
    batches = training.N_TRAIN // training.PRECISE_BATCH
    inputs = _bn_inputs(net, x, training.PRECISE_BATCH)
    assert inputs[0].shape[1] == training.N_TRAIN * 64  # all images, every pixel of the 8x8 map
    before = [m.running_mean.clone() for m in net.bn_layers()]
    precise = training.precise_bn(copy.deepcopy(net), x)
    for m, seen, old in zip(precise.bn_layers(), inputs, before, strict=True):
        mean, var = seen.mean(dim=1), seen.var(dim=1, unbiased=True)
        torch.testing.assert_close(m.running_mean.double(), mean, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(m.running_var.double(), var, rtol=1e-4, atol=1e-5)
        assert int(m.num_batches_tracked) == batches
        assert m.momentum == training.ALPHA  # restored for training
        assert (m.running_mean - old).abs().max() > 1e-3  # the EMA was not already this


def test_precise_bn_merges_unequal_batches_exactly():
    """momentum=None pools every entry since the reset (Chan's merge), also when the batches
    differ in size; PyTorch's own momentum=None averages the batches' statistics instead."""
    g = torch.Generator().manual_seed(3)
    parts = [torch.randn(1, n, 2, 2, 3, generator=g) * 2 + 1 for n in (5, 2, 9)]
    ours = training.BatchNorm(1, 3, momentum=None)
    ref = torch.nn.BatchNorm2d(3, momentum=None)
    with torch.no_grad():
        for p in parts:
            ours(p), ref(p[0].permute(0, 3, 1, 2))
    allx = torch.cat(parts, dim=1).reshape(-1, 3).double()
    torch.testing.assert_close(ours.running_mean[0].double(), allx.mean(0), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.running_var[0].double(), allx.var(0), rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked) == 3
    assert (ref.running_var.double() - allx.var(0)).abs().max() > 1e-2  # PyTorch's average


def test_evaluate_measures_the_running_statistics_against_the_precise_ones(trained):
    """Outcome.ema_vs_precise: per BN network, the relative distance between the running
    statistics training left (all layers' means and variances) and the precise ones; the
    training-mode pass over the test set must not have moved them first."""
    import copy

    net, x = trained
    stored = [torch.cat([m.running_mean, m.running_var], dim=1) for m in net.bn_layers()]
    precise = training.precise_bn(copy.deepcopy(net), x)
    new = [torch.cat([m.running_mean, m.running_var], dim=1) for m in precise.bn_layers()]
    a, b = torch.cat(stored, dim=1).double(), torch.cat(new, dim=1).double()
    expected = ((a - b).norm(dim=1) / b.norm(dim=1)).numpy()
    out = training._evaluate(copy.deepcopy(net), 8, ("BN", "GN4"), (0, 1))
    assert out.ema_vs_precise.shape == (2, 2) and np.isnan(out.ema_vs_precise[1]).all()
    np.testing.assert_allclose(out.ema_vs_precise[0], expected, rtol=1e-5)
    assert expected.min() > 1e-3


@pytest.fixture
def started(monkeypatch):
    """The pids of the processes training.subprocess.Popen starts while the test runs."""
    pids = []
    real = training.subprocess.Popen

    def spy(*args, **kwargs):
        p = real(*args, **kwargs)
        pids.append(p.pid)
        return p

    monkeypatch.setattr(training.subprocess, "Popen", spy)
    return pids


def test_the_second_process_gives_the_same_bits_and_ends(started):
    """experiment() with a second process (batch size 2 there) returns what one process does,
    and leaves no process behind."""
    kw = dict(batch_sizes=(2, 8), norms=("BN", "GN4"), seeds=(0,), epochs=1)
    two = training.experiment.__wrapped__(processes=2, **kw)
    one = training.experiment.__wrapped__(processes=1, **kw)  # starts no process
    assert len(started) == 1 and list(two) == [2, 8]
    for B in (2, 8):
        for field in ("eval_error", "train_mode_error", "precise_error", "ema_vs_precise"):
            assert np.array_equal(getattr(two[B], field), getattr(one[B], field),
                                  equal_nan=True), (B, field)
    _assert_nothing_left(started)


def test_fixed_threads_restores():
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    with training.fixed_threads(1):
        assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before


def test_bad_norm_is_named():
    with pytest.raises(ValueError, match="GN3"):
        training.TinyNet("GN3")


def test_chan_merge_by_hand():
    a, b = np.array([1.0, 3.0]), np.array([2.0, 4.0, 9.0])
    mean, var, n = training.chan_merge(a.mean(), a.var(), 2, b.mean(), b.var(), 3)
    both = np.concatenate([a, b])
    assert n == 5 and np.isclose(mean, both.mean()) and np.isclose(var, both.var())


def _ours():
    """Our child processes and the listening sockets of this process."""
    me = psutil.Process()
    listening = [c for c in me.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    return me.children(recursive=True), listening


def _assert_nothing_left(pids):
    children, listening = _ours()
    assert not [p for p in children if p.pid in pids], "a worker process is still alive"
    assert not listening, f"a port is still listening: {listening}"
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_two_processes_leave_nothing_behind():
    out = training.run_two_processes(timeout=120)
    assert len(out["ranks"]) == 2 and out["ranks"][0]["syncbn_message"].startswith("ValueError")
    _assert_nothing_left(out["pids"])


@pytest.mark.parametrize("fault, error", [("hang", TimeoutError), ("crash", RuntimeError)])
def test_a_failing_worker_is_ended(fault, error, started):
    with pytest.raises(error):
        training.run_two_processes(timeout=8 if fault == "hang" else 120, fault=fault)
    assert len(started) == 2
    _assert_nothing_left(started)


def test_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout"):
        training.run_two_processes(timeout=0)
