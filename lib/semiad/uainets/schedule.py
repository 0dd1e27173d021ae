"""The UAI layer's schedule on Table 1's data, measured (UaiNets App. A.1, Sec. 4.2; issue #17).

App. A.1 fixes the active schedule in one sentence: "for the first 10 calls of select_top, we use the
base anomaly score (s) ... using the UAI one for all later labeling decisions". Two questions it
leaves open decide several Table 1 cells, so both are parameters and both are measured here:

* **The cold-start reading** (:class:`semiad.uainets.grid.ColdStart`): a fixed 10 calls, or
  10 calls but at most a fraction of the run's calls. On Abalone (b = 29, k = 3: exactly 10 calls)
  the literal reading never lets the UAI layer rank, yet Table 1 prints DAE_uai 0.55 vs DAE 0.08.
* **What the UAI layer does while every audit is normal** (``wait_for_both_classes``). A logistic
  regression trained on one class only learns to push the audited items down: on Covtype (10,000
  pool, seed 0) its weight on s turned negative and the unaudited anomalies' AUC under s_uai fell
  to 0.05-0.1, so the run ranked the most normal items first and ended at F1 0 (measured in the
  notebook). Waiting -- rank by s and leave the UAI loss out until an anomaly and a normal item have
  been audited -- is the paper's own cold-start remedy (use s while the UAI layer has nothing to
  learn from) extended to the one situation where it has nothing to learn from after 10 calls.

:func:`schedule_study` runs DAE_uai under each :class:`UaiSchedule`; :func:`pool_size_study` runs it
on growing pools of one set (the quick profile's pool caps); :func:`collapse_summary` reports mean,
median, std and the number of collapsed seeds per cell; :func:`collapse_trace`, :func:`stall_distances`
and :func:`found_types` take one run apart call by call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semiad.uainets import grid as U

#: A seed "collapses" when its F1 is below this share of the median F1 of its cell's seeds.
COLLAPSE_SHARE = 0.5


@dataclass(frozen=True)
class UaiSchedule:
    """One reading of App. A.1's active schedule: the cold-start rule and the one-class guard."""

    cold_start: U.ColdStart
    wait_for_both_classes: bool

    @property
    def name(self) -> str:
        guard = "waits for both classes" if self.wait_for_both_classes else "trains on one class"
        return f"{self.cold_start.name}; UAI layer {guard}"


#: The schedules compared in the Table 1/3 notebook; the first is the default of the grid.
SCHEDULES: dict[str, UaiSchedule] = {
    "default": UaiSchedule(U.DEFAULT_COLD_START, True),
    "literal cold start": UaiSchedule(U.LITERAL_COLD_START, True),
    "one-class UAI training": UaiSchedule(U.DEFAULT_COLD_START, False),
    "paper literal": UaiSchedule(U.LITERAL_COLD_START, False),
}


def collapse_summary(results: pd.DataFrame, metric: str = "f1", by=("dataset", "method")) -> pd.DataFrame:
    """Per cell: mean, median, std (ddof 1), min, n and ``collapsed`` = #seeds with value below
    :data:`COLLAPSE_SHARE` x the cell's median (a median of 0 collapses nothing)."""
    ok = results[(results["status"] == "ok") & (results["metric"] == metric)] if "status" in results \
        else results[results["metric"] == metric]
    rows = []
    for key, grp in ok.groupby(list(by), sort=False):
        v = grp["value"].to_numpy(float)
        med = float(np.median(v))
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                     "mean": v.mean(), "median": med, "std": v.std(ddof=1) if len(v) > 1 else np.nan,
                     "min": v.min(), "n": len(v), "collapsed": int((v < COLLAPSE_SHARE * med).sum())})
    return pd.DataFrame(rows)


def paper_dae_uai() -> pd.Series:
    from semiad.core.reported import load_reported

    paper = load_reported("uainets_table1")
    return paper[paper["method"] == "DAEuai"].set_index("dataset")["value"].astype(float)


def schedule_study(profile: str, datasets, schedules: dict[str, UaiSchedule] | None = None, seeds=None,
                   **grid_kw) -> pd.DataFrame:
    """DAE_uai's F1 at b = #anomalies under each schedule (tidy: one row per schedule, set, seed).

    ``grid_kw`` goes to :func:`semiad.uainets.grid.run_uainets_grid` (n_jobs, data_dir, ...);
    cells are cached, so the default schedule's cells are shared with the Table 1 grid.
    """
    frames = []
    for label, sch in (schedules or SCHEDULES).items():
        res, _ = U.run_uainets_grid(profile, list(datasets), ["dae_uai"], seeds=seeds, budget=None,
                                    cold_start=sch.cold_start,
                                    wait_for_both_classes=sch.wait_for_both_classes, **grid_kw)
        frames.append(res.assign(schedule=label, schedule_rule=sch.name))
    return pd.concat(frames, ignore_index=True)


def schedule_table(study: pd.DataFrame) -> pd.DataFrame:
    """Per (set, schedule): mean / median / std / collapsed, the paper's DAE_uai F1, |delta| and
    ``agrees`` (|delta| <= 0.10, Table 1's tolerance)."""
    from semiad.uainets.real import TABLE1_TOLERANCE

    summ = collapse_summary(study, by=("dataset", "schedule"))
    summ["paper"] = summ["dataset"].map(paper_dae_uai())
    summ["abs_delta"] = (summ["mean"] - summ["paper"]).abs()
    summ["agrees"] = summ["abs_delta"] <= TABLE1_TOLERANCE + 1e-12
    return summ


def schedule_verdict(table: pd.DataFrame) -> pd.DataFrame:
    """Per schedule: cells within 0.10 of the paper, mean |delta| and collapsed seeds, over the sets."""
    return (table.groupby("schedule", sort=False)
            .agg(sets=("dataset", "count"), within_0_10=("agrees", "sum"),
                 mean_abs_delta=("abs_delta", "mean"),
                 collapsed_seeds=("collapsed", "sum"), seeds=("n", "sum")).reset_index())


def pool_size_study(profile: str, dataset: str, caps, seeds=None, methods=("dae_uai",),
                    **grid_kw) -> pd.DataFrame:
    """F1 at b = #anomalies of the pool for stratified pools of each size in ``caps`` (None = all)."""
    frames = []
    for cap in caps:
        res, recs = U.run_uainets_grid(profile, [dataset], list(methods), seeds=seeds, budget=None,
                                       pool_cap=cap, **grid_kw)
        pool = {r["config"]["seed"]: r["info"].get("pool") for r in recs if r["status"] == "ok"}
        anom = {r["config"]["seed"]: r["info"].get("n_anomalies") for r in recs if r["status"] == "ok"}
        frames.append(res.assign(pool=res["seed"].map(pool), pool_anomalies=res["seed"].map(anom),
                                 pool_cap="all" if cap is None else cap))
    return pd.concat(frames, ignore_index=True)


def _dae_uai_pool(profile: str, dataset: str, seed: int, pool_cap: int | None, runtime: dict,
                  schedule: UaiSchedule | None = None, budget: int | None = None) -> tuple[dict, dict]:
    """``(config, pool)`` of the DAE_uai grid cell of this set, seed, pool cap and schedule."""
    sch = schedule or SCHEDULES["default"]
    cfg = U.build_configs(profile, [dataset], ["dae_uai"], seeds=[seed], budget=budget, pool_cap=pool_cap,
                          cold_start=sch.cold_start, wait_for_both_classes=sch.wait_for_both_classes)[0]
    return cfg, U.make_pool(cfg, runtime)


class _TracedDetector:
    """Wraps a UaiNet for :func:`semiad.uainets.active.run_active_loop` and records each audit call."""

    def __init__(self, net, y: np.ndarray, audited: np.ndarray):
        self.net, self.y, self.audited, self.rows = net, y, audited, []

    def _row(self, ranks_by: str, auc: float) -> dict:
        return {"call": len(self.rows) + 1, "audits": int(self.audited.sum()),
                "found": int(self.y[self.audited].sum()), "ranks_by": ranks_by,
                "w_s": float(self.net.uai_.weight.detach().cpu().numpy().ravel()[-1]), "auc_unaudited": auc}

    def score(self) -> np.ndarray:
        from sklearn.metrics import roc_auc_score

        score = self.net.score()
        rest = ~self.audited
        auc = roc_auc_score(self.y[rest], score[rest]) if 0 < self.y[rest].sum() < rest.sum() else np.nan
        self.rows.append(self._row("s_uai" if self.net.uai_ready else "s", auc))
        return score

    def update(self, idx: np.ndarray, labels: np.ndarray) -> None:
        self.rows[-1]["picked"] = np.asarray(idx).tolist()
        self.net.update(idx, labels)


def collapse_trace(profile: str, dataset: str, seed: int, schedule: UaiSchedule, pool_cap: int | None,
                   budget: int | None = None, data_dir=None, device: str = "cpu",
                   cache_root: str | None = None) -> pd.DataFrame:
    """One DAE_uai run, audit call by audit call: what the UAI layer has learnt when a run collapses.

    Per call: audits so far, anomalies found, whether select_top ranked by s_uai, the UAI layer's
    weight on the (standardised) base score s, and the AUC of the ranking score over the items not
    yet audited (how well the next picks could be). The run is the grid cell's own (same net, same
    :func:`semiad.uainets.active.run_active_loop`); not cached, the pre-trained base comes from the cell
    cache.
    """
    from semiad.core.oracle import Oracle
    from semiad.uainets.active import run_active_loop

    runtime = {"data_dir": None if data_dir is None else str(data_dir), "device": device,
               "cache_root": cache_root}
    cfg, pool = _dae_uai_pool(profile, dataset, seed, pool_cap, runtime, schedule, budget)
    y = pool["y"]
    b, k = U.audit_plan(cfg, y)
    oracle = Oracle(y)
    traced = _TracedDetector(U.active_uainet(cfg, pool, runtime, b, k), y, oracle.queried)
    run_active_loop(traced, oracle, b, k)
    traced.rows.append(traced._row("end", np.nan))
    return pd.DataFrame(traced.rows).assign(dataset=dataset, seed=seed, schedule=schedule.name, pool=len(y),
                                            n_anomalies=int(y.sum()))


def stall_distances(profile: str, dataset: str, seed: int, trace: pd.DataFrame, pool_cap: int | None,
                    data_dir=None, n_reference: int = 500) -> pd.DataFrame:
    """Where a stalled run looks: distance to the nearest anomaly (scaled features) of the normal items
    audited during the trace's longest run of calls without a new anomaly, vs random pool normals."""
    _, pool = _dae_uai_pool(profile, dataset, seed, pool_cap,
                            {"data_dir": None if data_dir is None else str(data_dir)})
    X, y = pool["X"], pool["y"]
    t = trace[trace["ranks_by"] != "end"].reset_index(drop=True)
    hit = t["found"].shift(-1).fillna(t["found"].iloc[-1]).to_numpy() > t["found"].to_numpy()
    best, start, run = (0, 0), 0, 0
    for i, h in enumerate(hit):
        run, start = (0, i + 1) if h else (run + 1, start)
        best = max(best, (run, start))
    length, first = best
    stalled = np.array([i for p in t["picked"].iloc[first:first + length] for i in p], dtype=np.int64)
    normals = np.flatnonzero(y == 0)
    ref = np.random.default_rng([seed, 17]).choice(normals, min(n_reference, len(normals)), replace=False)
    from sklearn.neighbors import NearestNeighbors

    knn = NearestNeighbors(n_neighbors=1).fit(X[y == 1])

    def nearest(rows: np.ndarray) -> np.ndarray:
        return knn.kneighbors(X[rows])[0][:, 0]

    ref_median = float(np.median(nearest(ref)))
    rows = []
    for label, idx in (("normals audited during the longest stall", stalled[y[stalled] == 0]),
                       ("random normal items of the pool", ref)):
        d = nearest(idx) if len(idx) else np.array([np.nan])
        rows.append({"items": label, "n": len(idx), "calls": length if "stall" in label else np.nan,
                     "median distance to nearest anomaly": float(np.median(d)),
                     "share farther than the random normals' median": float((d > ref_median).mean())})
    return pd.DataFrame(rows)



def found_types(dataset: str, trace: pd.DataFrame, pool_cap: int | None, data_dir=None) -> pd.DataFrame:
    """KDDCUP-Rev: attack types of the anomalies found before the trace's last new find vs those never
    found (a run that learns one attack type and then ranks the others as normal stalls)."""
    from semiad.uainets.data import load_uainets_real

    ds = load_uainets_real(dataset, data_dir=data_dir, on_missing="error")
    if ds.groups is None:
        raise ValueError(f"{dataset} has no per-item types")
    idx = U.pool_indices(ds.y, pool_cap)
    y, types = ds.y[idx], np.asarray(ds.groups)[idx]
    picked = np.array([i for p in trace["picked"].dropna() for i in
                       (p if isinstance(p, list) else json.loads(p))], dtype=np.int64)
    found = np.zeros(len(y), bool)
    found[picked[y[picked] == 1]] = True
    anomalies = y == 1
    out = pd.DataFrame({"type": types[anomalies], "found": found[anomalies]})
    tab = out.groupby("type")["found"].agg(found="sum", total="count").sort_values("total", ascending=False)
    tab["found_share"] = tab["found"] / tab["total"]
    return tab.reset_index()
