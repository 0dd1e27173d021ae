"""Deep SAD (ICLR 2020) Tables 3-5 (App. F, image scenarios (i)-(iii)) as transcribed in data/reported."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from semiad.core.reported import load_reported

DATASETS = ["mnist", "fashion_mnist", "cifar10"]
METHODS = ["OC-SVM Raw", "OC-SVM Hybrid", "IF Raw", "IF Hybrid", "KDE Raw", "KDE Hybrid", "CAE",
           "Deep SVDD", "SSAD Raw", "SSAD Hybrid", "SS-DGM", "Deep SAD", "Supervised Classifier"]
UNSUPERVISED = METHODS[:8]
LABELED_ONLY = ["SS-DGM", "Supervised Classifier"]

TABLES = {
    "deep_sad_table3": ("gamma_l", [0.0, 0.01, 0.05, 0.10, 0.20]),
    "deep_sad_table4": ("gamma_p", [0.0, 0.01, 0.05, 0.10, 0.20]),
    "deep_sad_table5": ("k_l", [0, 1, 2, 3, 5]),
}


def _cell(df, key, dataset, value, method):
    row = df[(df["dataset"] == dataset) & np.isclose(df[key], value) & (df["method"] == method)]
    assert len(row) == 1, (dataset, value, method)
    return float(row["mean"].iloc[0]), float(row["std"].iloc[0])


@pytest.mark.parametrize("name", sorted(TABLES))
def test_grid_complete_and_ranges(name):
    key, values = TABLES[name]
    df = load_reported(name)
    assert list(df.columns) == ["dataset", key, "method", "mean", "std", "note"]
    assert len(df) == len(DATASETS) * len(values) * len(METHODS)
    got = set(zip(df["dataset"], df[key].round(4), df["method"], strict=True))
    want = set(itertools.product(DATASETS, [round(v, 4) for v in values], METHODS))
    assert got == want
    filled = df.dropna(subset=["mean"])
    assert filled["std"].notna().all()
    assert df.loc[df["mean"].isna(), "std"].isna().all()
    assert filled["mean"].between(0, 100).all()
    assert (filled["std"] >= 0).all()
    # every blank paper cell carries a note saying so
    blanks = df[df["mean"].isna()]
    assert blanks["note"].fillna("").str.startswith("blank in paper").all()


@pytest.mark.parametrize("name", ["deep_sad_table3", "deep_sad_table5"])
def test_blank_pattern(name):
    """Tables 3/5 print unsupervised methods only at the zero row; SS-DGM and the supervised
    classifier need labeled anomalies and are blank there."""
    key, values = TABLES[name]
    df = load_reported(name)
    zero = np.isclose(df[key], 0)
    blank = df["mean"].isna()
    expected = (zero & df["method"].isin(LABELED_ONLY)) | (~zero & df["method"].isin(UNSUPERVISED))
    assert (blank == expected).all()
    assert blank.sum() == len(DATASETS) * (2 + 8 * (len(values) - 1))


def test_table4_has_no_blanks():
    assert load_reported("deep_sad_table4")["mean"].notna().all()


@pytest.mark.parametrize(("name", "dataset", "value", "method", "mean", "std"), [
    ("deep_sad_table3", "mnist", 0.05, "Deep SAD", 96.7, 2.4),
    ("deep_sad_table3", "fashion_mnist", 0.20, "Supervised Classifier", 81.4, 12.0),
    ("deep_sad_table3", "cifar10", 0.10, "SS-DGM", 52.0, 5.5),
    ("deep_sad_table3", "cifar10", 0.0, "KDE Hybrid", 56.1, 10.2),
    ("deep_sad_table3", "mnist", 0.05, "SSAD Raw", 93.3, 3.6),
    ("deep_sad_table4", "mnist", 0.0, "SSAD Raw", 97.9, 1.8),
    ("deep_sad_table4", "fashion_mnist", 0.20, "KDE Raw", 77.4, 13.6),
    ("deep_sad_table4", "cifar10", 0.10, "Deep SAD", 71.8, 7.0),
    ("deep_sad_table4", "cifar10", 0.20, "SS-DGM", 50.1, 1.7),
    ("deep_sad_table5", "mnist", 5, "Deep SAD", 97.3, 1.8),
    ("deep_sad_table5", "fashion_mnist", 2, "SSAD Hybrid", 80.1, 10.5),
    ("deep_sad_table5", "cifar10", 3, "SS-DGM", 50.0, 0.7),
    ("deep_sad_table5", "cifar10", 0, "Deep SVDD", 58.6, 10.0),
])
def test_spot_checks(name, dataset, value, method, mean, std):
    key, _ = TABLES[name]
    assert _cell(load_reported(name), key, dataset, value, method) == (mean, std)


def test_cross_table_consistency():
    """Shared settings agree across tables, except the documented Table 3 SSAD Raw slip."""
    t3, t4, t5 = (load_reported(n) for n in sorted(TABLES))
    for ds, m in itertools.product(DATASETS, METHODS):
        # Table 5 k_l = 1 is Table 4 gamma_p = .10 (gamma_l = .05, gamma_p = .1, k_l = 1)
        assert _cell(t5, "k_l", ds, 1 if m not in UNSUPERVISED else 0, m) == \
            _cell(t4, "gamma_p", ds, 0.10, m)
        # Table 3 gamma_l = .00 is Table 4 gamma_p = .00 for the unsupervised methods
        if m in UNSUPERVISED:
            assert _cell(t3, "gamma_l", ds, 0.0, m) == _cell(t4, "gamma_p", ds, 0.0, m)
        # Table 3 gamma_l = .05 is Table 4 gamma_p = .00 for the label-using methods ...
        elif m != "SSAD Raw":
            assert _cell(t3, "gamma_l", ds, 0.05, m) == _cell(t4, "gamma_p", ds, 0.0, m)
    # ... except SSAD Raw, which the paper prints differently; both cells note it
    for ds in DATASETS:
        assert _cell(t3, "gamma_l", ds, 0.05, "SSAD Raw") != _cell(t4, "gamma_p", ds, 0.0, "SSAD Raw")
        for df, key, v in ((t3, "gamma_l", 0.05), (t4, "gamma_p", 0.0)):
            note = df.loc[(df["dataset"] == ds) & np.isclose(df[key], v)
                          & (df["method"] == "SSAD Raw"), "note"].iloc[0]
            assert note.startswith("as printed;")


def test_ocr_fix_recorded():
    t3 = load_reported("deep_sad_table3")
    fixed = t3[t3["note"].fillna("").str.startswith("OCR:")]
    assert set(zip(fixed["dataset"], fixed["gamma_l"], strict=True)) == {("cifar10", 0.10)}
    assert len(fixed) == 5
