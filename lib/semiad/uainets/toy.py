"""Fig. 2 of UaiNets (Sec. 2, Theorem 1, "no free anomaly"): an undecidable anomaly-detection toy.

Three classes in four visibly separable clusters plus scattered low-density points: from the data
alone it is undecidable whether the anomalies are the small cluster (Fig. 2, centre) or the scattered
points (right). Two density models fitted without labels -- a high-capacity KDE and a low-capacity
Gaussian mixture -- take the two answers (:func:`toy_scores`), and a capacity sweep moves one into the
other (:func:`toy_capacity_sweep`). :func:`run_fig2` is the notebook's one call; the figures are in
:mod:`semiad.uainets.figures` and the claims in :func:`semiad.uainets.claims.fig2_claims`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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


#: Toy draws (seeds) per profile: the toy costs seconds, so profiles only change how many.
TOY_SEEDS: dict[str, tuple[int, ...]] = {"smoke": (0, 1), "quick": (0, 1, 2, 3, 4), "paper": tuple(range(20))}


@dataclass
class Fig2Run:
    """What :func:`run_fig2` measured: the first draw (for the figures), the two models, per-draw AUCs,
    the capacity sweep, the claim rows and the comparison table written to ``comparison.csv``."""

    seeds: tuple[int, ...]
    models: dict[str, object]
    kde: str
    gmm: str
    toy: dict[str, np.ndarray]
    scores: pd.DataFrame
    sweep: pd.DataFrame
    claims: pd.DataFrame
    comparison: pd.DataFrame

    def auc_summary(self) -> pd.DataFrame:
        """Mean and std over draws of the AUC and top share per (model, definition)."""
        return self.scores.groupby(["model", "definition"])[["auc_roc", "top_share"]].agg(["mean", "std"])


def run_fig2(profile: str = "quick", seeds=None, kde_bandwidth: float = 0.25, gmm_components: int = 3,
             out: str | os.PathLike | None = None) -> Fig2Run:
    """Fig. 2 end to end: score every toy draw with both models, sweep the capacity, check Sec. 2's claims.

    Writes ``results.csv`` (tidy AUCs of the models and of the sweep) and ``comparison.csv`` (our AUCs,
    the paper having no numbers, then the claim rows) to ``out`` when given.
    """
    from semiad.uainets.claims import fig2_claims

    seeds = tuple(TOY_SEEDS[profile] if seeds is None else seeds)
    models = toy_models(kde_bandwidth, gmm_components)
    kde, gmm = list(models)
    scores = pd.concat([toy_scores(make_undecidable_toy(s), models, s) for s in seeds], ignore_index=True)
    sweep = pd.concat([toy_capacity_sweep(make_undecidable_toy(s), s) for s in seeds], ignore_index=True)
    tidy = pd.concat([
        scores.assign(method=scores["model"], setting="definition=" + scores["definition"]),
        sweep.assign(method=sweep["family"] + " capacity sweep",
                     setting="definition=" + sweep["definition"] + ",capacity="
                     + sweep["capacity"].astype(str)),
    ], ignore_index=True).assign(dataset="fig2_toy", metric="auc_roc", value=lambda d: d["auc_roc"])
    claims = fig2_claims(scores, kde, gmm)
    summary = scores.groupby(["model", "definition"])["auc_roc"].agg(["mean", "std"]).reset_index()
    cells = summary.rename(columns={"model": "method", "definition": "metric", "mean": "ours_mean",
                                    "std": "ours_std"}).assign(dataset="fig2_toy", paper=np.nan,
                                                               status="ok (no paper number: figure only)")
    cells["metric"] = "auc_roc:" + cells["metric"]
    comparison = pd.concat([cells, claims.assign(dataset="fig2_toy", method="claim", metric="claim")],
                           ignore_index=True)
    if out is not None:
        tidy[["method", "dataset", "setting", "seed", "metric", "value"]].to_csv(Path(out) / "results.csv",
                                                                                index=False)
        comparison.to_csv(Path(out) / "comparison.csv", index=False)
    return Fig2Run(seeds, models, kde, gmm, make_undecidable_toy(seeds[0]), scores, sweep, claims, comparison)
