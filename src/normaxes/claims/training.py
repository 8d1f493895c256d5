"""Chapter "Batch Norm in training": the batch-size experiment in miniature (verdicts with
margins, not raw accuracies), training vs. evaluation mode, running statistics and precise BN,
and Batch Norm across two processes (torch.distributed, gloo on the loopback address)."""

import numpy as np
import torch

from ..book.ledger import claim
from ..chapters import training

CH = "training"

# --- the experiment: verdicts with margins --------------------------------------------------
# Training amplifies rounding, so the accuracies differ between CPU code paths. Each claim
# compares a measured difference with a stated margin and returns the verdict (True/False).


@claim("bn-train-mode-small-batch", chapter=CH, layout="[N,C,H,W]",
       statement="In training mode (each test batch normalized with its own statistics), "
                 "BN's test error with batches of 2 exceeds its error with batches of 32 by "
                 "more than 10 points (mean over the seeds).",
       left="error(B=2) − error(B=32) > 10 points", right="True")
def _():
    err = training.mean_error  # test error in %, mean over the seeds
    gap = err("BN", 2, "train_mode_error") - err("BN", 32, "train_mode_error")
    return np.array(gap > 10.0), np.array(True)


@claim("bn-eval-beats-train-mode-b2", chapter=CH, layout="[N,C,H,W]",
       statement="At B=2, BN's error in evaluation mode (running statistics) is more than 10 "
                 "points below its error in training mode (batch statistics).",
       left="train-mode error − eval-mode error > 10 points", right="True")
def _():
    err = training.mean_error
    gap = err("BN", 2, "train_mode_error") - err("BN", 2, "eval_error")
    return np.array(gap > 10.0), np.array(True)


@claim("gn-ln-modes-agree", chapter=CH, layout="[N,C,H,W]",
       statement="GN, LN and no norm keep no running statistics: their test errors in "
                 "training and evaluation mode are identical, at every batch size and seed.",
       left="eval-mode errors", right="training-mode errors")
def _():
    runs = training.experiment().values()  # one Outcome per batch size
    rows = [training.NORMS.index(n) for n in ("GN4", "GN2", "LN", "none")]
    return (np.stack([r.eval_error[rows] for r in runs]),
            np.stack([r.train_mode_error[rows] for r in runs]))


@claim("precise-bn-lowers-error", chapter=CH, layout="[N,C,H,W]",
       statement="Re-estimating BN's statistics after training (precise BN) lowers its "
                 "eval-mode error, averaged over the batch sizes and seeds, by more than 1 "
                 "point.",
       left="mean error(running stats) − mean error(precise) > 1 point", right="True")
def _():
    err = training.mean_error
    ema = np.mean([err("BN", B) for B in training.BATCH_SIZES])
    precise = np.mean([err("BN", B, "precise_error") for B in training.BATCH_SIZES])
    return np.array(ema - precise > 1.0), np.array(True)


@claim("running-stats-lag", chapter=CH, layout="[N,C,H,W]",
       statement="The running statistics lag the weights: the last 60 training batches, "
                 "replayed through the final weights with the same α = 0.1, give statistics "
                 "more than 5 % away from the stored ones at every batch size, and more than "
                 "twice as far at B=32 as at B=2.",
       left="min lag > 5 % and lag(32) > 2 lag(2)", right="True")
def _():
    lag = {B: r.lag for B, r in training.experiment().items()}  # relative distance
    return np.array(min(lag.values()) > 0.05 and lag[32] > 2 * lag[2]), np.array(True)


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


@claim("gn-not-flat-in-miniature", chapter=CH, layout="[N,C,H,W]",
       statement="What the miniature does not reproduce: with the same two epochs at every "
                 "batch size, B=32 gets only 40 steps, and the error of GN (G=4 and G=2), LN "
                 "and no norm there exceeds their error at B=2 by more than 5 points.",
       left="error(B=32) − error(B=2) > 5 points, for GN4, GN2, LN, none", right="True")
def _():
    err = training.mean_error
    norms = ("GN4", "GN2", "LN", "none")
    return np.array([err(n, 32) - err(n, 2) > 5.0 for n in norms]), np.array(True)


@claim("syncbn-without-group-is-bn", chapter=CH, layout="[N,C,H,W]",
       statement="Without a process group, nn.SyncBatchNorm on CPU raises nothing: it runs "
                 "as plain Batch Norm over the local batch.",
       left="nn.SyncBatchNorm(C), training mode, no process group",
       right="nn.BatchNorm2d(C), training mode")
def _():
    x = torch.randn(4, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    sync = torch.nn.SyncBatchNorm(3).train()(x).detach()  # no process group is up here
    return sync, torch.nn.BatchNorm2d(3).train()(x).detach()
