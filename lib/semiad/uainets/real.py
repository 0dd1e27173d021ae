"""Analysis helpers of the UaiNets real-data and toy notebooks (``shared/papers/uainets_active_ad.txt``).

The grid cells themselves live in :mod:`semiad.uainets.grid`; this module turns their tidy
results and raw records into the paper's tables, figures and claim checks:

* **Table 1** (Sec. 4.2): F1 at budget = #anomalies (then precision = recall = F1) per data set and
  method -- :func:`table1_comparison`; **Table 3** (App. B.2): precision / recall / F1 with their
  standard deviations on KDDCUP, Thyroid, Arrhythmia and KDDCUP-Rev -- :func:`table3_comparison`;
  the claims of Sec. 4.2 / App. B.2 as measurable rules, checked on the paper's own numbers and on
  ours -- :func:`table1_claims`.
* **Fig. 4** (Sec. 4.3): recall of the top-#test-anomalies on KDDCUP-Rev's test set for seen and
  unseen attack types vs budget -- :func:`seen_unseen_table`, :func:`dagmm_seen_unseen`,
  :func:`fig4_claims`.
* **Fig. 11** (App. C.2): # correct vs # guesses when expert labels stop at budget b --
  :func:`choice_budgets`, :func:`choice_curves`, :func:`fig11_claims`.
* **Fig. 2** (Sec. 2, Theorem 1): the undecidable toy distribution -- :func:`make_undecidable_toy`,
  :func:`toy_scores`, :func:`toy_capacity_sweep`, :func:`fig2_claims`.

A claim table has one row per claim: ``claim`` (the paper's words), ``source``, ``rule`` (what we
measure), ``paper_evidence`` / ``holds_in_paper`` (the rule applied to the paper's printed numbers,
where they allow it), ``ours_evidence`` / ``holds_ours`` and ``status`` (``holds``, ``does not
hold`` or ``not evaluable: <why>``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from semiad.uainets.grid import METHOD_LABELS, k_for

#: Table 1's methods (rows) in the paper's order, plus the extra rows we add.
TABLE1_METHODS: tuple[str, ...] = ("dagmm_clean", "dagmm_dirty", "loda_aad", "tree_aad", "dae", "dae_uai")
EXTRA_METHODS: tuple[str, ...] = ("ocsvm", "random")
#: Table 3's data sets (App. B.2).
TABLE3_DATASETS: tuple[str, ...] = ("kddcup", "thyroid", "arrhythmia", "kddcup_rev")
#: Smoke runs only these small sets (seconds); quick and paper run every offline set.
SMOKE_DATASETS: tuple[str, ...] = ("thyroid", "arrhythmia", "yeast", "abalone")
#: Zong et al.'s per-data-set DAGMM configurations (:data:`semiad.core.detectors.dagmm.DAGMM_PRESETS`).
DAGMM_PRESETS_FOR: dict[str, str] = {"kddcup": "kddcup", "kddcup_rev": "kddcup_rev", "thyroid": "thyroid",
                                     "arrhythmia": "arrhythmia"}
#: Reported-table method names -> our labels (:data:`semiad.uainets.grid.METHOD_LABELS`).
PAPER_METHOD: dict[str, str] = {"DAEuai": "DAE_uai", "DAE": "DAE", "LODA-AAD": "LODA-AAD",
                                "Tree-AAD": "Tree-AAD", "DAGMM (clean)": "DAGMM (clean)",
                                "DAGMM (dirty)": "DAGMM (dirty)"}
#: Table 1 has no std: ours "agrees" when |delta| <= this (F1 points, i.e. 0.10 = 10 points).
TABLE1_TOLERANCE = 0.10
#: Table 3 prints stds: ours agrees when |delta| <= paper std + this slack (4-decimal rounding is moot).
TABLE3_SLACK = 0.05


def default_datasets(profile: str) -> tuple[str, ...]:
    """The data sets a profile runs: smoke = :data:`SMOKE_DATASETS`, else all of Table 1."""
    from semiad.uainets.data import UAINETS_REAL_DATASETS

    return SMOKE_DATASETS if profile == "smoke" else tuple(UAINETS_REAL_DATASETS)


def absent_datasets(datasets, skip_if_absent, data_dir=None) -> dict[str, str]:
    """``{name: reason}`` for the sets of ``skip_if_absent`` whose data file is not available.

    Such a set is *not run* (never replaced by demo data): the reason names how to get the file
    (e.g. the credit-card fraud set, absent from the offline data folder).
    """
    from semiad.core.data.resolve import DataNotFoundError
    from semiad.uainets.data import load_uainets_real

    out = {}
    for name in datasets:
        if name not in skip_if_absent:
            continue
        try:
            load_uainets_real(name, data_dir=data_dir, on_missing="error", download=False)
        except DataNotFoundError as exc:
            how = " ".join(str(exc).split("\n")[-1].split())
            out[name] = f"not run (data file absent: {how})"
    return out


# ---------------------------------------------------------------------------------------------
# Tables 1 and 3
def summarize(results: pd.DataFrame, metrics=("precision", "recall", "f1")) -> pd.DataFrame:
    """Mean / std (ddof 1) / n over seeds per (dataset, method, metric), ok cells only."""
    ok = results[(results["status"] == "ok") & results["metric"].isin(metrics)]
    return (ok.groupby(["dataset", "method", "metric"])["value"]
            .agg(ours_mean="mean", ours_std="std", ours_n="count").reset_index())


def failed_cells(results: pd.DataFrame) -> dict[tuple[str, str], str]:
    """``{(dataset, method): "failed: <first error>"}`` for (dataset, method) pairs with no ok seed."""
    out = {}
    for (ds, m), grp in results.groupby(["dataset", "method"]):
        if not (grp["status"] == "ok").any():
            err = str(grp["error"].dropna().astype(str).iloc[0]) if grp["error"].notna().any() else ""
            out[(ds, m)] = f"failed: {err[:160]}"
    return out


def _status(row, not_run: dict[str, str], failed: dict, ran: set) -> str:
    if row["dataset"] in not_run:
        return not_run[row["dataset"]]
    if (row["dataset"], row["method"]) in failed:
        return failed[(row["dataset"], row["method"])]
    if row["dataset"] not in ran:
        return "not run (data set not selected in this profile)"
    return "ok" if pd.notna(row["ours_mean"]) else "not run (method not selected)"


def table1_comparison(results: pd.DataFrame, not_run: dict[str, str] | None = None,
                      datasets=None) -> pd.DataFrame:
    """Table 1 cell by cell: paper F1 vs ours (mean ± std over seeds) for its six methods.

    One row per (dataset, method) of ``data/reported/uainets_table1.csv`` (restricted to
    ``datasets`` when given): paper, ours_mean, ours_std, ours_n, delta, ``agrees`` (|delta| <=
    :data:`TABLE1_TOLERANCE`; the paper prints no std) and status (``ok``, ``not run (...)``,
    ``failed: ...``). Our extra rows (OC-SVM, random) are appended with an empty paper value.
    Table 1 prints the Thyroid and Arrhythmia *statistics* under each other's header; its F1
    values are kept under their header (they match Table 3), see the reported file's notes.
    """
    from semiad.core.reported import load_reported

    paper = load_reported("uainets_table1")
    paper = paper[paper["method"] != "stats"].copy()
    paper["method"] = paper["method"].map(PAPER_METHOD)
    paper = paper.rename(columns={"value": "paper"})[["dataset", "method", "metric", "paper"]]
    if datasets is not None:
        paper = paper[paper["dataset"].isin(list(datasets))]
    ours = summarize(results, ("f1",))
    extra = ours[~ours["method"].isin(paper["method"].unique())][["dataset", "method", "metric"]]
    cells = pd.concat([paper, extra.assign(paper=np.nan)], ignore_index=True)
    out = cells.merge(ours, on=["dataset", "method", "metric"], how="left")
    out["paper_std"] = np.nan
    out["delta"] = out["ours_mean"] - out["paper"]
    out["agrees"] = np.where(out["delta"].notna(), out["delta"].abs() <= TABLE1_TOLERANCE + 1e-12, pd.NA)
    ran = set(results.loc[results["status"] == "ok", "dataset"])
    out["status"] = out.apply(_status, axis=1, args=(not_run or {}, failed_cells(results), ran))
    out.insert(0, "table", "Table 1")
    order = {m: i for i, m in enumerate([METHOD_LABELS[m] for m in TABLE1_METHODS + EXTRA_METHODS])}
    from semiad.uainets.data import UAINETS_REAL_DATASETS

    ds_order = {d: i for i, d in enumerate(UAINETS_REAL_DATASETS)}
    out = out.sort_values(["dataset", "method"], key=lambda s: s.map(ds_order if s.name == "dataset"
                                                                         else order)).reset_index(drop=True)
    return out[["table", "dataset", "method", "metric", "paper", "paper_std", "ours_mean", "ours_std",
                "ours_n", "delta", "agrees", "status"]]


def table3_comparison(results: pd.DataFrame, not_run: dict[str, str] | None = None) -> pd.DataFrame:
    """Table 3 (App. B.2) cell by cell: precision / recall / F1 (mean, std) paper vs ours.

    Mapping: DAGMM* at 0 % anomalies in the training set = our DAGMM (clean); DAGMM* at the data
    set's full anomaly share (20 / 2.5 / 15 / 20 %) = our DAGMM (dirty); the active rows and DAE
    as named; the paper's OC-SVM row (clean training, from Zong et al.) vs our OC-SVM trained on
    the contaminated pool (status says so). Rows of baselines we do not reproduce (PAE, DSEBM-r/e,
    DCN, Zong et al.'s DAGMM, DAGMM* at 5 % / 0.5 % / 3 %) stay with ``status = not run (...)``.
    ``agrees``: |delta| <= paper std + :data:`TABLE3_SLACK` (the slack alone where no std is printed).
    """
    from semiad.core.reported import load_reported

    paper = load_reported("uainets_table3")
    full_share = paper.groupby("dataset")["anomalies_in_train"].max()
    rows = []
    for _, r in paper.iterrows():
        m, share = r["method"], r["anomalies_in_train"]
        ours, note = None, ""
        if m in ("LODA-AAD", "Tree-AAD", "DAE", "DAEuai"):
            ours = PAPER_METHOD[m]
        elif m == "DAGMM*" and share == 0:
            ours = "DAGMM (clean)"
        elif m == "DAGMM*" and share == full_share[r["dataset"]]:
            ours = "DAGMM (dirty)"
        elif m == "OC-SVM" and share == 0:
            ours, note = "OC-SVM", " (setting differs: paper trains on clean data, ours on the pool)"
        for metric in ("precision", "recall", "f1"):
            rows.append({"dataset": r["dataset"], "paper_method": m, "anomalies_in_train": share,
                         "method": ours, "metric": metric, "paper": r[metric],
                         "paper_std": r[f"{metric}_std"], "note": note})
    cells = pd.DataFrame(rows)
    ours = summarize(results)
    out = cells.merge(ours, on=["dataset", "method", "metric"], how="left")
    out["delta"] = out["ours_mean"] - out["paper"]
    tol = out["paper_std"].fillna(0) + TABLE3_SLACK
    out["agrees"] = np.where(out["delta"].notna(), out["delta"].abs() <= tol + 1e-12, pd.NA)
    failed, ran = failed_cells(results), set(results.loc[results["status"] == "ok", "dataset"])
    status = []
    for _, r in out.iterrows():
        if r["method"] is None or pd.isna(r["method"]):
            status.append("not run (baseline of Zong et al. 2018 / contamination level not reproduced here)")
        else:
            status.append(_status(r, not_run or {}, failed, ran) + (r["note"] if pd.notna(r["ours_mean"])
                                                                     else ""))
    out["status"] = status
    out["method"] = out["method"].fillna(out["paper_method"])
    out.insert(0, "table", "Table 3")
    return out[["table", "dataset", "method", "paper_method", "anomalies_in_train", "metric", "paper",
                "paper_std", "ours_mean", "ours_std", "ours_n", "delta", "agrees", "status"]]


def f1_wide(comparison: pd.DataFrame, column: str) -> pd.DataFrame:
    """dataset x method table of one column (``paper``, ``ours_mean`` or ``ours_std``) of Table 1's F1."""
    t1 = comparison[(comparison["table"] == "Table 1") & (comparison["metric"] == "f1")]
    return t1.pivot_table(index="dataset", columns="method", values=column, aggfunc="first")


def _claim(claim: str, source: str, rule: str, paper: tuple[str, object], ours: tuple[str, object]) -> dict:
    holds = ours[1]
    status = ("holds" if holds else "does not hold") if isinstance(holds, (bool, np.bool_)) else str(holds)
    return {"claim": claim, "source": source, "rule": rule, "paper_evidence": paper[0],
            "holds_in_paper": paper[1], "ours_evidence": ours[0],
            "holds_ours": holds if isinstance(holds, (bool, np.bool_)) else pd.NA, "status": status}


def _fmt(d: dict) -> str:
    return ", ".join(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in d.items())


def _rule_dae_below_uai(f1: pd.DataFrame):
    sub = f1.dropna(subset=["DAE", "DAE_uai"]) if {"DAE", "DAE_uai"} <= set(f1.columns) else f1.iloc[:0]
    if sub.empty:
        return "no data", "not evaluable: DAE / DAE_uai missing"
    gap = (sub["DAE_uai"] - sub["DAE"]).to_dict()
    return f"DAE_uai - DAE per set: {_fmt(gap)}", bool((sub["DAE"] < sub["DAE_uai"]).all())


def _rule_kdd_gap(f1: pd.DataFrame):
    if "kddcup" not in f1.index or pd.isna(f1.loc["kddcup"].get("DAE_uai", np.nan)) or \
            pd.isna(f1.loc["kddcup"].get("DAE", np.nan)):
        return "no data", "not evaluable: KDDCUP not run"
    gap = f1.loc["kddcup", "DAE_uai"] - f1.loc["kddcup", "DAE"]
    return f"DAE_uai - DAE on KDDCUP = {gap:.2f}", bool(gap >= 0.3)


def _rule_similar_best(f1: pd.DataFrame,
                       baselines=("LODA-AAD", "Tree-AAD", "DAGMM (clean)", "DAGMM (dirty)")):
    cols = [c for c in baselines if c in f1.columns]
    if "DAE_uai" not in f1.columns or not cols:
        return "no data", "not evaluable: methods missing"
    sub = f1.dropna(subset=["DAE_uai"])
    best = sub[cols].max(axis=1)
    ok = sub["DAE_uai"] >= best - 0.05
    return (f"{int(ok.sum())}/{len(ok)} sets with DAE_uai >= best baseline - 0.05 "
            f"(baselines run: {', '.join(cols)}); misses: {', '.join(ok.index[~ok]) or 'none'}",
            bool(ok.mean() > 0.5))


def _rule_beats(f1: pd.DataFrame, other: str, datasets, need: int | None):
    if other not in f1.columns or "DAE_uai" not in f1.columns:
        return "no data", f"not evaluable: {other} missing"
    sub = f1.loc[[d for d in datasets if d in f1.index]].dropna(subset=["DAE_uai", other])
    if sub.empty:
        return "no data", "not evaluable: none of the sets run"
    wins = sub["DAE_uai"] > sub[other]
    ev = f"DAE_uai > {other} on {int(wins.sum())}/{len(wins)} ({', '.join(wins.index[wins]) or 'none'})"
    if need is None:  # a majority
        return ev, bool(wins.mean() > 0.5)
    if len(wins) < len(datasets):
        return ev, f"not evaluable: only {len(wins)} of the {len(datasets)} sets run"
    return ev, bool(wins.sum() >= need)


def _rule_stability(std: pd.DataFrame, methods=("LODA-AAD", "Tree-AAD", "DAE", "DAGMM (dirty)")):
    sub = std.loc[[d for d in TABLE3_DATASETS if d in std.index]]
    if "DAE_uai" not in sub.columns or sub["DAE_uai"].dropna().empty:
        return "no data", "not evaluable: no seeds / sets"
    means = {m: float(sub[m].mean()) for m in ("DAE_uai", *methods)
             if m in sub.columns and sub[m].notna().any()}
    others = [m for m in means if m != "DAE_uai"]
    if not others:
        return _fmt(means), "not evaluable: no baseline std"
    return f"mean F1 std over the Table-3 sets: {_fmt(means)}", bool(all(means["DAE_uai"] < means[m]
                                                                           for m in others))


def _rule_covtype(f1: pd.DataFrame):
    active = [c for c in ("LODA-AAD", "Tree-AAD", "DAE_uai") if c in f1.columns]
    static = [c for c in ("DAE", "DAGMM (clean)", "DAGMM (dirty)") if c in f1.columns]
    if not active or not static or "covtype" not in f1.index:
        return "no data", "not evaluable: Covtype or methods not run"
    gap = (f1[active].max(axis=1) - f1[static].max(axis=1)).dropna()
    if "covtype" not in gap.index:
        return "no data", "not evaluable: Covtype not run"
    return (f"largest gap on {gap.idxmax()} ({gap.max():.2f}); Covtype {gap['covtype']:.2f}",
            bool(gap.idxmax() == "covtype"))


def table1_claims(comparison: pd.DataFrame) -> pd.DataFrame:
    """The claims of Sec. 4.2 and App. B.2 as rules on Table 1's F1 (mean over seeds) and its stds.

    Each rule is applied to the paper's printed numbers (Tables 1 and 3) and to ours:

    1. "DAE produces fairly bad results for all datasets": DAE's F1 < DAE_uai's on every set run.
    2. DAE_uai >> DAE on KDDCUP (paper 0.94 vs 0.39): F1 gap >= 0.30.
    3. "DAEuai produces similar or better results to the best baselines": DAE_uai >= best of
       LODA-AAD, Tree-AAD, DAGMM (clean/dirty) - 0.05 on a majority of sets.
    4. "usually better than LODA-AAD and Tree-AAD": DAE_uai > each of them on a majority of sets.
    5. App. B.2 / Table 3: DAE_uai > LODA-AAD on all four Table-3 sets.
    6. Table 3: DAE_uai > Tree-AAD on at least three of the four (paper: all but Thyroid).
    7. "The active algorithms are also more robust": DAE_uai's F1 std, averaged over the Table-3
       sets, is below that of LODA-AAD, Tree-AAD, DAE and DAGMM (dirty) (the rule the paper's
       Table 3 supports; per set it does not: Tree-AAD on Thyroid and LODA-AAD on Arrhythmia
       have lower stds).
    8. "the largest difference from the active methods to the other algorithms was in Covtype".
    """
    paper_f1, ours_f1, ours_std = (f1_wide(comparison, c) for c in ("paper", "ours_mean", "ours_std"))
    ran = ours_f1.dropna(how="all")
    paper_f1_ran = paper_f1.loc[[d for d in paper_f1.index if d in ran.index]]
    from semiad.core.reported import load_reported

    t3 = load_reported("uainets_table3")
    full = t3.groupby("dataset")["anomalies_in_train"].transform("max")
    t3 = t3[(t3["anomalies_in_train"] == full) & t3["method"].isin(["DAEuai", "LODA-AAD", "Tree-AAD", "DAE",
                                                                    "DAGMM*"])]
    paper_std = t3.assign(method=t3["method"].replace({"DAEuai": "DAE_uai", "DAGMM*": "DAGMM (dirty)"})) \
        .pivot_table(index="dataset", columns="method", values="f1_std")
    specs = [
        ("DAE produces fairly bad results for all datasets", "Sec. 4.2",
         "DAE F1 < DAE_uai F1 on every set run",
         _rule_dae_below_uai),
        ("DAE_uai >> DAE on KDDCUP (0.94 vs 0.39)", "Table 1 / Table 3",
         "F1(DAE_uai) - F1(DAE) >= 0.30 on KDDCUP",
         _rule_kdd_gap),
        ("DAE_uai produces similar or better results to the best baselines", "Sec. 4.2",
         "DAE_uai >= max(LODA-AAD, Tree-AAD, DAGMM clean/dirty) - 0.05 on a majority of the sets run",
         _rule_similar_best),
        ("DAE_uai usually presents better results than LODA-AAD", "Sec. 4.2",
         "DAE_uai > LODA-AAD on a majority of the sets run",
         lambda f: _rule_beats(f, "LODA-AAD", list(f.index), None)),
        ("DAE_uai usually presents better results than Tree-AAD", "Sec. 4.2",
         "DAE_uai > Tree-AAD on a majority of the sets run",
         lambda f: _rule_beats(f, "Tree-AAD", list(f.index), None)),
        ("DAE_uai better than LODA-AAD on KDDCUP, Thyroid, Arrhythmia, KDDCUP-Rev", "App. B.2 (Table 3)",
         "DAE_uai > LODA-AAD on all 4 Table-3 sets",
         lambda f: _rule_beats(f, "LODA-AAD", TABLE3_DATASETS, 4)),
        ("DAE_uai better than Tree-AAD on three of the four Table-3 sets", "App. B.2 (Table 3)",
         "DAE_uai > Tree-AAD on >= 3 of the 4 Table-3 sets",
         lambda f: _rule_beats(f, "Tree-AAD", TABLE3_DATASETS, 3)),
        ("The largest difference from the active methods to the others was in Covtype", "Sec. 4.2",
         "argmax over sets of [best active F1 - best of DAE / DAGMM F1] is Covtype", _rule_covtype),
    ]
    rows = [_claim(c, s, r, fn(paper_f1_ran if len(paper_f1_ran) else paper_f1), fn(ran))
            for c, s, r, fn in specs]
    rows.insert(6 + 1, _claim("DAE_uai is more stable (lower std) than the baselines", "Sec. 4.2 / Table 3",
                              "mean F1 std over the Table-3 sets: DAE_uai below LODA-AAD, Tree-AAD, DAE, "
                              "DAGMM (dirty)", _rule_stability(paper_std), _rule_stability(ours_std)))
    out = pd.DataFrame(rows)
    out.insert(0, "table", "claims (Table 1/3)")
    return out


# ---------------------------------------------------------------------------------------------
# Fig. 4: seen / unseen anomaly types on KDDCUP-Rev
def fig4_budgets(profile: str) -> tuple[int, ...]:
    """Snapshot budgets of Fig. 4 per profile (the paper's x axis is in units of 10^2)."""
    top, step = {"smoke": (150, 50), "quick": (2000, 250), "paper": (10_000, 500)}[profile]
    return tuple(range(0, top + 1, step))


def seen_unseen_table(records: list[dict]) -> pd.DataFrame:
    """Tidy Fig. 4 data: method, seed, budget, recall_seen / recall_unseen / recall on the test set and
    found_train (anomalies audited in the training pool by that budget) from the snapshot records."""
    rows = []
    for rec in records:
        if rec["status"] != "ok":
            continue
        cfg, info = rec["config"], rec["info"]
        curve = np.concatenate(([0], info.get("found_curve", [])))
        static = cfg["method"] in ("dae", "ocsvm", "random")
        for b, snap in info.get("snapshots", {}).items():
            b = int(b)
            rows.append({"method": METHOD_LABELS[cfg["method"]], "seed": cfg["seed"], "budget": b,
                         "recall_seen": snap["recall_seen"], "recall_unseen": snap["recall_unseen"],
                         "recall": snap["recall"], "found_train": int(curve[min(b, len(curve) - 1)]),
                         "static": static})
    return pd.DataFrame(rows)


def dagmm_seen_unseen(profile: str, variant: str = "dirty", seeds=None, device: str = "cpu",
                      data_dir=None) -> pd.DataFrame:
    """DAGMM (Zong et al. preset ``kddcup_rev``) as a static reference of Fig. 4.

    Trained on the same capped training pool as the active methods -- all of it (``dirty``, the
    unsupervised setting of Sec. 4.3, whose training set contains anomalies) or its normal items
    (``clean``) -- for Zong et al.'s epochs capped at the profile's ``dagmm_steps`` optimiser steps
    (as :func:`semiad.uainets.grid.dagmm_f1`); the top-#test-anomalies test energies are
    flagged and the recall of seen and unseen attack types computed as for the other methods.
    Returns one row per seed (budget-independent).
    """
    from semiad.core.detectors.dagmm import DAGMM
    from semiad.uainets.grid import SEEN_UNSEEN, make_pool, sizes_for, tabular_pool_cap

    if variant not in ("dirty", "clean"):
        raise ValueError(f"variant must be 'dirty' or 'clean', got {variant!r}")
    sizes = sizes_for(profile)
    pool = make_pool({"dataset": SEEN_UNSEEN, "data_source": "real",
                      "pool_cap": tabular_pool_cap(sizes, SEEN_UNSEEN)}, {"data_dir": data_dir})
    test = pool["test"]
    n_top = int(test["y"].sum())
    train = pool["X"] if variant == "dirty" else pool["X"][pool["y"] == 0]
    rows = []
    for seed in (sizes["seeds"] if seeds is None else seeds):
        det = DAGMM.preset("kddcup_rev", random_state=int(seed), device=device)
        steps = sizes.get("dagmm_steps")
        if steps is not None:  # the profile's cap on optimiser steps, as in the Table 1 cells
            det.epochs = min(det.epochs, max(1, math.ceil(steps / math.ceil(len(train) / det.batch_size))))
        det.fit(train)
        top = np.argsort(-det.decision_function(test["X"]), kind="stable")[:n_top]
        hit = np.zeros(len(test["y"]), bool)
        hit[top] = True
        rows.append({"method": f"DAGMM ({variant})", "seed": int(seed),
                     "recall_seen": float(hit[test["seen"]].mean()),
                     "recall_unseen": float(hit[test["unseen"]].mean()),
                     "recall": float(hit[test["y"] == 1].mean()), "static": True})
    return pd.DataFrame(rows)


def fig4_claims(table: pd.DataFrame) -> pd.DataFrame:
    """Sec. 4.3's claims on Fig. 4 as rules at the largest budget (means over seeds; static methods
    are budget-independent):

    1. "DAEuai is significantly better at detecting known types": its seen recall exceeds every
       other method's by >= 0.05.
    2. "maintains a recall close to the best on new unseen classes": unseen recall >= best - 0.10.
    3. "better results than LODA-AAD for both seen and unseen": both recalls > LODA-AAD's.
    4. "DAE is able to detect well novelty": DAE's unseen recall >= its seen recall and is within
       0.10 of the best unseen recall.
    5. "DAGMM is not so effective on this test set": every DAGMM variant's overall recall is below
       both DAE's and DAE_uai's.
    The paper prints no numbers for Fig. 4, so ``holds_in_paper`` is empty.
    """
    if table.empty:
        empty = _claim("Sec. 4.3 claims", "Sec. 4.3 / Fig. 4", "-", ("no numbers printed", pd.NA),
                       ("no data", "not evaluable: no run succeeded"))
        return pd.DataFrame([empty])
    b_max = table.loc[~table["static"], "budget"].max() if (~table["static"]).any() else None
    last = table[table["static"] | (table["budget"] == b_max)]
    m = last.groupby("method")[["recall_seen", "recall_unseen", "recall"]].mean()
    rows = []

    def add(claim, rule, fn):
        try:
            ev, holds = fn()
        except KeyError as exc:
            ev, holds = "no data", f"not evaluable: {exc} not run"
        rows.append(_claim(claim, "Sec. 4.3 / Fig. 4", rule, ("no numbers printed", pd.NA), (ev, holds)))

    def c1():
        others = m.drop(index="DAE_uai")["recall_seen"]
        gap = m.loc["DAE_uai", "recall_seen"] - others.max()
        return f"seen recall: {_fmt(m['recall_seen'].to_dict())}; margin {gap:.2f}", bool(gap >= 0.05)

    def c2():
        gap = m["recall_unseen"].max() - m.loc["DAE_uai", "recall_unseen"]
        return (f"unseen recall: {_fmt(m['recall_unseen'].to_dict())}; below best by {gap:.2f}",
                bool(gap <= 0.10))

    def c3():
        d = m.loc["DAE_uai"] - m.loc["LODA-AAD"]
        return (f"DAE_uai - LODA-AAD: seen {d['recall_seen']:.2f}, unseen {d['recall_unseen']:.2f}",
                bool(d["recall_seen"] > 0 and d["recall_unseen"] > 0))

    def c4():
        dae = m.loc["DAE"]
        return (f"DAE seen {dae['recall_seen']:.2f}, unseen {dae['recall_unseen']:.2f}, best unseen "
                f"{m['recall_unseen'].max():.2f}",
                bool(dae["recall_unseen"] >= dae["recall_seen"] and
                     dae["recall_unseen"] >= m["recall_unseen"].max() - 0.10))

    def c5():
        dag = [x for x in m.index if x.startswith("DAGMM")]
        if not dag:
            raise KeyError("DAGMM")
        ref = min(m.loc["DAE", "recall"], m.loc["DAE_uai", "recall"])
        return (f"overall test recall: {_fmt(m['recall'].to_dict())}",
                bool(all(m.loc[x, "recall"] < ref for x in dag)))

    add("DAE_uai is significantly better at detecting known (seen) types of anomalies",
        "seen recall(DAE_uai) >= max over other methods + 0.05 at the largest budget", c1)
    add("DAE_uai maintains a recall close to the best on new unseen classes",
        "unseen recall(DAE_uai) >= best unseen recall - 0.10", c2)
    add("DAE_uai gives better results than LODA-AAD for both seen and unseen classes",
        "seen and unseen recall of DAE_uai > LODA-AAD's", c3)
    add("DAE is able to detect well novelty (new classes)",
        "unseen recall(DAE) >= seen recall(DAE) and >= best unseen recall - 0.10", c4)
    add("DAGMM is not so effective on this test set",
        "overall recall of each DAGMM variant < min(DAE, DAE_uai)", c5)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Fig. 11: choice evolution
#: App. C.2's highlighted budgets: (b, instances, anomalies) of the paper's full sets.
PAPER_FIG11: dict[str, dict] = {
    "kddcup": {"b": 3000, "n": 494_021, "n_anomalies": 97_278, "found": 80_000},
    "thyroid": {"b": 531, "n": 3772, "n_anomalies": 93},
    "kddcup_rev": {"b": 4000, "n": 121_597, "n_anomalies": 24_319},
    "arrhythmia": {"b": None, "n": 452, "n_anomalies": 66},
}
CHOICE_FRACTIONS: tuple[float, ...] = (0.01, 0.03, 0.10)


def proportional_budget(dataset: str, n_pool: int, n_anomalies: int) -> int | None:
    """The paper's App. C.2 budget scaled to our pool (same share of the set labelled), a multiple of k."""
    b = PAPER_FIG11[dataset]["b"]
    if b is None:
        return None
    k = k_for(n_anomalies)
    return max(k, int(round(b * n_pool / PAPER_FIG11[dataset]["n"] / k)) * k)


def choice_budgets(dataset: str, n_pool: int, n_anomalies: int,
                   fractions: tuple[float, ...] = CHOICE_FRACTIONS) -> tuple[int, ...]:
    """Budgets of Fig. 11 for a pool: 0 (the DAE), the paper's budget scaled to the pool (same
    labelled share) and ``fractions`` of the pool; all rounded to multiples of k (App. A.3) so that
    the snapshot is taken exactly at b."""
    k = k_for(n_anomalies)
    bs = {0} | {max(k, int(round(f * n_pool / k)) * k) for f in fractions}
    pb = proportional_budget(dataset, n_pool, n_anomalies)
    if pb is not None:
        bs.add(pb)
    return tuple(sorted(b for b in bs if b <= n_pool))


def choice_curves(records: list[dict]) -> pd.DataFrame:
    """Tidy Fig. 11 curves: dataset, seed, budget (b; 0 = the DAE), guesses, correct."""
    rows = []
    for rec in records:
        if rec["status"] != "ok":
            continue
        cfg, info = rec["config"], rec["info"]
        for b, snap in info.get("snapshots", {}).items():
            rows += [{"dataset": cfg["dataset"], "seed": cfg["seed"], "budget": int(b), "guesses": g,
                      "correct": c, "n_anomalies": info["n_anomalies"], "pool": info["pool"]}
                     for g, c in zip(snap["guesses"], snap["correct"], strict=True)]
    return pd.DataFrame(rows)


def correct_at(curves: pd.DataFrame, guesses: str | int = "n_anomalies") -> pd.DataFrame:
    """# correct at a number of guesses (``"n_anomalies"`` = at #anomalies, linear interpolation on
    the stored grid) per dataset, seed and budget, with recall = correct / #anomalies."""
    rows = []
    for (ds, seed, b), g in curves.groupby(["dataset", "seed", "budget"]):
        n_anom = int(g["n_anomalies"].iloc[0])
        at = n_anom if guesses == "n_anomalies" else (max(b, n_anom) if guesses == "max_b_anomalies"
                                                       else int(guesses))
        c = float(np.interp(at, g["guesses"], g["correct"]))
        rows.append({"dataset": ds, "seed": seed, "budget": b, "at_guesses": at, "correct": c,
                     "recall": c / max(n_anom, 1), "n_anomalies": n_anom, "pool": int(g["pool"].iloc[0])})
    return pd.DataFrame(rows)


def fig11_claims(curves: pd.DataFrame) -> pd.DataFrame:
    """App. C.2's claims as rules on the choice curves (means over seeds). b_p = the paper's
    budget scaled to our pool (:func:`proportional_budget`), recall@n = share of the anomalies among
    the first n guesses, A = #anomalies of the pool:

    1. "with only a few labels it already fairs a lot better than its underlying network": at the
       smallest positive budget, recall@A of DAE_uai > the DAE's (b = 0), on every set.
    2. KDDCUP, "with only 3,000 labeled instances ... it can correctly find 80,000 anomalies with a
       high precision": recall@A at b_p >= 80,000 / 97,278 = 0.82.
    3. KDDCUP, "the DAE with no expert knowledge does a lot worse": recall@A(b_p) - recall@A(DAE) >= 0.2.
    4. Thyroid and KDDCUP-Rev, "with b = 531 and b = 4000 ... it finds all or almost all anomalies":
       recall@max(b_p, A) >= 0.9 on both.
    5. Arrhythmia, "improves on DAE in a smaller scale ... but still does fairly better": recall@A at
       the largest budget > the DAE's, and the gain is smaller than on KDDCUP.
    6. More labels, better choices (the figure's message): recall@A is non-decreasing in b (slack
       0.02) on every set.
    """
    if curves.empty:
        return pd.DataFrame([_claim("App. C.2 claims", "App. C.2 / Fig. 11", "-", ("figure only", pd.NA),
                                    ("no data", "not evaluable: no DAE_uai run succeeded"))])
    at_a = correct_at(curves).groupby(["dataset", "budget"])[["recall", "pool", "n_anomalies"]].mean()
    at_mb = correct_at(curves, "max_b_anomalies").groupby(["dataset", "budget"])["recall"].mean()
    sets = sorted(at_a.index.get_level_values(0).unique())
    rows = []

    def rec(ds, b):
        return float(at_a.loc[(ds, b), "recall"])

    def budgets(ds):
        return sorted(at_a.loc[ds].index)

    def pb(ds):
        r = at_a.loc[(ds, budgets(ds)[0])]
        return proportional_budget(ds, int(r["pool"]), int(r["n_anomalies"]))

    def add(claim, rule, fn, need=()):
        missing = [d for d in need if d not in sets]
        if missing:
            ev, holds = "no data", f"not evaluable: {', '.join(missing)} not run"
        else:
            ev, holds = fn()
        rows.append(_claim(claim, "App. C.2 / Fig. 11", rule, ("figure only (no numbers)", pd.NA),
                           (ev, holds)))

    def c1():
        d = {ds: (rec(ds, budgets(ds)[1]) - rec(ds, 0)) for ds in sets if len(budgets(ds)) > 1}
        return f"recall@A gain at the smallest b > 0: {_fmt(d)}", bool(d and all(v > 0 for v in d.values()))

    def c2():
        r = rec("kddcup", pb("kddcup"))
        return f"KDDCUP b_p = {pb('kddcup')}: recall@A {r:.2f}", bool(r >= 80_000 / 97_278)

    def c3():
        r, r0 = rec("kddcup", pb("kddcup")), rec("kddcup", 0)
        return f"KDDCUP recall@A: DAE_uai(b_p) {r:.2f}, DAE {r0:.2f}", bool(r - r0 >= 0.2)

    def c4():
        d = {ds: float(at_mb.loc[(ds, pb(ds))]) for ds in ("thyroid", "kddcup_rev")}
        return (f"recall@max(b_p, A): {_fmt(d)} "
                f"(b_p: thyroid {pb('thyroid')}, kddcup_rev {pb('kddcup_rev')})",
                bool(all(v >= 0.9 for v in d.values())))

    def c5():
        g = rec("arrhythmia", budgets("arrhythmia")[-1]) - rec("arrhythmia", 0)
        gk = rec("kddcup", budgets("kddcup")[-1]) - rec("kddcup", 0) if "kddcup" in sets else np.nan
        ok = g > 0 and (np.isnan(gk) or g < gk)
        return f"recall@A gain at the largest b: arrhythmia {g:.2f}, kddcup {gk:.2f}", bool(ok)

    def c6():
        bad = [ds for ds in sets if (np.diff([rec(ds, b) for b in budgets(ds)]) < -0.02).any()]
        return f"sets with a drop > 0.02: {', '.join(bad) or 'none'}", not bad

    add("With only a few labels DAE_uai already fares a lot better than its underlying network",
        "recall@A at the smallest b > 0 > DAE's (b = 0), every set", c1)
    add("KDDCUP: with < 1% labelled, DAE_uai finds 80,000 of 97,278 anomalies with high precision",
        "recall@A at the pool-scaled b = 3000 >= 0.82", c2, ("kddcup",))
    add("KDDCUP: the DAE with no expert knowledge does a lot worse",
        "recall@A(DAE_uai, b_p) - recall@A(DAE) >= 0.20", c3, ("kddcup",))
    add("Thyroid (b = 531) and KDDCUP-Rev (b = 4000): all or almost all anomalies found",
        "recall@max(b_p, A) >= 0.90 on both, b_p = the paper's budget scaled to our pool", c4,
        ("thyroid", "kddcup_rev"))
    add("Arrhythmia: DAE_uai improves on DAE on a smaller scale, but still fairly better",
        "recall@A at the largest b > DAE's, and the gain < KDDCUP's", c5, ("arrhythmia",))
    add("The choices improve as DAE_uai gets more expert labels",
        "recall@A non-decreasing in b (slack 0.02), every set", c6)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Fig. 2: the undecidable toy distribution (Sec. 2, Theorem 1)
#: Centres / stds / sizes of the toy: three dense clusters (classes 0, 1, 2), a fourth, small and tight
#: cluster of class 2 far from the others (few points: a low-density *cluster*, the "possible clustered
#: anomalies" of Fig. 2, centre) and scattered low-density points (Fig. 2, right): uniform on a square,
#: rejected within ``TOY_SCATTER["clear"]`` of a cluster centre so they stay visibly unclustered.
TOY_CLUSTERS: tuple[tuple[float, float, float, int, int], ...] = (
    (-3.0, 2.0, 0.8, 300, 0), (3.0, 2.5, 0.8, 300, 1), (0.0, -2.5, 0.8, 300, 2), (6.0, -6.0, 0.15, 30, 2))
TOY_SCATTER = {"n": 30, "half_width": 5.0, "clear": 2.0}


def make_undecidable_toy(seed: int = 0, n_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Fig. 2's toy: ``X`` (n, 2), ``cls`` (class 0/1/2, scattered points get a random class),
    ``cluster`` (bool: the small fourth cluster) and ``scattered`` (bool: the low-density points).

    Three classes in four visibly separable clusters plus scattered low-density points; whether the
    anomalies are the small cluster or the scattered points is undecidable from the data alone
    (Theorem 1). ``n_scale`` scales every group's size (at least 5 points each).
    """
    rng = np.random.default_rng([seed, 2])
    Xs, cls, kind = [], [], []
    for j, (cx, cy, sd, n, c) in enumerate(TOY_CLUSTERS):
        n = max(5, int(round(n * n_scale)))
        Xs.append(rng.normal([cx, cy], sd, size=(n, 2)))
        cls += [c] * n
        kind += [1 if j == len(TOY_CLUSTERS) - 1 else 0] * n
    n = max(5, int(round(TOY_SCATTER["n"] * n_scale)))
    centres = np.array([c[:2] for c in TOY_CLUSTERS])
    pts: list[np.ndarray] = []
    while len(pts) < n:
        p = rng.uniform(-TOY_SCATTER["half_width"], TOY_SCATTER["half_width"], 2)
        if np.linalg.norm(centres - p, axis=1).min() > TOY_SCATTER["clear"]:
            pts.append(p)
    Xs.append(np.array(pts))
    cls += rng.integers(0, 3, n).tolist()
    kind += [2] * n
    kind_arr = np.asarray(kind)
    return {"X": np.vstack(Xs), "cls": np.asarray(cls), "cluster": kind_arr == 1, "scattered": kind_arr == 2}


def toy_models(kde_bandwidth: float = 0.25, gmm_components: int = 3) -> dict[str, object]:
    """The two density models of the toy: a high-capacity KDE (small bandwidth) and a low-capacity
    Gaussian mixture (as many components as big clusters); score = -log density."""
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import KernelDensity

    return {f"KDE (bandwidth {kde_bandwidth:g})": KernelDensity(bandwidth=kde_bandwidth),
            f"GMM ({gmm_components} components)": GaussianMixture(gmm_components, covariance_type="full",
                                                                 n_init=3, random_state=0)}


def neg_log_density(model, X: np.ndarray, seed: int = 0) -> np.ndarray:
    """Fit ``model`` (KernelDensity or GaussianMixture) on all of ``X`` (unsupervised) and return
    -log p(x), the anomaly score of Sec. 3 (higher = more anomalous), computed single-threaded."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    m = clone(model)
    if "random_state" in m.get_params():
        m.set_params(random_state=seed)
    with threadpool_limits(1):  # tiny 2-D fits: BLAS threads only add overhead (measured 10-30x)
        return -m.fit(X).score_samples(X)


def toy_scores(toy: dict, models: dict, seed: int = 0) -> pd.DataFrame:
    """AUC-ROC of each model under each anomaly definition of Fig. 2 and the share of each group in
    the model's top-(#cluster + #scattered) scores.

    ``clustered``: the small cluster is anomalous, everything else (scattered points included) normal;
    ``low_density``: the scattered points are anomalous, everything else normal;
    ``cluster_over_scattered``: the AUC of the cluster against the scattered points only, i.e. the
    probability that the model scores a cluster point above a scattered one (> 0.5: the model's
    prior puts the cluster first; no ``top_share``).
    """
    from sklearn.metrics import roc_auc_score

    rows = []
    n_top = int(toy["cluster"].sum() + toy["scattered"].sum())
    for name, model in models.items():
        s = neg_log_density(model, toy["X"], seed)
        top = np.argsort(-s, kind="stable")[:n_top]
        for definition, mask in (("clustered", toy["cluster"]), ("low_density", toy["scattered"])):
            rows.append({"model": name, "definition": definition, "seed": seed,
                         "auc_roc": float(roc_auc_score(mask, s)),
                         "top_share": float(mask[top].mean())})
        both = toy["cluster"] | toy["scattered"]
        rows.append({"model": name, "definition": "cluster_over_scattered", "seed": seed,
                     "auc_roc": float(roc_auc_score(toy["cluster"][both], s[both])), "top_share": np.nan})
    return pd.DataFrame(rows)


def toy_capacity_sweep(toy: dict, seed: int = 0, components=(1, 2, 3, 4, 5, 6, 8),
                       bandwidths=(0.1, 0.25, 0.5, 1.0, 2.0)) -> pd.DataFrame:
    """AUC under both definitions as model capacity grows (GMM components up, KDE bandwidth down)."""
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import KernelDensity

    models = {}
    for c in components:
        models[("GMM", float(c))] = GaussianMixture(c, covariance_type="full", n_init=3, random_state=0)
    for h in bandwidths:
        models[("KDE", float(h))] = KernelDensity(bandwidth=h)
    rows = []
    for (family, cap), model in models.items():
        sc = toy_scores(toy, {f"{family} {cap:g}": model}, seed)
        rows += [{**r, "family": family, "capacity": cap} for r in sc.to_dict("records")]
    return pd.DataFrame(rows)


def fig2_claims(scores: pd.DataFrame, kde: str, gmm: str) -> pd.DataFrame:
    """Sec. 2's claims on the toy (mean AUC over seeds):

    1. "If we used a high capacity model ... the low density points (Right) would be detected as
       anomalous": KDE AUC(low_density) > AUC(clustered) and >= 0.9.
    2. "If we used a low capacity model, the cluster (Center) would probably present a higher anomaly
       score": GMM AUC(clustered) > AUC(low_density) and >= 0.9.
    3. Theorem 1 ("our choice of algorithm implicitly imposes a prior"): no model is best under
       both definitions -- the model ranked first differs between them.
    """
    m = scores.groupby(["model", "definition"])["auc_roc"].mean().unstack("definition")
    pair = m.pop("cluster_over_scattered") if "cluster_over_scattered" in m else None
    rows = []
    k, g = m.loc[kde], m.loc[gmm]
    rows.append(_claim("A high-capacity model detects the scattered low-density points (Fig. 2 right)",
                       "Sec. 2", f"{kde}: AUC(low_density) > AUC(clustered) and AUC(low_density) >= 0.9",
                       ("figure only", pd.NA),
                       (f"AUC low_density {k['low_density']:.3f}, clustered {k['clustered']:.3f}",
                        bool(k["low_density"] > k["clustered"] and k["low_density"] >= 0.9))))
    pg = np.nan if pair is None else float(pair[gmm])
    rows.append(_claim("A low-capacity model gives the small cluster the higher anomaly score "
                       "(Fig. 2 centre)",
                       "Sec. 2", f"{gmm}: AUC(clustered) > AUC(low_density), AUC(clustered) >= 0.9 and "
                       "P(cluster point scored above a scattered one) > 0.5",
                       ("figure only", pd.NA),
                       (f"AUC clustered {g['clustered']:.3f}, low_density {g['low_density']:.3f}, "
                        f"cluster over scattered {pg:.3f}",
                        bool(g["clustered"] > g["low_density"] and g["clustered"] >= 0.9 and pg > 0.5))))
    best = m.idxmax()
    rows.append(_claim("The choice of model is a prior on the anomalies (Theorem 1): none is best for both",
                       "Sec. 2, Theorem 1",
                       "the model with the highest AUC differs between the two definitions",
                       ("figure only", pd.NA),
                       (f"best under clustered: {best['clustered']}; "
                        f"under low_density: {best['low_density']}",
                        bool(best["clustered"] != best["low_density"]))))
    return pd.DataFrame(rows)
