"""Chapter "Batch Norm in training": the batch-size experiment in miniature (each claim prints
what it measured), training vs. evaluation mode, running statistics and precise BN, and Batch
Norm across two processes (torch.distributed, gloo on the loopback address)."""

import numpy as np
import torch

from ..book.ledger import claim
from ..chapters import training

CH = "training"

# --- the experiment ----------------------------------------------------------------------
# The training runs give the same bits on every CPU path and thread count (a unit test checks
# it), so each claim prints the number it measured.


@claim("bn-small-batch-gap", chapter=CH, layout="[N,C,H,W]", expect="greater", bound=10.0,
       statement="Evaluated with its running statistics, every BN network trained with batches "
                 "of 2 errs on more than 10 points more of the test images than every BN network "
                 "trained with batches of 32 (its best seed against their worst).",
       left="lowest error at B = 2 − highest error at B = 32 (points)",
       right="10 points")
def _():
    bn = training.seed_errors("BN")  # test error in %, one per seed
    return bn[2].min() - bn[32].max()


@claim("gn-ln-flat", chapter=CH, layout="[N,C,H,W]", expect="less", bound=3.0,
       statement="GN(4) and GN(1), per-example Layer Norm, are flat: the mean test error over "
                 "the seeds varies by less than 3 points across batch sizes 2 to 32.",
       left="highest − lowest mean error across batch sizes, GN(4) and GN(1) (points)",
       right="3 points")
def _():
    spans = []
    for norm in ("GN4", "LN"):
        means = [e.mean() for e in training.seed_errors(norm).values()]
        spans.append(max(means) - min(means))
    return np.array(spans)


@claim("every-network-learns", chapter=CH, layout="[N,C,H,W]", expect="less", bound=10.0,
       statement="Every network learns: each GN(4), GN(1) and no-norm network, and each BN "
                 "network trained with batches of 4 or more, ends below 10 % test error "
                 "(chance is 90 %).",
       left="highest test error of those networks (%)", right="10 %")
def _():
    errors = [e for norm in ("GN4", "LN", "none") for e in training.seed_errors(norm).values()]
    errors += [e for B, e in training.seed_errors("BN").items() if B >= 4]
    return np.concatenate(errors)


@claim("bn-conv-learns-at-b2", chapter=CH, layout="[N,C,H,W]", expect="less", bound=10.0,
       statement="With GN(1) in place of Batch Norm in its fully connected layer (Batch Norm "
                 "after the convolutions only), every network trained with batches of 2 ends "
                 "below 10 % test error.",
       left="highest test error at B = 2, BN in the convolutions only (%)", right="10 %")
def _():
    return training.seed_errors("BN-conv")[2]


@claim("bn-train-mode-small-batch", chapter=CH, layout="[N,C,H,W]", expect="greater", bound=5.0,
       statement="Normalized with the statistics of its test batch (training mode, batches of "
                 "the training size), BN's mean test error at B = 4 is more than 5 points above "
                 "that at B = 32.",
       left="mean error at B = 4 − mean error at B = 32, training mode (points)",
       right="5 points")
def _():
    bn = training.seed_errors("BN", "train_mode_error")
    return bn[4].mean() - bn[32].mean()


@claim("bn-two-entries", chapter=CH, layout="[N,C]",
       statement="Batch Norm over a statistics set of two entries returns ±σ/√(σ² + ε) ≈ ±1, "
                 "whatever the two values: only which of the two is larger survives.",
       left="nn.BatchNorm1d, training mode, a batch of 2",
       right="sign(x − μ) · σ/√(σ² + ε), σ = |x₀ − x₁|/2")
def _():
    x = torch.randn(2, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 5
    bn = torch.nn.BatchNorm1d(6, affine=False).double().train()(x)
    sigma = (x[0] - x[1]).abs() / 2  # the biased standard deviation of two numbers
    return bn, torch.sign(x - x.mean(dim=0)) * sigma / torch.sqrt(sigma ** 2 + 1e-5)


@claim("gn-ln-modes-agree", chapter=CH, layout="[N,C,H,W]",
       statement="GN, per-example Layer Norm and no norm keep no running statistics: their test "
                 "errors in training and evaluation mode are identical, at every batch size and "
                 "seed.",
       left="eval-mode errors", right="training-mode errors")
def _():
    runs = training.experiment().values()  # one Outcome per batch size
    rows = [training.NORMS.index(n) for n in ("GN4", "LN", "none")]
    return (np.stack([r.eval_error[rows] for r in runs]),
            np.stack([r.train_mode_error[rows] for r in runs]))


@claim("running-stats-vs-precise", chapter=CH, layout="[N,C,H,W]", expect="greater", bound=2.0,
       statement="After training, BN's running statistics are further from the precise ones "
                 "when the batches were small: their mean relative distance after B = 2 is more "
                 "than twice that after B = 32.",
       left="mean ‖running − precise‖ / ‖precise‖ at B = 2, over that at B = 32",
       right="2")
def _():
    bn = training.NORMS.index("BN")
    gap = {B: r.ema_vs_precise[bn].mean() for B, r in training.experiment().items()}
    return gap[2] / gap[32]


@claim("precise-bn-changes-little", chapter=CH, layout="[N,C,H,W]", expect="less", bound=1.0,
       statement="With the learning rate divided by 10 for the last third of training, precise "
                 "BN changes BN's mean test error by less than 1 point at every batch size from "
                 "4 to 32.",
       left="largest |mean error after precise BN − mean error before| for B ≥ 4 (points)",
       right="1 point")
def _():
    before, after = training.seed_errors("BN"), training.seed_errors("BN", "precise_error")
    return np.array([abs(after[B].mean() - before[B].mean()) for B in before if B >= 4])


@claim("precise-bn-keeps-b2-broken", chapter=CH, layout="[N,C,H,W]", expect="greater",
       bound=40.0,
       statement="At B = 2, BN after precise BN still errs on more than 40 % of the test "
                 "images (mean over the seeds): new statistics do not repair weights trained on "
                 "two-entry statistics.",
       left="mean test error at B = 2 after precise BN (%)", right="40 %")
def _():
    return training.seed_errors("BN", "precise_error")[2].mean()


# --- Batch Norm across two processes -------------------------------------------------------


@claim("dist-per-process-bn", chapter=CH, layout="[N,C,H,W]", expect="differ", min_diff=0.1,
       statement="Plain BatchNorm2d in two processes normalizes each shard (3 and 5 images) "
                 "with that process's own statistics: not BN over the 8 images.",
       left="per-process nn.BatchNorm2d, shards concatenated",
       right="F.batch_norm over the concatenated batch")
def _():
    x, _ = training.concatenated("unequal")  # rank 0's 3 images, then rank 1's 5
    whole = torch.nn.functional.batch_norm(x, None, None, training=True)
    return training.gathered("unequal", "local_y"), whole


@claim("dist-running-mean-own", chapter=CH, layout="[N,C,H,W]",
       statement="Each process's running mean is α = 0.1 times its own shard's mean: the "
                 "two processes end with different running statistics.",
       left="running_mean of each process", right="0.1 × mean of its own shard")
def _():
    counts = (3, 5)
    own = [training.shard(r, counts)[0].mean(dim=(0, 2, 3)) for r in range(2)]
    return training.gathered("unequal", "local_running_mean"), 0.1 * torch.stack(own)


@claim("dist-chan-merge-equal", chapter=CH, layout="[N,C,H,W]",
       statement="All-gathering (mean, variance, count) and merging them with Chan's formula "
                 "gives, in each process, the mean and variance over both shards (4 + 4).",
       left="merged (mean, var) in each process",
       right="mean and biased var over the concatenated batch")
def _():
    x, _ = training.concatenated("equal")
    merged = torch.cat([training.gathered("equal", "merged_mean"),
                        training.gathered("equal", "merged_var")], dim=1)
    whole = torch.cat([x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)])
    return merged, whole.expand(2, -1)


@claim("dist-chan-merge-unequal", chapter=CH, layout="[N,C,H,W]",
       statement="The merge weighs each process by its count, so it holds with unequal "
                 "shards too (3 + 5 images).",
       left="merged (mean, var) in each process",
       right="mean and biased var over the concatenated batch")
def _():
    x, _ = training.concatenated("unequal")
    merged = torch.cat([training.gathered("unequal", "merged_mean"),
                        training.gathered("unequal", "merged_var")], dim=1)
    whole = torch.cat([x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)])
    return merged, whole.expand(2, -1)


@claim("dist-sync-bn-forward", chapter=CH, layout="[N,C,H,W]",
       statement="Each process normalizing its shard with the merged statistics gives "
                 "exactly BN over the concatenated batch (3 + 5 images).",
       left="shards normalized with the merged statistics",
       right="F.batch_norm over the concatenated batch")
def _():
    x, _ = training.concatenated("unequal")
    whole = torch.nn.functional.batch_norm(x, None, None, training=True)
    return training.gathered("unequal", "sync_y"), whole


@claim("dist-sync-bn-backward", chapter=CH, layout="[N,C,H,W]",
       statement="In backward, all-reducing two sums per channel, Σ ȳ and Σ ȳ·(x − μ), lets "
                 "each process compute its part of x̄ of BN over the whole batch.",
       left="x̄ from the two all-reduced sums, per process",
       right="autograd x̄ of F.batch_norm over the concatenated batch")
def _():
    x, dy = training.concatenated("unequal")  # dy: the upstream gradient ȳ
    x.requires_grad_(True)
    torch.nn.functional.batch_norm(x, None, None, training=True).backward(dy)
    return training.gathered("unequal", "sync_dx"), x.grad


@claim("syncbn-without-group-is-bn", chapter=CH, layout="[N,C,H,W]",
       statement="Without a process group, nn.SyncBatchNorm on CPU raises nothing: it runs "
                 "as plain Batch Norm over the local batch.",
       left="nn.SyncBatchNorm(C), training mode, no process group",
       right="nn.BatchNorm2d(C), training mode")
def _():
    x = torch.randn(4, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    sync = torch.nn.SyncBatchNorm(3).train()(x).detach()  # no process group is up here
    return sync, torch.nn.BatchNorm2d(3).train()(x).detach()
