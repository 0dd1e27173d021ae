"""Figures of the residual-map notebook (one function per figure; data in, a Figure out).

Lee, Kim, Kang (ITC-CSCC 2022) survive as an abstract, so none of these figures is the paper's: they show
the pieces the abstract names (the CAE residual map, the threshold + minimum-area rule it replaces, the
policy trained by deep RL) and the comparison its claims are about.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from semiad.residual_rl.grid import BASELINE, METHOD_ORDER, SplitMaps

GALLERY_COLUMNS = ("input", "reconstruction", "residual |x − x̂| (+ mask)", "(1 − SSIM) / 2")
LEARNING_METRICS = (("mean_reward", "mean reward"),
                    ("val_balanced_accuracy", "balanced acc. (policy's train data)"),
                    ("test_auc_roc", "test AUC-ROC (diagnostic)"))


def residual_gallery(maps: SplitMaps, cae_config: dict) -> Figure:
    """One test image per row (good, then one of each defect type): input, CAE reconstruction, residual map
    |x - x̂| (one colour scale for all rows) with the ground-truth mask outlined, and the SSIM map
    (1 - SSIM)/2 (policy variant C's extra input). ``cae_config`` titles the figure."""
    rows = [int(np.flatnonzero(maps.defects == d)[0]) for d in dict.fromkeys(
        ["good", *sorted(set(maps.defects) - {"good"})])]
    vmax = float(np.quantile(maps.residual, 0.999))
    fig, axes = plt.subplots(len(rows), 4, figsize=(9.6, 2.4 * len(rows)), squeeze=False,
                             layout="constrained")
    for r, i in enumerate(rows):
        img, rec = maps.images[i], maps.recon[i]
        axes[r, 0].imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
        axes[r, 1].imshow(np.clip(rec.squeeze(), 0, 1), cmap="gray" if rec.shape[-1] == 1 else None)
        im = axes[r, 2].imshow(maps.residual[i], cmap="inferno", vmin=0, vmax=vmax)
        if maps.masks[i].any():
            axes[r, 2].contour(maps.masks[i], levels=[0.5], colors="cyan", linewidths=0.8)
        im2 = axes[r, 3].imshow(maps.ssim[i], cmap="inferno", vmin=0,
                                vmax=max(float(np.quantile(maps.ssim, 0.999)), 1e-6))
        axes[r, 0].set_ylabel(str(maps.defects[i]))
        for c, title in enumerate(GALLERY_COLUMNS):
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([]), axes[r, c].grid(False)
            if r == 0:
                axes[r, c].set_title(title)
    fig.colorbar(im, ax=axes[:, 2].tolist(), shrink=0.5, label="|x − x̂|")
    fig.colorbar(im2, ax=axes[:, 3].tolist(), shrink=0.5, label="(1 − SSIM) / 2")
    fig.suptitle(f"{cae_config['category']} ({cae_config['data_source']} data), "
                 f"{cae_config['size']} px, seed {cae_config['seed']}")
    return fig


def threshold_surface(info: dict) -> Figure:
    """The baseline's search (Bergmann et al.'s threshold + minimum defect area, on the validation split):
    balanced accuracy (the objective) and F1 over the grid; the star marks the chosen pair. ``info``: a
    CAE cell's record ``info`` (:func:`semiad.residual_rl.grid.residual_cae_cell`)."""
    thr, areas = np.array(info["surface_thresholds"]), np.array(info["surface_areas"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, title in ((axes[0], "surface_balanced_accuracy", "validation balanced accuracy"),
                           (axes[1], "surface_f1", "validation F1")):
        grid = np.array(info[key])
        mesh = ax.pcolormesh(np.arange(len(areas) + 1), np.arange(len(thr) + 1), grid, cmap="viridis",
                             vmin=0, vmax=1, rasterized=True)
        ti = int(np.argmin(np.abs(thr - info["threshold"])))
        ai = int(np.flatnonzero(areas == info["min_area"])[0])
        ax.plot(ai + 0.5, ti + 0.5, marker="*", ms=14, color="red", mec="white")
        ax.set_xticks(np.arange(len(areas))[::3] + 0.5, areas[::3])
        ax.set_yticks(np.arange(len(thr))[::4] + 0.5, [f"{t:.3f}" for t in thr[::4]])
        ax.set_xlabel("minimum defect area (pixels)")
        ax.set_ylabel("per-pixel threshold on |x − x̂|")
        ax.set_title(title)
        ax.grid(False)
        fig.colorbar(mesh, ax=ax)
    fig.suptitle(f"chosen: threshold {info['threshold']:.4f}, min area {info['min_area']} px "
                 f"(validation balanced accuracy {info['val_balanced_accuracy']:.2f})")
    fig.tight_layout()
    return fig


def policy_learning_curves(curves: pd.DataFrame, results: pd.DataFrame) -> Figure:
    """Policy training (:func:`semiad.residual_rl.grid.learning_curves`), mean ± std over seeds per variant:
    mean reward (0 = chance), balanced accuracy on its own training data, and test AUC-ROC (diagnostic
    only, never used to select anything) against the threshold baseline's mean test AUC-ROC."""
    fig, axes = plt.subplots(1, len(LEARNING_METRICS), figsize=(4.2 * len(LEARNING_METRICS), 3.4))
    for ax, (col, label) in zip(axes, LEARNING_METRICS, strict=True):
        for variant, g in curves.groupby("variant"):
            stats = g.groupby("timesteps")[col].agg(["mean", "std"]).reset_index()
            ax.plot(stats["timesteps"], stats["mean"], label=variant)
            ax.fill_between(stats["timesteps"], stats["mean"] - stats["std"].fillna(0),
                            stats["mean"] + stats["std"].fillna(0), alpha=0.15)
        ax.set_xlabel("environment steps (labeled decisions)")
        ax.set_title(label)
    base = results[(results["method"] == BASELINE) & (results["metric"] == "auc_roc")]["value"].mean()
    axes[2].axhline(base, color="black", ls="--", lw=1, label="threshold + min area")
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


def policy_vs_threshold(results: pd.DataFrame) -> Figure:
    """The abstract's comparison: test accuracy, F1 and AUC-ROC (%, mean ± std over seeds) of the threshold
    + minimum-area rule, the policy variants A / B / C and the threshold-free max-residual score."""
    sub = results[results["metric"].isin(["accuracy", "f1", "auc_roc"])]
    order = [m for m in METHOD_ORDER if m in set(sub["method"])]
    stats = sub.groupby(["method", "metric"])["value"].agg(["mean", "std"]).reset_index()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / len(order)
    for k, method in enumerate(order):
        s = stats[stats["method"] == method].set_index("metric").reindex(["accuracy", "f1", "auc_roc"])
        ax.bar(np.arange(3) + k * width, s["mean"] * 100, width, yerr=s["std"].fillna(0) * 100, capsize=2,
               label=method)
    ax.set_xticks(np.arange(3) + width * (len(order) - 1) / 2, ["accuracy", "F1", "AUC-ROC"])
    ax.set_ylabel("test split (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.set_title("image-level detection on the test split")
    fig.tight_layout()
    return fig
