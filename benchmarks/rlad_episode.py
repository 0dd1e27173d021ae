"""Speed of one RLAD episode (RLAD paper Sec. 5 / Algorithm 1): episodes per second.

Usage:  [SEMIAD_DATA_DIR=../shared/data] python benchmarks/rlad_episode.py [--episodes 30] [--threads 1]

An episode = one batched Q pass over all training windows + margin sampling (Sec. 5.3), one
LabelSpreading fit (Sec. 5.4) and ``steps_per_episode`` DQN steps (Sec. 5.2). Rows: one synthetic
A2-like series (:func:`semiad.rlad.data.make_demo_collection`) and, when ``SEMIAD_DATA_DIR``
holds Yahoo S5, the A1 series ``real_1``; each on the first 80 % of the series (Sec. 6.3), plus the
same series tiled 8x to show how the all-window margin pass grows with the training set.
Reported: episodes/s (warm-up excluded) and the share of time of each phase.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch

from semiad.core.data.resolve import DataNotFoundError
from semiad.rlad.agent import RLADDetector, series_windows
from semiad.rlad.data import load_yahoo, make_demo_collection


def _series():
    yield "demo A2-like (synthetic)", make_demo_collection(n_series=1)[0]
    try:
        yield "Yahoo A1 real_1", load_yahoo("A1", max_series=1)[0]
    except (DataNotFoundError, FileNotFoundError) as err:
        print(f"Yahoo A1 not found ({type(err).__name__}); SEMIAD_DATA_DIR unset or without yahoo_s5/")


def measure(X: np.ndarray, y: np.ndarray, episodes: int, **params) -> dict:
    det = RLADDetector(n_al=1, random_state=0, **params)
    t = time.perf_counter()
    det.fit(X, y, n_episodes=episodes)
    total = time.perf_counter() - t
    tim = pd.DataFrame(det.timings_).sum()
    loop = float(tim.sum())
    return {"n_windows": len(X), "episodes/s": round(episodes / loop, 2),
            "warm-up + setup s": round(total - loop, 2),
            **{f"% {k[:-2]}": round(100 * v / loop) for k, v in tim.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps-per-episode", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    rows = []
    for name, s in _series():
        cut = len(s) - int(round(0.2 * len(s)))
        X, y, _ = series_windows([type(s)(s.name, s.values[:cut], s.labels[:cut], s.timestamps[:cut],
                                          s.source)])
        for tile in (1, 8):
            row = {"series": name, "tile": tile,
                   **measure(np.tile(X, (tile, 1)), np.tile(y, tile), args.episodes,
                             steps_per_episode=args.steps_per_episode)}
            rows.append(row)
            print(row, flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
