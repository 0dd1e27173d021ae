"""Run the Deep SAD authors' released code on the ODDS sets and print it beside the paper and semiad.

Why: issue #15 asks whether Deep SAD's remaining Table 2 gaps (cardio above all) are ours or the code's. This
script reruns ``lukasruff/Deep-SAD-PyTorch`` (HEAD 2e7aca3) with its README command (gamma_l = 0.01,
gamma_p = 0, 150 + 150 epochs, batch 128, one thread) on each ODDS set and seed, reads its
``results.json``, and prints mean +- std (AUC %) beside the paper's Table 2 and semiad's
``authors_code_as_released`` preset (the same mechanics: min-max scaling, no weight transfer, the
code's resampled test split), computed through the semiad cache.

The released code needs three compatibility edits to run with today's packages, applied to a copy (the
checkout is not modified): ``torch._six.string_classes`` -> ``str`` (removed in torch 2), ``default=0`` ->
``default=(0,)`` for the two ``multiple=True`` milestone options (click 8 rejects the scalar; click 7 turned
it into ``(0,)``, i.e. no AE decay), and a stub ``torchvision`` package (the ODDS path imports it but never
calls it; semiad does not depend on torchvision).

    python benchmarks/authors_deep_sad_odds.py --code PATH/Deep-SAD-PyTorch \
        --data ../shared/data/tabular/odds [--datasets cardio thyroid] [--seeds 0 1 2 ...] [--work DIR]

Runs are kept under ``--work`` and skipped when their ``results.json`` exists (the script resumes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATASETS = ("arrhythmia", "cardio", "satellite", "satimage-2", "thyroid", "shuttle")
README_COMMAND = ("--ratio_known_outlier 0.01 --ratio_pollution 0.0 --lr 0.0001 --n_epochs 150 "
                  "--lr_milestone 50 --batch_size 128 --weight_decay 0.5e-6 --pretrain True --ae_lr 0.0001 "
                  "--ae_n_epochs 150 "
                  "--ae_batch_size 128 --ae_weight_decay 0.5e-3 --normal_class 0 --known_outlier_class 1 "
                  "--n_known_outlier_classes 1 --n_jobs_dataloader 0").split()
STUB = {"__init__.py": "",
        "datasets/__init__.py": "class _Missing:\n    def __init__(self, *a, **k):\n"
                                "        raise RuntimeError('stub')\n"
                                "MNIST = FashionMNIST = CIFAR10 = _Missing\n",
        "datasets/utils.py": "def download_url(*a, **k):\n    raise RuntimeError('offline stub')\n",
        "transforms.py": "class _Any:\n    def __init__(self, *a, **k):\n        pass\n"
                         "Compose = ToTensor = Normalize = Lambda = _Any\n",
        "utils.py": "def make_grid(*a, **k):\n    raise RuntimeError('stub')\n"}


def prepare(code: Path, work: Path, data: Path, datasets) -> Path:
    """A patched copy of the authors' ``src`` and a data folder with the ``.mat`` files; returns ``src``."""
    src = work / "src"
    if not src.exists():
        shutil.copytree(code / "src", src)
        odds = src / "base" / "odds_dataset.py"
        odds.write_text(odds.read_text().replace("torch._six.string_classes", "str"))
        main = src / "main.py"
        main.write_text(re.sub(r"(--(?:ae_)?lr_milestone', type=int, )default=0,", r"\1default=(0,),",
                               main.read_text()))
    for rel, text in STUB.items():
        path = work / "stub" / "torchvision" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (work / "data").mkdir(exist_ok=True)
    for ds in datasets:
        target = work / "data" / f"{ds}.mat"
        if not target.exists():
            shutil.copy(data / f"{ds}.mat", target)
    return src


def run(src: Path, work: Path, dataset: str, seed: int) -> float:
    out = work / "log" / dataset / f"seed{seed}"
    result = out / "results.json"
    if not result.exists():
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(work / "stub"), "OMP_NUM_THREADS": "1"}
        cmd = [sys.executable, "main.py", dataset, f"{dataset}_mlp", str(out), str(work / "data"),
               *README_COMMAND, "--seed", str(seed)]
        with open(out / "stdout.txt", "w") as log:
            subprocess.run(cmd, cwd=src, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    return 100 * json.loads(result.read_text())["test_auc"]


def ours(datasets, seeds) -> pd.DataFrame:
    from semiad.deep_sad import odds

    sad = tuple(m for m in odds.ALL_METHODS if m.label == "Deep SAD")
    res = odds.run_odds("quick", datasets=list(datasets), seeds=list(seeds), methods=sad,
                        training="authors_code_as_released", progress=False)
    res = res[res["metric"] == "auc"]
    return (res.groupby("dataset")["value"].agg(["mean", "std"]) * 100).add_prefix("semiad_as_released_")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, required=True, help="checkout of lukasruff/Deep-SAD-PyTorch")
    parser.add_argument("--data", type=Path, required=True, help="folder holding the ODDS <name>.mat files")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS[:5]), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--work", type=Path, default=Path("/tmp/authors_deep_sad"))
    parser.add_argument("--no-semiad", action="store_true", help="skip semiad's column")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    src = prepare(args.code, args.work, args.data, args.datasets)
    rows = []
    for ds in args.datasets:
        aucs = [run(src, args.work, ds, s) for s in args.seeds]
        rows.append({"dataset": ds, "authors_code_mean": np.mean(aucs),
                     "authors_code_std": np.std(aucs, ddof=1), "n": len(aucs)})
    table = pd.DataFrame(rows).set_index("dataset")
    paper = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "reported" / "deep_sad_table2.csv",
                        comment="#")
    paper = paper[paper["method"] == "Deep SAD"].set_index("dataset")
    table["paper_mean"], table["paper_std"] = paper["mean"], paper["std"]
    gap = (table["authors_code_mean"] - table["paper_mean"]).abs()
    table["authors_code_within_paper_std"] = gap <= table["paper_std"]
    if not args.no_semiad:
        table = table.join(ours(args.datasets, args.seeds))
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
