"""The training chapter's helpers: the digits, the stacked networks, and the two-process launcher
(bounded in time, always shut down, nothing left listening)."""

import numpy as np
import psutil
import pytest
import torch

from normaxes.chapters import training


def test_digits_are_sklearns_load_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x_train, y_train, x_test, y_test = training.digits()
    x = torch.cat([x_train, x_test])[:, 0].numpy() * 16
    y = torch.cat([y_train, y_test]).numpy()
    order = np.random.default_rng(0).permutation(len(d.target))[:len(y)]
    assert np.array_equal(x, d.images[order]) and np.array_equal(y, d.target[order])
    assert x_train.shape == (training.N_TRAIN, 1, 8, 8)
    assert x_test.shape == (training.N_TEST, 1, 8, 8)


def test_a_stacked_network_trains_as_it_would_alone():
    """Network k of a Stack follows the trajectory of the same TinyNet trained on its own."""
    x_train, y_train, _, _ = training.digits()
    norms = ["BN", "GN2", "LN"]
    with training.fixed_threads(1):
        alone = []
        for k, norm in enumerate(norms):
            torch.manual_seed(k)
            alone.append(training.TinyNet(norm))
        net = training.Stack(norms, alone)
        opts = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in alone]
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        for step in range(5):
            idx = torch.stack([torch.arange(4) + 4 * step + 20 * k for k in range(3)])  # [K, B]
            x = x_train[idx][:, :, 0].transpose(0, 1)
            y = y_train[idx].transpose(0, 1)
            loss = torch.nn.functional.cross_entropy(net(x).reshape(-1, 10), y.reshape(-1),
                                                     reduction="sum") / 4
            opt.zero_grad(), loss.backward(), opt.step()
            for k, (m, o) in enumerate(zip(alone, opts, strict=True)):
                lk = torch.nn.functional.cross_entropy(m(x_train[idx[k]]), y_train[idx[k]])
                o.zero_grad(), lk.backward(), o.step()
        with torch.no_grad():
            test = x_train[:16]
            stacked = net.eval()(test.expand(-1, 3, -1, -1))
            for k, m in enumerate(alone):
                assert torch.allclose(stacked[:, k], m.eval()(test), atol=1e-4)


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
def test_a_failing_worker_is_ended(fault, error, monkeypatch):
    started = []
    real = training.subprocess.Popen

    def spy(*args, **kwargs):
        p = real(*args, **kwargs)
        started.append(p.pid)
        return p

    monkeypatch.setattr(training.subprocess, "Popen", spy)
    with pytest.raises(error):
        training.run_two_processes(timeout=8 if fault == "hang" else 120, fault=fault)
    assert len(started) == 2
    _assert_nothing_left(started)


def test_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout"):
        training.run_two_processes(timeout=0)
