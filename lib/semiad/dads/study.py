"""DADS Figure 2 under both protocols and both CTG feature sets, and which mechanism moves DADS most.

Issue #16 asks the Figure 2 notebook to show the authors' mechanics (:data:`~semiad.dads.protocol.
AUTHORS_CODE`, the reproduction) beside the abstract's text (:data:`~semiad.dads.protocol.PAPER_TEXT`,
the ablation), with Cardiotocography read with both column sets: the authors' 34 columns, whose ten
FHR-pattern indicators are a one-hot copy of the expert's CLASS label (a leak), and the clean 21.

* :func:`run_protocol_study` runs the *arms* of :func:`study_arms`: each protocol on every panel with its
  own CTG columns, and each protocol with the other CTG column set (CTG only, at the profile's
  ``feature_set_contaminations``). One tidy frame comes back, every row carrying ``protocol`` and
  ``feature_set``.
* :func:`run_mechanism_ablation` switches one mechanism (:data:`MECHANISMS`, a group of protocol fields)
  at a time to the other preset's values, DADS only, at one contamination level.

Claims are checked per arm by :func:`semiad.dads.claims.claims_by_arm`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from semiad.core.profiles import check_profile
from semiad.dads import grid as dads
from semiad.dads.protocol import AUTHORS_CODE, LOADER_FIELDS, PAPER_TEXT, DADSProtocol

CTG = "cardiotocography"
#: The notebook's reproduction (the authors' mechanics) and its ablation (the abstract's text).
REPRODUCTION, ABLATION = AUTHORS_CODE, PAPER_TEXT

#: Sizes of the study per profile (on top of :data:`semiad.dads.grid.PROFILE_SIZES`): the
#: contamination levels of the CTG feature-set swap arms, and the mechanism ablation's level and seeds.
STUDY_SIZES: dict[str, dict] = {
    "smoke": {"feature_set_contaminations": (0.0, 0.1), "ablation_contamination": 0.04, "ablation_seeds": 1},
    "quick": {"feature_set_contaminations": (0.0, 0.04, 0.1), "ablation_contamination": 0.04,
              "ablation_seeds": 3},
    "paper": {"feature_set_contaminations": dads.CONTAMINATIONS, "ablation_contamination": 0.04,
              "ablation_seeds": 3},
}


@dataclass(frozen=True)
class Mechanism:
    """One row of the mechanism ablation: a group of :class:`DADSProtocol` fields switched together."""

    label: str
    fields: tuple[str, ...]
    what: str  # one line for the reader


#: The paper-vs-code differences of ``shared/protocols/dads.md`` grouped into mechanisms. Fields equal in
#: both presets (target entropy -1, the kept best actor, the network widths, n_candidates) are not rows.
MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("adaptive TH_conf", ("th_conf", "adaptive_th_conf"),
              "promotion count 9, moved +-1 at every reset (code) vs a fixed 8"),
    Mechanism("detectors on the actor's embedding", ("detector_space",),
              "IF/HBOS/OC-SVM refit on the actor's last hidden layer at each reset (code) vs raw features"),
    Mechanism("U-sampling rule", ("detector_mix", "candidates_replace", "detector_max_fit", "t_min_draw"),
              "one random U draw without replacement, detectors fit on <= 5,000 rows (code) vs the "
              "detectors' averaged score"),
    Mechanism("score threshold and action range", ("th_score", "action_low"),
              "raw tanh action in (-1, 1) judged anomalous above 0.01 (code) vs [0, 1] above 0.5"),
    Mechanism("random steps before learning", ("learning_starts", "warmup_actions"),
              "20% of the run as binary random actions (code) vs 100 uniform ones (SB3)"),
    Mechanism("update cadence", ("train_freq", "gradient_steps"),
              "16 gradient steps every 16 env steps vs 1/1"),
    Mechanism("SAC optimiser",
              ("learning_rate", "adam_eps", "batch_size", "buffer_size", "tau", "max_grad_norm"),
              "lr 5e-4, eps 1e-4, batch 64, buffer 1e5, tau 0.2, clip 5 (code) vs SB3 defaults"),
    Mechanism("no bootstrap at episode end", ("bootstrap_at_episode_end",),
              "done=True at the time limit (code) vs SB3's time-limit bootstrap"),
    Mechanism("OU action noise", ("ou_noise",), "Ornstein-Uhlenbeck noise on the actions (code) vs none"),
    Mechanism("sigmoid heads and Xavier init", ("actor_heads", "init"),
              "sigmoid on the actor's mean / log-std heads, Xavier weights (code) vs linear, PyTorch init"),
    Mechanism("sklearn split, min-max scaling", ("split", "scale"),
              "train_test_split twice and min-max after standardising (code) vs our per-class split"),
    Mechanism("labeled = 10% of the known class", ("labeled_of", "labeled_rounding"),
              "int(0.1 x known-class train anomalies) (code) vs 10% of all train anomalies"),
    Mechanism("contamination per normal", ("contamination_count",),
              "int(c x #train normals) unlabeled anomalies (code) vs a share c of U"),
    Mechanism("CTG feature set (leak)", ("feature_set",),
              "34 columns incl. the one-hot copy of CLASS (code) vs the clean 21"),
    Mechanism("annthyroid: ann-train.data only", ("annthyroid_rows",),
              "3,772 rows of the UCI train file (code) vs both files, 7,200 rows"),
)


@dataclass(frozen=True)
class Arm:
    """One run of the Figure 2 grid in the study: a protocol on some panels and contamination levels."""

    role: str  # "reproduction" | "ablation" | "feature-set swap"
    protocol: DADSProtocol
    datasets: tuple[str, ...]
    contaminations: tuple[float, ...] | None  # None: the profile's levels


def other_feature_set(protocol: DADSProtocol) -> DADSProtocol:
    """``protocol`` reading CTG with the other column set."""
    return protocol.switch(feature_set="clean21" if protocol.feature_set == "authors" else "authors")


def study_arms(profile: str = "quick", datasets=None) -> tuple[Arm, ...]:
    """The reproduction and the ablation on every panel; each with the other CTG columns on CTG alone."""
    panels = dads.Fig2Config.for_profile(profile, datasets=datasets).datasets
    swap_levels = tuple(STUDY_SIZES[profile]["feature_set_contaminations"])
    arms = [Arm("reproduction", REPRODUCTION, panels, None), Arm("ablation", ABLATION, panels, None)]
    if CTG in panels:
        arms += [Arm("feature-set swap", other_feature_set(p), (CTG,), swap_levels)
                 for p in (REPRODUCTION, ABLATION)]
    return tuple(arms)


def feature_set_of(dataset: str, protocol: DADSProtocol) -> str:
    """The column set a cell reads: CTG's ``clean21`` / ``authors``; ``all`` for the other panels."""
    return protocol.feature_set if dataset == CTG else "all"


def _label(frame: pd.DataFrame, arm: Arm) -> pd.DataFrame:
    return frame.assign(role=arm.role,
                        feature_set=[feature_set_of(ds, arm.protocol) for ds in frame["dataset"]])


def run_protocol_study(profile: str = "quick", *, datasets=None, seeds=None, methods=None, n_jobs: int = 1,
                       backend: str = "loky", device: str = "cpu", data_dir: str | os.PathLike | None = None,
                       on_missing: str = "error", cache_root: str | None = None,
                       progress: bool = True) -> tuple[pd.DataFrame, dict[str, list[dict]]]:
    """Every arm of :func:`study_arms` (cached per cell); tidy results with ``protocol``, ``role`` and
    ``feature_set`` columns, and the raw records per protocol name. ``seeds=None``: each protocol's own
    seed list (paper text 0, 1, 2, ...; the authors' 1, 20, 42, ...); ``methods=None``: all eight."""
    frames, records = [], {}
    for arm in study_arms(profile, datasets):
        frame, recs = dads.run_dads_grid(profile, datasets=arm.datasets, contaminations=arm.contaminations,
                                         seeds=seeds, methods=methods, n_jobs=n_jobs, backend=backend,
                                         device=device,
                                         data_dir=data_dir, on_missing=on_missing, cache_root=cache_root,
                                         progress=progress, dads_protocol=arm.protocol)
        frames.append(_label(frame, arm))
        records[arm.protocol.name] = recs
    return pd.concat(frames, ignore_index=True), records


def mechanisms_acting_on(dataset: str) -> tuple[Mechanism, ...]:
    """The mechanisms that change anything on ``dataset`` (a loader field acts on one dataset alone)."""
    return tuple(m for m in MECHANISMS
                 if not all(f in LOADER_FIELDS and LOADER_FIELDS[f][0] != dataset for f in m.fields))


def ablation_protocols(base: DADSProtocol, other: DADSProtocol,
                       dataset: str = CTG) -> list[tuple[Mechanism | None, DADSProtocol]]:
    """``base`` itself, then ``base`` with each mechanism's fields set to ``other``'s values (one at a
    time; a mechanism on which the two agree, or which does not act on ``dataset``, is skipped)."""
    out: list[tuple[Mechanism | None, DADSProtocol]] = [(None, base)]
    for mech in mechanisms_acting_on(dataset):
        changes = {f: getattr(other, f) for f in mech.fields if getattr(other, f) != getattr(base, f)}
        if changes:
            out.append((mech, base.switch(**changes)))
    return out


def run_mechanism_ablation(profile: str = "quick", *, dataset: str = CTG, contamination: float | None = None,
                           n_seeds: int | None = None, bases=(REPRODUCTION,), n_jobs: int = 1,
                           backend: str = "loky", data_dir: str | os.PathLike | None = None,
                           on_missing: str = "error", cache_root: str | None = None,
                           progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DADS alone under each ``base`` protocol and under ``base`` with one mechanism switched to the
    other preset's values (:func:`ablation_protocols`), at one contamination level, the base's first
    ``n_seeds`` seeds. Returns the per-run frame and a summary: mean AUC-ROC (%) and the change against
    the base, sorted by the size of the change."""
    sizes = STUDY_SIZES[check_profile(profile)]
    contamination = sizes["ablation_contamination"] if contamination is None else float(contamination)
    n_seeds = sizes["ablation_seeds"] if n_seeds is None else int(n_seeds)
    rows = []
    for base in bases:
        other = ABLATION if base.name == REPRODUCTION.name else REPRODUCTION
        for mech, proto in ablation_protocols(base, other, dataset):
            frame, _ = dads.run_dads_grid(profile, datasets=[dataset], contaminations=[contamination],
                                          seeds=base.grid_seeds(n_seeds), methods=["dads"], n_jobs=n_jobs,
                                          backend=backend, data_dir=data_dir, on_missing=on_missing,
                                          cache_root=cache_root, progress=progress, dads_protocol=proto)
            frame = frame[frame["metric"] == "auc_roc"]
            rows.append(frame.assign(base=base.name, mechanism="(base)" if mech is None else mech.label,
                                     switched_to=other.name if mech else ""))
    runs = pd.concat(rows, ignore_index=True)
    summary = (runs.groupby(["base", "mechanism"], sort=False)["value"]
               .agg(mean="mean", std="std", n="count").mul({"mean": 100, "std": 100, "n": 1}).reset_index())
    base_mean = summary[summary["mechanism"] == "(base)"].set_index("base")["mean"]
    summary["change"] = summary["mean"] - summary["base"].map(base_mean)
    summary["what"] = summary["mechanism"].map({m.label: m.what for m in MECHANISMS}).fillna("")
    summary = summary.sort_values(["base", "change"], key=lambda s: s if s.name == "base" else s.abs(),
                                  ascending=[True, False])
    return runs, summary.round(2).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# the notebook's set-up
def open_notebook(profile: str, datasets=None, seeds=None, data_dir: str | os.PathLike | None = None,
                  on_missing_data: str = "auto", output_dir=None) -> tuple[Path, tuple[str, ...], str]:
    """Check the notebook's parameters and say what will run: the output folder (``figures/`` only for a
    quick run on real data), the panels and the loaders' ``on_missing`` (``"auto"`` resolved); every
    panel is loaded once here, so a missing file fails before any training, and demo data is announced."""
    from semiad.core import plotting
    from semiad.core.notebook import demo_banner
    from semiad.core.paths import figure_dir
    from semiad.core.provenance import resolve_on_missing

    grid = dads.Fig2Config.for_profile(check_profile(profile), datasets=datasets, seeds=seeds)
    on_missing = resolve_on_missing(on_missing_data, data_dir)  # "auto" -> "error" or "demo"
    out = figure_dir(dads.PAPER, "fig2_contamination", output_dir, profile=profile)
    plotting.set_style()
    print(f"profile={profile}: panels={grid.datasets}, {len(grid.seeds or ()) or grid.n_seeds} seeds per "
          f"protocol, DADS {grid.dads_episodes} episodes x {grid.dads_episode_length} SAC steps (both "
          f"protocols), DPLAN {grid.rl_steps} steps, deep baselines {grid.deep_epochs} epochs (paper text; "
          f"the authors' configurations are scaled by the same factor); CTG with the other column set at "
          f"{STUDY_SIZES[profile]['feature_set_contaminations']}; output -> {out}")
    demo_banner(dads.dataset_sources(grid.datasets, data_dir, on_missing))
    substitutes = [p for p in grid.datasets if p not in dads.PAPER_DATASETS]
    if substitutes:
        print(f"Substitute panel(s) for the paper's HAR: {substitutes} (HAR needs a download: "
              "load_multiclass('har') fetches and checks it)")
    return out, grid.datasets, on_missing


def dataset_table(panels, data_dir: str | os.PathLike | None = None,
                  on_missing: str = "error") -> pd.DataFrame:
    """Rows, columns and class counts of every panel as each protocol reads it (the authors read
    annthyroid's UCI train file alone and CTG's 34 columns)."""
    from semiad.dads.data import load_multiclass

    variants = {"annthyroid": {"rows": "train_file"}, CTG: {"feature_set": "authors"}}
    rows = [{"panel": p, "read as": "paper_text", **load_multiclass(p, data_dir, on_missing).stats()}
            for p in panels]
    rows += [{"panel": p, "read as": "authors_code",
              **load_multiclass(p, data_dir, on_missing, **variants[p]).stats()}
             for p in panels if p in variants]
    return pd.DataFrame(rows).drop(columns=["source"])


def cpu_minutes(results: pd.DataFrame) -> pd.DataFrame:
    """Compute time (CPU minutes, summed over cells) per method and protocol; cached cells cost nothing."""
    cells = results[results["metric"] == "auc_roc"]
    minutes = cells.pivot_table(index="method", columns="protocol", values="runtime_s", aggfunc="sum") / 60
    return minutes.round(2)
