"""The measurements of the Table 1/3 notebook beyond the grid: why a Table 1 cell misses (issue #17).

:class:`Table1Studies` runs them in the notebook's order, one method per section, each writing its CSV
to the notebook's folder and returning what the section displays; the figures are in
:mod:`semiad.uainets.figures`. What each study measures:

* :meth:`~Table1Studies.collapse_cells` -- seeds whose F1 falls below half their cell's median
  (:func:`semiad.uainets.schedule.collapse_summary`);
* :meth:`~Table1Studies.cold_start` -- App. A.1's two cold-start readings on the small-budget sets;
* :meth:`~Table1Studies.covtype_traces` and :meth:`~Table1Studies.one_class_guard` -- what the UAI
  layer does while every audit is normal, traced on Covtype and measured on every set;
* :meth:`~Table1Studies.kddcup_rev_collapse` -- a collapse the guard does not prevent;
* :meth:`~Table1Studies.pool_size` -- F1 vs pool size on Covtype (and KDDCUP's DAGMM on a larger pool);
* :meth:`~Table1Studies.covtype_features` -- Covtype's 54 features vs ODDS's 10;
* :meth:`~Table1Studies.quick_vs_paper` and :meth:`~Table1Studies.tree_aad_settings` -- the baselines'
  misses under the paper profile and Tree-AAD under the authors' code settings;
* :meth:`~Table1Studies.misses` -- every remaining miss with the measurements bearing on it.
"""

from __future__ import annotations

import pandas as pd

from semiad.uainets import grid as U
from semiad.uainets import reduction as B
from semiad.uainets import schedule as S
from semiad.uainets.real import Table1Run, table1_comparison

#: The five small-budget sets (b <= 182) on which the two cold-start readings differ (App. A.1).
SMALL_BUDGET_SETS: tuple[str, ...] = ("abalone", "yeast", "ctg", "arrhythmia", "thyroid")
#: Baselines whose Table 1 misses are rerun under the paper profile.
BASELINES: tuple[str, ...] = ("DAE", "Tree-AAD", "LODA-AAD", "DAGMM (clean)", "DAGMM (dirty)")
#: Sets up to this size (audited whole in quick) are cheap enough for the paper-profile reruns.
RERUN_MAX_ITEMS = 20_000


class Table1Studies:
    """The Table 1/3 notebook's studies on the sets of ``run`` (a :class:`semiad.uainets.real.Table1Run`).

    ``seeds``: the schedule and pool studies' seeds (None = the profile's ``study_seeds``);
    ``enabled=False`` skips every study but :meth:`collapse_cells` (the notebook's ``studies``).
    Results are kept on the instance (``cold``, ``guard``, ``pools``, ...) for :meth:`misses`.
    """

    def __init__(self, run: Table1Run, seeds=None, enabled: bool = True, out=None):
        self.run, self.enabled, self.out = run, enabled, out
        self.seeds = tuple(seeds or run.sizes.study_seeds)
        self.grid_kw = dict(seeds=self.seeds, progress=False, **run.grid)
        self.small = [d for d in SMALL_BUDGET_SETS if d in run.panels]
        self.collapse = self.cold = self.guard = self.traces = self.rev = self.pools = None
        self.features = self.reduction = self.aad = self.rev_seed = None

    def _write(self, frame: pd.DataFrame, name: str) -> None:
        U.save_csv(frame, self.out, name, index=False)

    def _has(self, dataset: str) -> bool:
        return self.enabled and dataset in self.run.panels

    def collapse_cells(self) -> tuple:
        """Mean, median, std and collapsed seeds of the active methods per set (``collapse.csv``)."""
        results = self.run.results
        active = results[results["method"].isin(["DAE_uai", "LODA-AAD", "Tree-AAD"])]
        self.collapse = S.collapse_summary(active)
        self._write(self.collapse, "collapse.csv")
        print("collapsed seeds per method:", self.collapse.groupby("method")["collapsed"].sum().to_dict())
        return (self.collapse.pivot_table(index="dataset", columns="method",
                                          values=["median", "std", "collapsed"], sort=False).round(3),)

    def cold_start(self) -> tuple:
        """App. A.1's cold start read literally vs capped at 10 % of the calls, DAE_uai on the small-budget
        sets (``cold_start_readings.csv``): per set and per reading."""
        if not (self.enabled and self.small):
            print("skipped (studies=False or none of the small-budget sets selected)")
            return ()
        self.cold = S.schedule_study(self.run.profile, self.small,
                                     {k: S.SCHEDULES[k] for k in ("default", "literal cold start")},
                                     **self.grid_kw)
        table = S.schedule_table(self.cold)
        self._write(table, "cold_start_readings.csv")
        return (table.pivot_table(index="dataset", columns="schedule", values=["mean", "median", "paper"],
                                  sort=False).round(3), S.schedule_verdict(table).round(3))

    def covtype_traces(self) -> tuple:
        """One Covtype run (10,000 pool, seed 0) call by call, with and without the one-class guard
        (``collapse_trace_covtype.csv``); returns the per-rule summary."""
        if not self._has("covtype"):
            return ()
        cap = min(10_000, self.run.sizes.tabular_cap("covtype") or 10_000)
        g = self.run.grid
        self.traces = pd.concat([S.collapse_trace(self.run.profile, "covtype", 0, S.SCHEDULES[k],
                                                  pool_cap=cap, data_dir=g["data_dir"],
                                                  device=g["device"]).assign(rule=k)
                                 for k in ("default", "one-class UAI training")])
        self._write(self.traces, "collapse_trace_covtype.csv")
        return (self.traces.groupby("rule", sort=False).apply(lambda t: pd.Series({
            "found at the end": int(t["found"].iloc[-1]), "anomalies": int(t["n_anomalies"].iloc[0]),
            "calls ranked by s": int((t["ranks_by"] == "s").sum()),
            "median AUC while ranking by s_uai": t.loc[t["ranks_by"] == "s_uai", "auc_unaudited"].median(),
            "mean w_s while ranking by s_uai": t.loc[t["ranks_by"] == "s_uai", "w_s"].mean()}),
            include_groups=False).round(3),)

    def one_class_guard(self) -> tuple:
        """DAE_uai with the guard (default) vs trained on one class, every set (``one_class_guard.csv``)."""
        if not self.enabled:
            return ()
        self.guard = S.schedule_study(self.run.profile, self.run.panels,
                                      {k: S.SCHEDULES[k] for k in ("default", "one-class UAI training")},
                                      **self.grid_kw)
        table = S.schedule_table(self.guard)
        self._write(table, "one_class_guard.csv")
        return (table.pivot_table(index="dataset", columns="schedule",
                                  values=["mean", "median", "collapsed", "paper"], sort=False).round(3),
                S.schedule_verdict(table).round(3))

    def kddcup_rev_collapse(self) -> tuple:
        """The worst default-rule KDDCUP-Rev seed of :meth:`one_class_guard`, traced
        (``collapse_trace_kddcup_rev.csv``): the attack types it found and where its stalled audits look."""
        if not self._has("kddcup_rev") or self.guard is None:
            return ()
        g = self.guard
        g = g[(g["schedule"] == "default") & (g["dataset"] == "kddcup_rev") & (g["metric"] == "f1")]
        self.rev_seed = worst = int(g.loc[g["value"].idxmin(), "seed"])
        cap, grid = self.run.sizes.tabular_cap("kddcup_rev"), self.run.grid
        self.rev = rev = S.collapse_trace(self.run.profile, "kddcup_rev", worst, S.SCHEDULES["default"],
                                          pool_cap=cap, data_dir=grid["data_dir"], device=grid["device"])
        self._write(rev, "collapse_trace_kddcup_rev.csv")
        flat = rev["found"].diff().fillna(1).eq(0)
        longest = int(flat.groupby((~flat).cumsum()).sum().max())
        print(f"seed {worst}: F1 {rev['found'].iloc[-1] / rev['n_anomalies'].iloc[0]:.3f}; longest run of "
              f"calls without a new anomaly: {longest} calls; median AUC on unaudited items "
              f"{rev['auc_unaudited'].median():.3f}")
        return (S.found_types("kddcup_rev", rev, cap, data_dir=grid["data_dir"]).head(8),
                S.stall_distances(self.run.profile, "kddcup_rev", worst, rev, pool_cap=cap,
                                  data_dir=grid["data_dir"]).round(3))

    def pool_size(self) -> tuple:
        """Covtype on growing stratified pools, and KDDCUP's DAGMM (clean) on 5x quick's cap
        (``pool_size_covtype.csv``): mean F1 per method and pool."""
        if not self._has("covtype"):
            return ()
        run = self.run
        self.pools = S.pool_size_study(run.profile, "covtype", run.sizes.pool_study_caps,
                                       methods=("dae_uai", "tree_aad", "loda_aad", "dagmm_dirty"),
                                       **self.grid_kw)
        shown = []
        kdd_cap = run.sizes.tabular_cap("kddcup")
        if "kddcup" in run.panels and kdd_cap:  # DAGMM (clean) on 5x quick's cap (cheap: step-capped)
            kdd = S.pool_size_study(run.profile, "kddcup", (kdd_cap, 5 * kdd_cap), methods=("dagmm_clean",),
                                    **{**self.grid_kw, "seeds": run.sizes.seeds})
            shown.append(kdd[kdd["metric"] == "f1"].groupby(["method", "pool"])["value"]
                         .agg(["mean", "std", "count"]).round(3))
            self.pools = pd.concat([self.pools, kdd])
        self._write(self.pools, "pool_size_covtype.csv")
        p = self.pools
        f1 = p[(p["metric"] == "f1") & (p["status"] == "ok") & (p["dataset"] == "covtype")]
        return (*shown, f1.groupby(["method", "pool", "pool_anomalies"])["value"]
                .agg(["mean", "median", "std", "count"]).round(3))

    def covtype_paper(self) -> pd.DataFrame:
        """Table 1's Covtype cells (paper vs ours)."""
        return table1_comparison(self.run.results, self.run.not_run, datasets=["covtype"])

    def covtype_features(self) -> tuple:
        """The 54-feature Covtype if present; the indicator columns of the 2,000-row 54-feature sample and
        each method on its 54 and 10 columns (``covtype_features.csv``)."""
        from semiad.core.data.resolve import DataNotFoundError
        from semiad.uainets import covtype as C
        from semiad.uainets.data import load_uainets_real

        grid = self.run.grid
        try:
            cov54 = load_uainets_real("covtype54", data_dir=grid["data_dir"], on_missing="error")
            print(f"covtype54 present: {cov54.X.shape}, {int(cov54.y.sum())} anomalies -> run it with "
                  "datasets=['covtype54'] (not part of the default grid: its paper row is Covtype's)")
        except DataNotFoundError as exc:
            print("The 54-feature Covtype is not available here:\n" + str(exc))
        if not (self.enabled and grid["on_missing"] != "demo"):
            return ()
        indicators = C.indicator_table(grid["data_dir"])
        self.features = C.feature_study(self.run.profile, **self.grid_kw)
        self._write(self.features, "covtype_features.csv")
        return indicators, C.feature_table(self.features).round(3)

    def _small_whole(self) -> set[str]:
        from semiad.uainets.data import load_uainets_real

        grid = self.run.grid
        return {d for d in self.run.panels if self.run.sizes.tabular_cap(d) is None
                and len(load_uainets_real(d, data_dir=grid["data_dir"], on_missing=grid["on_missing"]).y)
                <= RERUN_MAX_ITEMS}

    def quick_vs_paper(self) -> tuple:
        """Every baseline miss on a small whole-pool set rerun under ``profile="paper"`` (2 seeds;
        ``quick_vs_paper_profile.csv``)."""
        t1 = self.run.t1
        misses = t1[(t1["agrees"] == False) & t1["dataset"].isin(self._small_whole())  # noqa: E712
                    & t1["method"].isin(BASELINES)]
        label_to_key = {v: k for k, v in U.METHOD_LABELS.items()}
        cells = {d: tuple(label_to_key[m] for m in g["method"]) for d, g in misses.groupby("dataset")}
        if not (self.enabled and cells and self.run.profile != "paper"):
            print("no baseline miss to rerun" if not cells else "skipped")
            return ()
        grid = self.run.grid
        self.reduction = B.reduction_study(cells, seeds=self.seeds[:2], n_jobs=grid["n_jobs"],
                                           device=grid["device"], data_dir=grid["data_dir"],
                                           on_missing=grid["on_missing"], progress=False)
        self._write(self.reduction, "quick_vs_paper_profile.csv")
        return (B.reduction_table(self.reduction).round(3),)

    def tree_aad_settings(self) -> tuple:
        """Tree-AAD's misses on small whole-pool sets under the authors' code settings
        (``tree_aad_settings.csv``)."""
        t1 = self.run.t1
        small_whole = self._small_whole()
        miss = [d for d in t1.loc[(t1["method"] == "Tree-AAD") & (t1["agrees"] == False), "dataset"]  # noqa: E712
                if d in small_whole]
        if not (self.enabled and miss and self.run.grid["on_missing"] != "demo"):
            print("no Tree-AAD miss on a small whole-pool set" if not miss else "skipped")
            return ()
        self.aad = B.aad_settings_study(self.run.profile, miss, seeds=self.run.sizes.seeds,
                                        data_dir=self.run.grid["data_dir"])
        self._write(self.aad, "tree_aad_settings.csv")
        return (B.aad_settings_table(self.aad).round(3),)

    def misses(self) -> pd.DataFrame:
        """Every Table 1 cell outside 0.10 of the paper with the measurements above that bear on it
        (:func:`semiad.uainets.reduction.misses_table`; ``misses_explained.csv``)."""
        stats = self.run.stats
        capped = {r["dataset"]: r["pool"] for r in stats.to_dict("records") if r["pool"] < r["N"]}
        evidence = dict(reduction=self.reduction, aad=self.aad, collapse=self.collapse, pool_caps=capped)
        if self.enabled:
            schedules = pd.concat([self.cold, self.guard]) if self.small else self.guard
            evidence.update(schedules=schedules, pools=self.pools, features=self.features)
        table = B.misses_table(self.run.t1, **evidence)
        self._write(table, "misses_explained.csv")
        print(f"{len(table)} Table 1 cells outside 0.10 of the paper; {int((table['measured'] != '').sum())} "
              "with a measurement of this notebook bearing on them")
        return table
