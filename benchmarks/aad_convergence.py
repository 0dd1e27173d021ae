"""How much does LODA-AAD's result depend on the 500-iteration cap on its weight solve?

Why: every LODA-AAD / Tree-AAD update re-learns the weights by solving the AAD dual with L-BFGS-B
(:func:`semiad.uainets.aad.solve_aad_weights`), stopped after ``aad_max_iter = 500`` iterations in every
profile (:class:`semiad.uainets.grid.UaiNetsConfig`). With LODA-AAD's pairwise terms the dual has up to
``|A| x |N|`` variables (22,500 at quick's memory of 300 labels), and most solves on KDDCUP and Covtype stop
at that cap, short of L-BFGS-B's convergence test. This script runs quick's LODA-AAD cells of Table 1
(budget = #anomalies, so found / #anomalies is the F1; k = 10; memory 300) on real pools under that cap and
under a cap no solve reaches, and prints the F1, the share of solves that stopped at the cap, and the time.
It measures; it changes nothing.

    python benchmarks/aad_convergence.py [--datasets kddcup covtype] [--seeds 0 1] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from semiad.uainets.grid import UaiNetsConfig

#: The cap of every profile's cells (500).
COMMITTED_CAP = UaiNetsConfig().aad_max_iter
#: Far above any solve measured here (the longest converged solve took 5,695 iterations).
CONVERGED_CAP = 20_000


def one_run(dataset: str, seed: int, max_iter: int) -> dict:
    """Quick's LODA-AAD cell of ``dataset`` / ``seed`` with the dual solve capped at ``max_iter``."""
    from semiad import grids
    from semiad.core.oracle import Oracle
    from semiad.uainets.active import run_active_loop
    from semiad.uainets.grid import audit_plan, make_aad, make_pool

    _task, cells = grids.uainets_grid("quick", [dataset], ["loda_aad"], seeds=[seed], budget=None)[0]
    config = cells[0]
    pool = make_pool(config, {"device": "cpu"})
    budget, k = audit_plan(config, pool["y"])
    start = time.perf_counter()
    det = make_aad("loda_aad", {**config["params"], "aad_max_iter": max_iter}, seed, pool["X"])
    trace = run_active_loop(det, Oracle(pool["y"]), budget, k)
    its = np.array(det.solver_iterations_)
    return {"dataset": dataset, "seed": seed, "cap": max_iter, "found": int(trace.found_curve()[-1]),
            "f1": round(float(trace.found_curve()[-1]) / int(pool["y"].sum()), 4), "solves": len(its),
            "at cap": int((its >= max_iter).sum()), "median iterations": float(np.median(its)),
            "max iterations": int(its.max()), "seconds": round(time.perf_counter() - start, 1)}


def run(datasets: list[str], seeds: list[int], n_jobs: int) -> pd.DataFrame:
    jobs = [(d, s, cap) for d in datasets for s in seeds for cap in (COMMITTED_CAP, CONVERGED_CAP)]
    rows = Parallel(n_jobs=n_jobs)(delayed(one_run)(*job) for job in jobs)
    return pd.DataFrame(rows)


def table(out: pd.DataFrame) -> pd.DataFrame:
    """Rows: (dataset, seed); columns: F1 at each cap and the converged-minus-committed difference."""
    wide = out.pivot_table(index=["dataset", "seed"], columns="cap", values="f1")
    wide["converged - committed"] = wide[CONVERGED_CAP] - wide[COMMITTED_CAP]
    return wide


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["kddcup", "covtype"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    out = run(args.datasets, args.seeds, args.jobs)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(out.to_string(index=False))
        print("\nF1 at budget = #anomalies (Table 1):\n" + table(out).round(4).to_string())


if __name__ == "__main__":
    main()
