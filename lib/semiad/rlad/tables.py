"""RLAD Tables 1-3 as one call each: what the notebooks show, computed here.

* :func:`dataset_table` -- Table 1 (Sec. 6.1): series, points and anomalous points counted from the files,
  beside the paper's numbers (``data/reported/rlad_table1.csv``).
* :func:`run_table` -- Table 2 (Yahoo A1 / A2) and Table 3 (KPI) share it: the grid of
  :mod:`semiad.rlad.grid` under the main protocol (and the other preset as an ablation), precision /
  recall / F1 per method and label budget, the four metrics of :data:`semiad.rlad.claims.CLAIM_METRICS`
  and the text's claims under each (:mod:`semiad.rlad.claims`). The two notebooks differ only in the
  benchmarks they pass.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from semiad.core.notebook import demo_banner
from semiad.core.profiles import check_profile
from semiad.core.reported import load_reported
from semiad.rlad import claims as C
from semiad.rlad import grid as G
from semiad.rlad.protocol import RLADProtocol, other_preset, protocol_named


def prf_table(results: pd.DataFrame, suffix: str = "") -> pd.DataFrame:
    """Mean over seeds of precision / recall / F1 per benchmark x budget x method (Table 2/3 layout)."""
    return metric_table(results, [f"precision{suffix}", f"recall{suffix}", f"f1{suffix}"])


def metric_table(results: pd.DataFrame, wanted) -> pd.DataFrame:
    """Mean over seeds of the metrics ``wanted`` per benchmark x budget x method (one column each, in order;
    e.g. ``list(CLAIM_METRICS)`` for the four F1-like metrics side by side)."""
    wanted = list(wanted)
    sub = G.expand_budgets(results)
    sub = sub[sub["metric"].isin(wanted)]
    table = sub.groupby(["dataset", "budget", "method", "metric"])["value"].mean().unstack("metric")
    table = table.reindex(columns=wanted).round(3).reset_index()
    order = [G.budget_label(b) for b in sorted(table["budget"].unique())]
    table["budget"] = pd.Categorical(table["budget"].map(G.budget_label), categories=order, ordered=True)
    return table


def wide_table(table: pd.DataFrame, budgets) -> pd.DataFrame:
    """A :func:`metric_table` as the paper lays it out: rows benchmark x method, columns budget x metric."""
    metrics = [c for c in table.columns if c not in ("dataset", "budget", "method")]
    order = [G.budget_label(b) for b in sorted(budgets)]
    wide = table.pivot(index=["dataset", "method"], columns="budget", values=metrics)
    return wide.swaplevel(axis=1).reindex(columns=pd.MultiIndex.from_product([order, metrics]))


# ---------------------------------------------------------------------------------------------
# Tables 2 and 3
# ---------------------------------------------------------------------------------------------

@dataclass
class RLADTable:
    """Everything a Table 2 / Table 3 page shows (:func:`run_table`); the CSVs it writes are :meth:`save`'s.

    ``results``: tidy rows of the main protocol; ``runs``: ``{protocol name: results}``, the main one first
    (plus the other preset when the ablation ran); ``records``: the main grid's cell records.
    """

    benchmarks: tuple[str, ...]
    profile: str
    protocol: RLADProtocol
    sources: dict[str, str]
    results: pd.DataFrame
    records: list[dict]
    runs: dict[str, pd.DataFrame]
    wall_min: float
    config: G.RLADGridConfig
    claims: pd.DataFrame = field(init=False)
    comparison: pd.DataFrame = field(init=False)
    per_metric: pd.DataFrame = field(init=False)
    by_protocol: pd.DataFrame = field(init=False)

    def __post_init__(self):
        self.claims = C.reported_claims(self.benchmarks, include_global=True)
        comparison = C.check_claims(self.results, C.reported_claims(self.benchmarks))
        comparison["data_source"] = comparison["dataset"].map(self.sources).fillna("")
        comparison["setting"] = f"profile={self.profile}"
        self.comparison = comparison
        self.per_metric = C.claims_by_metric(self.results, self.claims)
        self.by_protocol = C.claims_by_protocol(self.runs, self.claims)

    @property
    def budgets(self) -> list[float]:
        return sorted(self.results["budget"].dropna().unique())

    def wide(self, table: pd.DataFrame) -> pd.DataFrame:
        return wide_table(table, self.budgets)

    def prf(self, suffix: str = "") -> pd.DataFrame:
        """Table 2/3: P / R / F1 per benchmark and method (rows) x budget (columns). ``suffix``: ``""``
        (thresholds from the training labels), ``"_test_opt"`` (the paper's test-optimal threshold, an
        upper bound) or ``"_pa"`` (point-adjusted)."""
        return self.wide(prf_table(self.results, suffix))

    def four_metrics(self, results: pd.DataFrame | None = None) -> pd.DataFrame:
        """RLAD and the baselines under the four metrics of :data:`~semiad.rlad.claims.CLAIM_METRICS`."""
        return metric_table(self.results if results is None else results, list(C.CLAIM_METRICS))

    def four_metrics_by_protocol(self) -> pd.DataFrame:
        return pd.concat([self.four_metrics(r).assign(protocol=name) for name, r in self.runs.items()],
                         ignore_index=True)

    def four_metrics_by_protocol_wide(self) -> pd.DataFrame:
        """:meth:`four_metrics_by_protocol` in the layout of the tables, one block of rows per protocol."""
        by = self.four_metrics_by_protocol()
        return pd.concat({name: self.wide(by[by["protocol"] == name].drop(columns="protocol"))
                          for name in self.runs}, names=["protocol"])

    def protocol_tally(self) -> pd.DataFrame:
        """Per protocol: (claim, metric) pairs that hold (:func:`semiad.rlad.claims.protocol_tally`)."""
        return C.protocol_tally(self.by_protocol)

    def protocol_claims(self) -> pd.DataFrame:
        """Claim x metric, one column per protocol (:func:`semiad.rlad.claims.protocol_claims_table`)."""
        return C.protocol_claims_table(self.by_protocol)

    def f1_means(self) -> pd.DataFrame:
        """Strict F1 (mean over seeds) per benchmark and method (rows) x budget (columns)."""
        return prf_table(self.results).pivot(index=["dataset", "method"], columns="budget", values="f1")

    def claims_table(self) -> pd.DataFrame:
        """Claim x metric: holds or not (main protocol)."""
        return self.per_metric.pivot(index="claim", columns="metric", values="holds").reindex(
            columns=list(C.CLAIM_METRICS))

    def run_summary(self) -> pd.DataFrame:
        """Per RLAD cell: training windows, N_al, episodes and its labels (warm-up, queried, pseudo)."""
        keys = ("n_train_windows", "n_al", "n_episodes", "labels_queried", "labels_warmup", "labels_pseudo")
        return pd.DataFrame([{"dataset": r["config"]["benchmark"], "budget": r["config"]["budget"],
                              "seed": r["config"]["seed"], **{k: r["info"][k] for k in keys}}
                             for r in self.records
                             if r["config"]["method"] == "rlad" and r["status"] == "ok"])

    def cost(self) -> pd.DataFrame:
        """CPU minutes per method (cached cells keep the runtime of the run that computed them)."""
        cells = self.results.drop_duplicates("cell")
        minutes = cells.groupby("method")["runtime_s"].sum().div(60).round(2)
        return minutes.rename("CPU-min per method").to_frame()

    def failed(self) -> pd.DataFrame:
        failed = self.results[self.results["status"] != "ok"]
        return failed[["method", "dataset", "setting", "seed", "error"]].drop_duplicates()

    def describe(self) -> str:
        """One line per benchmark (series, points, split, data source) and the protocol."""
        lines = [f"{G.BENCHMARK_LABELS[b]}: {self.config.sizes[b][0] or 'all'} series, "
                 f"{self.config.sizes[b][1] or 'all'} points each, split={self.config.split_axis(b)}, "
                 f"data={self.sources[b]}" for b in self.benchmarks]
        lines.append(f"profile={self.profile}, protocol={self.protocol.name} ({self.protocol.settings()}); "
                     f"{self.results['cell'].nunique()} cells, "
                     f"{(self.results['status'] != 'ok').sum()} failed, "
                     f"wall time {self.wall_min:.1f} min (cached cells cost nothing)")
        stale = G.stale_records(self.records)
        if stale:
            lines.append(f"{len(stale)} cell(s) cached before the four metrics: rerun "
                         "run_rlad_grid(..., refresh_metrics=True) to fill them")
        return "\n".join(lines)

    def save(self, out: str | os.PathLike) -> None:
        """``results.csv`` (every protocol's rows), ``comparison.csv`` (the claims, strict F1),
        ``four_metrics.csv``, ``claims_by_metric.csv``, ``claims_by_protocol.csv``,
        ``four_metrics_by_protocol.csv``."""
        out = Path(out)
        pd.concat(self.runs.values(), ignore_index=True).to_csv(out / "results.csv", index=False)
        self.comparison.to_csv(out / "comparison.csv", index=False)
        self.four_metrics().to_csv(out / "four_metrics.csv", index=False)
        self.per_metric.to_csv(out / "claims_by_metric.csv", index=False)
        self.by_protocol.to_csv(out / "claims_by_protocol.csv", index=False)
        self.four_metrics_by_protocol().to_csv(out / "four_metrics_by_protocol.csv", index=False)


def run_table(benchmarks, profile: str = "quick", *, budgets=None, seeds=None, n_jobs: int = 1,
              device: str = "cpu", data_dir: str | os.PathLike | None = None, on_missing: str = "error",
              protocol: str | RLADProtocol | None = None, compare_protocols: bool = True,
              progress: bool = True) -> RLADTable:
    """Table 2 (``("yahoo_a1", "yahoo_a2")``) or Table 3 (``("kpi",)``): run (or load from the cache) the
    grid of :func:`semiad.rlad.grid.run_rlad_grid` under ``protocol`` (a preset name; ``None``:
    :data:`semiad.rlad.protocol.DEFAULT`) and, with ``compare_protocols``, under the other preset too; return
    the results with the claims checked (:class:`RLADTable`). ``on_missing``: the loaders' ``"error"`` or
    ``"demo"`` (a notebook resolves its ``"auto"`` first); a demo fallback is announced."""
    check_profile(profile)
    benchmarks = tuple(benchmarks)
    chosen = protocol_named(protocol) or protocol_named(G.DEFAULT_PROTOCOL)
    sources = G.dataset_sources(benchmarks, data_dir, on_missing)
    demo_banner(sources)
    kwargs = {"benchmarks": benchmarks, "budgets": budgets, "seeds": seeds, "n_jobs": n_jobs,
              "device": device, "data_dir": data_dir, "on_missing": on_missing, "progress": progress}
    t0 = time.time()
    results, records = G.run_rlad_grid(profile, protocol=chosen, **kwargs)
    runs = {chosen.name: results}
    if compare_protocols:
        other = other_preset(chosen)
        runs[other.name], _ = G.run_rlad_grid(profile, protocol=other, **kwargs)
    config = G.RLADGridConfig.for_profile(profile, benchmarks=benchmarks, budgets=budgets, seeds=seeds,
                                          protocol=chosen)
    return RLADTable(benchmarks, profile, chosen, sources, results, records, runs, (time.time() - t0) / 60,
                     config)


# ---------------------------------------------------------------------------------------------
# Table 1
# ---------------------------------------------------------------------------------------------

#: Table 1's column names.
DATASET_NAMES = {"yahoo_a1": "Yahoo A1", "yahoo_a2": "Yahoo A2", "kpi": "KPI"}
TABLE1_METRICS = ["n_series", "n_points", "n_anomalies", "anomaly_pct"]
#: Why a Table 1 cell differs from the files or is missing from the table (checked by :func:`dataset_table`).
TABLE1_NOTES = {
    ("yahoo_a2", "n_anomalies"): "MISMATCH: the official A2 files (md5 = Webscope archive) hold 466 "
                                 "anomalous points; Table 1 prints 400",
    ("yahoo_a2", "anomaly_pct"): "MISMATCH: 466 / 142,100 = 0.33 %; the paper's 0.28 % is 400 / 142,100",
    ("kpi", "n_series"): "not reported in the paper",
    ("kpi", "n_points"): "Sec. 6.1.2 says 3,004,065; Table 1 prints 3004066",
    ("yahoo_a1", "n_series"): "from the text (Sec. 6.1.1), not Table 1",
    ("yahoo_a2", "n_series"): "from the text (Sec. 6.1.1), not Table 1",
}


def table1_cell(value, metric: str) -> str:
    """A Table 1 number as printed: thousands separators, the anomaly share in %."""
    if pd.isna(value):
        return "–"
    return f"{value:.2f} %" if metric == "anomaly_pct" else f"{int(value):,}"


@dataclass
class DatasetTable:
    """Table 1 from the files (:func:`dataset_table`): the collections, per-benchmark and per-series
    statistics, the tidy ``results`` and the ``comparison`` with the paper."""

    data: dict
    setting: str
    ours: pd.DataFrame
    per_series: pd.DataFrame
    results: pd.DataFrame
    comparison: pd.DataFrame
    load_s: float

    @property
    def sources(self) -> dict[str, str]:
        return {key: coll.source for key, coll in self.data.items()}

    def describe(self) -> str:
        """Per benchmark: data source and where it was read from; the setting and the load time."""
        lines = [f"{DATASET_NAMES[key]:9s} {coll.source:4s} {coll.origin}" for key, coll in self.data.items()]
        lines.append(f"{self.setting}: loaded in {self.load_s:.1f} s (real files checksum-verified)")
        return "\n".join(lines)

    def overview(self) -> pd.DataFrame:
        """Per benchmark: the Table 1 quantities and the shortest / longest series."""
        lengths = self.per_series.groupby("dataset", sort=False)["n_points"].agg(["min", "max"])
        return self.ours.join(lengths.add_prefix("length_")).rename(index=DATASET_NAMES).round(3)

    def side_by_side(self) -> pd.DataFrame:
        """Paper | ours | match per benchmark (columns) and quantity (rows), as printed numbers."""
        c = self.comparison
        side = c.assign(paper=[table1_cell(v, m) for v, m in zip(c["paper"], c["metric"], strict=True)],
                        ours=[table1_cell(v, m) for v, m in zip(c["ours"], c["metric"], strict=True)],
                        dataset=c["dataset"].map(DATASET_NAMES))
        columns = pd.MultiIndex.from_product([list(DATASET_NAMES.values()), ["paper", "ours", "match"]])
        return (side.pivot(index="metric", columns="dataset", values=["paper", "ours", "match"])
                .swaplevel(axis=1).reindex(index=TABLE1_METRICS, columns=columns))

    def notes(self) -> pd.DataFrame:
        """The cells that differ or carry a note."""
        c = self.comparison
        return c.loc[c["match"].eq(False) | c["note"].ne(""), ["dataset", "metric", "paper", "ours", "match",
                                                               "note"]]

    def summary(self) -> str:
        c = self.comparison
        flagged = c[c["match"].eq(False)]
        lines = [f"{len(c)} paper cells: {int(c['match'].eq(True).sum())} match, {len(flagged)} differ, "
                 f"{int(c['match'].isna().sum())} without a flag (not reported or not comparable; "
                 f"{self.setting}; sources: {self.sources})"]
        lines += [f"  {DATASET_NAMES[r.dataset]} {r.metric}: paper {table1_cell(r.paper, r.metric)}, "
                  f"files {table1_cell(r.ours, r.metric)} — {r.note}" for r in flagged.itertuples()]
        return "\n".join(lines)

    def save(self, out: str | os.PathLike) -> None:
        """``results.csv``, ``per_series_stats.csv`` and ``comparison.csv``."""
        out = Path(out)
        self.results.to_csv(out / "results.csv", index=False)
        self.per_series.to_csv(out / "per_series_stats.csv", index=False)
        self.comparison.to_csv(out / "comparison.csv", index=False)


def dataset_table(profile: str = "quick", data_dir: str | os.PathLike | None = None,
                  on_missing: str = "error", smoke_series: int = 3) -> DatasetTable:
    """Table 1 (Sec. 6.1): every benchmark loaded (checksum-verified; ``smoke``: its first ``smoke_series``
    series), counted, and compared with the paper. ``match``: counts equal, the anomaly share equal to the
    paper's two decimals; no flag where the paper gives no number or the data are partial or demo."""
    check_profile(profile)
    max_series = smoke_series if profile == "smoke" else None
    setting = "all series" if max_series is None else f"first {max_series} series"
    from semiad.rlad.data import load_benchmark

    t0 = time.time()
    data = {key: load_benchmark(key, data_dir, on_missing, max_series=max_series) for key in DATASET_NAMES}
    load_s = time.time() - t0
    demo_banner({key: coll.source for key, coll in data.items()})
    ours = pd.DataFrame([data[key].stats() for key in DATASET_NAMES]).set_index("dataset")
    per_series = pd.concat([data[key].series_stats().assign(dataset=key) for key in DATASET_NAMES],
                           ignore_index=True)
    results = pd.DataFrame([
        {"method": "dataset statistics", "dataset": key, "setting": setting, "seed": 0, "metric": metric,
         "value": float(ours.loc[key, metric]), "status": "ok", "data_source": data[key].source}
        for key in DATASET_NAMES for metric in TABLE1_METRICS])
    paper = load_reported("rlad_table1").rename(columns={"value": "paper", "where": "paper_source"})
    comparison = paper.assign(ours=[float(ours.loc[d, m]) for d, m in zip(
        paper["dataset"], paper["metric"], strict=True)])
    exact = comparison["metric"] != "anomaly_pct"
    agree = np.where(exact, comparison["ours"] == comparison["paper"],
                     comparison["ours"].round(2) == comparison["paper"])
    comparison["match"] = pd.array(np.where(comparison["paper"].isna(), pd.NA, agree), dtype="boolean")
    comparison["delta"] = comparison["ours"] - comparison["paper"]
    comparison["note"] = [TABLE1_NOTES.get((d, m), "") for d, m in zip(
        comparison["dataset"], comparison["metric"], strict=True)]
    for key in DATASET_NAMES:  # flags on a subset or on demo data would be meaningless: no flag
        if data[key].is_demo or max_series is not None:
            rows = comparison["dataset"] == key
            why = "demo data" if data[key].is_demo else setting
            comparison.loc[rows, "match"] = pd.NA
            comparison.loc[rows, "note"] = [f"not comparable ({why})" + (f"; {n}" if n else "")
                                            for n in comparison.loc[rows, "note"]]
    comparison["data_source"] = comparison["dataset"].map({k: c.source for k, c in data.items()})
    comparison["setting"] = setting
    return DatasetTable(data, setting, ours, per_series, results, comparison, load_s)
