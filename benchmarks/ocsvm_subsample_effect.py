"""Effect of the quick profile's OC-SVM training cap (5,000 rows) on shuttle's Table 2 AUC.

Usage:  SEMIAD_DATA_DIR=../shared/data python benchmarks/ocsvm_subsample_effect.py [--seeds 0 1] [--jobs 2]

Runs the OC-SVM variants of Table 2 on shuttle (the only ODDS set with more than 5,000 training
rows) in the ``quick`` profile (fit on a 5,000-row subsample) and the ``paper`` profile (all
27,628 rows) for the same seeds, and prints AUC and fit time side by side. Cells are cached, so
the quick half is free after the Table 2 notebook ran.
"""

from __future__ import annotations

import argparse

import pandas as pd

from semiad.deep_sad import odds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    methods = [m for m in odds.TABLE2_METHODS if m.method == "ocsvm"]
    frames = []
    for profile in ("quick", "paper"):
        df = odds.run_odds(profile, datasets=["shuttle"], seeds=args.seeds, methods=methods,
                           n_jobs=args.jobs, progress=False)
        frames.append(df[df["metric"] == "auc"].assign(profile=profile))
    both = pd.concat(frames)
    table = both.pivot_table(index="method", columns="profile", values="value",
                             aggfunc="mean") * 100
    table["delta (quick - paper)"] = table["quick"] - table["paper"]
    secs = both.pivot_table(index="method", columns="profile", values="runtime_s", aggfunc="mean")
    table = table.join(secs.add_suffix(" s/cell"))
    print(f"shuttle, seeds {args.seeds}: AUC (%) of OC-SVM fit on 5,000 rows (quick) vs all rows (paper)")
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
