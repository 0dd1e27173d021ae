"""Speed of the DADS anomaly-search environment, alone and with SAC updates (steps / second).

Usage:  SEMIAD_DATA_DIR=../shared/data python benchmarks/dads_env_steps.py [--steps 3000] [--threads 1]

Rows: for each training-set size (the real annthyroid / shuttle_aad splits, plus shuttle_aad
tiled 4x to show that a step does not grow with the dataset), the environment with random actions
and the full SAC loop (one gradient step per environment step, SB3 defaults, [32, 16] MLPs).
Targets: the environment must be O(batch) per step — its steps/s must not fall with n — and the
SAC loop must reach >= 150 steps/s per CPU thread so that the quick profile (3 datasets x 6
contaminations x 3 seeds x 5,000 steps) fits in ~10 min on 2 cores.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch

from semiad.dads.agent import DADS
from semiad.dads.contamination import make_contamination_split
from semiad.dads.data import load_multiclass
from semiad.dads.env import DADSEnv


def env_steps_per_s(X, y_semi, steps: int) -> tuple[float, float]:
    t = time.perf_counter()
    env = DADSEnv(X, y_semi, episode_length=steps)
    env.reset(seed=0)
    setup = time.perf_counter() - t
    rng = np.random.default_rng(0)
    actions = rng.random((steps, 1)).astype(np.float32)
    t = time.perf_counter()
    for a in actions:
        env.step(a)
    return steps / (time.perf_counter() - t), setup


def sac_steps_per_s(X, y_semi, steps: int) -> float:
    t = time.perf_counter()
    DADS(n_episodes=1, episode_length=steps).fit(X, y_semi)
    return steps / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    rows = []
    for name, tile in (("annthyroid", 1), ("shuttle_aad", 1), ("shuttle_aad", 4)):
        split = make_contamination_split(load_multiclass(name, on_missing="demo"), 0.05, seed=0)
        X = np.tile(split.X_train, (tile, 1))
        y_semi = np.tile(split.y_semi, tile)
        env_rate, setup = env_steps_per_s(X, y_semi, args.steps)
        sac_rate = sac_steps_per_s(X, y_semi, args.steps)
        rows.append({"dataset": f"{name} x{tile}", "n_train": len(X),
                     "env setup s (detectors)": round(setup, 2), "env steps/s": round(env_rate),
                     "SAC loop steps/s": round(sac_rate)})
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
