"""Memory layout of the App. D LeNets: PyTorch's default NCHW vs channels-last (NHWC), per step.

Usage: ``python benchmarks/lenet_layout.py [--threads 1] [--steps 20] [--repeats 3]``

Why: the LeNets of Deep SAD App. D have 1-32 channels per convolution, so a training step is dominated
by memory-bound work (BatchNorm, leaky ReLU, 2x2 max-pooling, small convolutions) rather than by
matrix products. PyTorch's CPU (oneDNN) kernels for these layers are faster on channels-last tensors,
which is why :data:`semiad.core.detectors.lenet.CHANNELS_LAST` is on. The two layouts compute the same
function
(the printed max |difference| of one forward pass is float rounding only). Prints, per network, the
median milliseconds of one Adam step (forward + backward, batch 200, random images) and of scoring 512
images in eval mode, for both layouts, and the ratio.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import pandas as pd
import torch
from deep_sad_grid import BATCH, step_seconds  # benchmarks/ is on sys.path when run as a script

from semiad.core.detectors.lenet import FlatLeNetAutoencoder, FlatLeNetEncoder, get_arch, use_channels_last

EVAL_BATCH = 512


def _median_ms(fn, repeats: int) -> float:
    return 1e3 * statistics.median(fn() for _ in range(repeats))


def measure(arch: str, part: str, channels_last: bool, steps: int, repeats: int) -> tuple[float, float]:
    """(ms per training step, ms per 512-image eval forward) of one network in one layout. The training step
    is :func:`deep_sad_grid.step_seconds`, the per-step cost behind the grid benchmark's estimate."""
    train_ms = _median_ms(lambda: step_seconds(arch, part, "cpu", steps, channels_last), repeats)
    with use_channels_last(channels_last):
        torch.manual_seed(0)
        net = (FlatLeNetAutoencoder(arch) if part == "ae" else FlatLeNetEncoder(arch)).eval()
        x_eval = torch.rand(EVAL_BATCH, math.prod(get_arch(arch).in_shape))

        @torch.no_grad()
        def score() -> float:
            net(x_eval)
            start = time.perf_counter()
            for _ in range(max(2, steps // 4)):
                net(x_eval)
            return (time.perf_counter() - start) / max(2, steps // 4)

        eval_ms = _median_ms(score, repeats)
    return train_ms, eval_ms


def same_function(arch: str) -> float:
    """Max |difference| of the two layouts' outputs for the same weights and inputs."""
    torch.manual_seed(0)
    with use_channels_last(False):
        plain = FlatLeNetAutoencoder(arch)
    with use_channels_last(True):
        nhwc = FlatLeNetAutoencoder(arch)
        nhwc.load_state_dict(plain.state_dict())
        x = torch.rand(64, math.prod(get_arch(arch).in_shape))
        with torch.no_grad():
            out = nhwc(x)
    with use_channels_last(False), torch.no_grad():
        ref = plain(x)
    return float((out - ref).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--archs", nargs="+", default=["mnist", "fashion_mnist", "cifar10"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {BATCH} (train) / {EVAL_BATCH} "
          f"(eval), median of {args.repeats} x {args.steps} steps")
    rows = []
    for arch in args.archs:
        for part in ("encoder", "ae"):
            nchw = measure(arch, part, False, args.steps, args.repeats)
            nhwc = measure(arch, part, True, args.steps, args.repeats)
            name = f"{arch} {'autoencoder' if part == 'ae' else part}"
            rows.append({"net": name, "NCHW train ms": round(nchw[0], 1),
                         "NHWC train ms": round(nhwc[0], 1), "train speed-up": round(nchw[0] / nhwc[0], 2),
                         "NCHW eval ms": round(nchw[1], 1), "NHWC eval ms": round(nhwc[1], 1),
                         "eval speed-up": round(nchw[1] / nhwc[1], 2)})
        print(f"{arch}: max |NCHW - NHWC| of one AE forward = {same_function(arch):.2e}")
    print("\n" + pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
