"""Speed of the two trainable parts of the residual-map experiment (issue #8), per CPU thread.

Usage:  python benchmarks/residual_policy_speed.py [--threads 1] [--size 128] [--cae-steps 20]
        [--policy-steps 1024]

Rows: CAE training steps/s (batch 16, L2 and SSIM loss, patch = image size as in the quick
profile) and PPO environment steps/s of the residual-map policy for variants A/B/C (state 64 x 64,
the quick profile's settings), on random images of the given size. The quick profile needs
3 CAEs x 1000 steps and 9 policies x 16,384 steps; with >= 4 CAE steps/s and >= 300 policy
steps/s per thread it fits in about 15 min on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from semiad.residual_rl.cae import CAETrainConfig, train_cae
from semiad.residual_rl.policy import ResidualPolicy, build_states


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--cae-steps", type=int, default=20)
    ap.add_argument("--policy-steps", type=int, default=1024)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(32, args.size, args.size, 3)).astype(np.float32)
    rows = []
    for loss in ("l2", "ssim"):
        cfg = CAETrainConfig(patch_size=args.size, loss=loss, n_steps=args.cae_steps, batch_size=16)
        t = time.perf_counter()
        train_cae(images, cfg, seed=0)
        rows.append({"part": f"CAE ({loss})", "steps": args.cae_steps,
                     "steps_per_s": args.cae_steps / (time.perf_counter() - t)})
    residual = rng.uniform(0, 0.2, images.shape[:3]).astype(np.float32)
    labels = (np.arange(len(images)) % 4 == 0).astype(int)
    for variant in ("A", "B", "C"):
        states = build_states(variant, images, residual, residual, 64)
        t = time.perf_counter()
        ResidualPolicy(total_timesteps=args.policy_steps, n_steps=256, batch_size=64).fit(states, labels)
        rows.append({"part": f"policy {variant} (PPO)", "steps": args.policy_steps,
                     "steps_per_s": args.policy_steps / (time.perf_counter() - t)})
    print(f"threads={args.threads}, image size {args.size}")
    print(pd.DataFrame(rows).round(1).to_string(index=False))


if __name__ == "__main__":
    main()
