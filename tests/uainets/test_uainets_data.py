"""UaiNets data layer: idx parser, synthetic MNIST sets (Sec. 4.1, Tables 2/4), Table 1 loaders."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from semiad.core.data.idx import IdxFormatError, flatten01, load_idx_dataset, parse_idx, read_idx, to_float01
from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import DataNotFoundError
from semiad.core.reported import load_reported
from semiad.uainets.data import (
    KDD_ATTACK_CATEGORY,
    UAINETS_REAL_DATASETS,
    kddcup_rev_seen_unseen_split,
    load_uainets_real,
    make_uainets_mnist,
    pca_reconstruction_error,
    reduced_class_labels,
    weak_classifier_errors,
)
from tests.conftest import requires_real_data

CREDITCARD_URL = "https://storage.googleapis.com/download.tensorflow.org/data/creditcard.csv"
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _has(rel: str) -> bool:
    data_dir = os.environ.get("SEMIAD_DATA_DIR")
    return bool(data_dir) and (Path(data_dir) / rel).is_file()


requires_mnist = pytest.mark.skipif(not _has("mnist/train-images-idx3-ubyte.gz"),
                                    reason="SEMIAD_DATA_DIR holds no MNIST idx files")
requires_fashion = pytest.mark.skipif(not _has("fashion_mnist/train-images-idx3-ubyte.gz"),
                                      reason="SEMIAD_DATA_DIR holds no Fashion-MNIST idx files")
requires_kdd = pytest.mark.skipif(not _has("tabular/kddcup99/kddcup.data_10_percent.gz"),
                                  reason="SEMIAD_DATA_DIR holds no KDDCUP99 file")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's download cache."""
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def _idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ------------------------------------------------------------------------------------- idx

def test_idx_parser_roundtrip_on_tiny_gzip_files(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    (tmp_path / "img.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    (tmp_path / "lab").write_bytes(_idx_bytes(labels))  # raw (not gzip) files are read too
    assert _idx_bytes(images)[:4] == b"\x00\x00\x08\x03" and _idx_bytes(labels)[:4] == b"\x00\x00\x08\x01"
    np.testing.assert_array_equal(read_idx(tmp_path / "img.gz"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "lab"), labels)
    ints = np.array([[1, -2], [300, 4]], dtype=np.int32)  # a multi-byte big-endian dtype
    np.testing.assert_array_equal(parse_idx(_idx_bytes(ints, 0x0C)), ints)
    x = to_float01(images)
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert flatten01(images).shape == (3, 784)


def test_idx_parser_rejects_bad_files(tmp_path):
    good = _idx_bytes(np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"\x08\x03\x00\x00" + good[4:]))
    with pytest.raises(IdxFormatError, match="magic"):
        read_idx(tmp_path / "bad.gz")
    with pytest.raises(IdxFormatError, match="magic"):
        parse_idx(b"\x00\x00\x07\x01" + good[4:])  # unknown dtype code
    with pytest.raises(IdxFormatError, match="payload"):
        parse_idx(good[:-5])
    with pytest.raises(IdxFormatError):
        parse_idx(b"\x00\x00")


def test_registry_entries_for_uainets():
    for name in ("mnist", "fashion_mnist"):
        spec = get_spec(name)
        assert spec.kind == "idx" and len(spec.files) == 4 and set(spec.urls) == set(spec.files)
        assert all(h and len(h) == 64 for h in spec.files.values())
    for name in ("kddcup99_10pct", "mammography", "cover_odds", "yeast_aad", "abalone_aad", "ctg_aad"):
        spec = get_spec(name)
        assert all(h and len(h) == 64 for h in spec.files.values()) and set(spec.urls) == set(spec.files)
        assert spec.license and spec.citation and spec.paper_stats
    credit = get_spec("creditcard")
    assert list(credit.files.values()) == [None] and CREDITCARD_URL in credit.urls.values()


# ------------------------------------------------------------------------------ synthetic

def test_reduced_class_mechanism_is_exact_and_seeded():
    labels = np.repeat(np.arange(10), 1000)
    index, x_y, y = reduced_class_labels(labels, (0, 1, 2), seed=3)
    assert len(index) == 7000 + y.sum()
    assert set(np.unique(labels[index][y == 1])) <= {0, 1, 2}
    assert set(np.unique(x_y[y == 1])) <= set(range(3, 10)) and (x_y[y == 0] == labels[index][y == 0]).all()
    again = reduced_class_labels(labels, (0, 1, 2), seed=3)
    assert all((a == b).all() for a, b in zip((index, x_y, y), again, strict=True))


def test_pca_error_matches_scikit_learn():
    from sklearn.decomposition import PCA

    X = np.random.default_rng(0).normal(size=(300, 20)) @ np.diag(np.linspace(3, 0.1, 20))
    pca = PCA(2).fit(X)
    expected = ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum(1)
    np.testing.assert_allclose(pca_reconstruction_error(X, 2), expected, rtol=1e-8, atol=1e-10)


def test_demo_fallback(tmp_path):
    for kind in ("zero", "pca"):
        ds = make_uainets_mnist(kind, data_dir=tmp_path, on_missing="demo", download=False)
        assert ds.source == "demo" and ds.is_demo and ds.X.shape[1] == 784 and ds.X.dtype == np.float32
        assert 0 < ds.y.sum() < len(ds.y)
    assert ds.y.sum() == 100  # pca: floor(5 % of 200) in each of the 10 demo classes
    with pytest.raises(DataNotFoundError):
        make_uainets_mnist("zero", data_dir=tmp_path, download=False)
    real = load_uainets_real("kddcup", data_dir=tmp_path, on_missing="demo", download=False)
    assert real.source == "demo" and real.X.shape[1] == 121


@requires_mnist
def test_mnist_idx_loader():
    images, labels = load_idx_dataset("mnist", "train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    assert labels[:5].tolist() == [5, 0, 4, 1, 9] and int(images[0].sum()) == 27525
    test = load_idx_dataset("mnist", "test")
    assert len(test) == 10000 and test.labels[:3].tolist() == [7, 2, 1]


@requires_mnist
@pytest.mark.parametrize("kind, reduced, paper_anomalies",
                         [("zero", (0,), 602), ("zero_two", (0, 1, 2), 1822)])
def test_mnist_reduced_class_sets(kind, reduced, paper_anomalies):
    ds = make_uainets_mnist(kind, "mnist", seed=0)
    n_reduced = sum(MNIST_TRAIN_COUNTS[c] for c in reduced)
    n_anom = int(ds.y.sum())
    assert len(ds.y) == 60000 - n_reduced + n_anom  # the paper's exact instance formula
    sd = np.sqrt(n_reduced * 0.1 * 0.9)
    assert abs(n_anom - 0.1 * n_reduced) < 4 * sd and abs(n_anom - paper_anomalies) < 4 * sd + 60
    assert ds.n_classes == 10 - len(reduced) and not np.isin(ds.x_y, reduced).any()
    assert np.isin(ds.orig_label[ds.y == 1], reduced).all() and ds.X.shape == (len(ds.y), 784)
    assert ds.X.dtype == np.float32 and 0 <= ds.X.min() and ds.X.max() <= 1


@requires_mnist
def test_mnist_pca_set_is_exactly_floor_five_percent_per_class():
    ds = make_uainets_mnist("pca", "mnist")
    assert ds.stats()["instances"] == 60000 and ds.stats()["anomalies"] == 2996  # = Table 2
    per_class = np.bincount(ds.x_y[ds.y == 1], minlength=10)
    assert per_class.tolist() == [int(0.05 * n) for n in MNIST_TRAIN_COUNTS]


@requires_mnist
def test_weak_classifier_on_a_subset_is_deterministic():
    images, labels = load_idx_dataset("mnist", "train")
    X = flatten01(images[:3000])
    a = weak_classifier_errors(X, labels[:3000], hidden=16, epochs=1, seed=0)
    b = weak_classifier_errors(X, labels[:3000], hidden=16, epochs=1, seed=0)
    assert a.shape == (3000,) and (a == b).all() and 0 < a.mean() < 0.5


@requires_fashion
def test_fashion_reduced_class_set():
    ds = make_uainets_mnist("zero", "fashion_mnist", seed=0)
    assert len(ds.y) == 54000 + ds.y.sum() and abs(ds.y.sum() - 610) < 4 * np.sqrt(540) + 20


# ------------------------------------------------------------------------------------ real

def test_constants():
    assert len(UAINETS_REAL_DATASETS) == 11
    assert UAINETS_REAL_DATASETS[:3] == ("kddcup", "arrhythmia", "thyroid")


@requires_real_data
@pytest.mark.parametrize("name, n, d, n_anom", [
    ("thyroid", 3772, 6, 93), ("arrhythmia", 452, 274, 66), ("yeast", 1191, 8, 55), ("abalone", 1920, 9, 29),
    ("ctg", 1700, 21, 45), ("covtype", 286048, 10, 2747), ("mammography", 11183, 6, 260),
    ("shuttle", 12345, 9, 867)])
def test_small_real_sets(name, n, d, n_anom):
    ds = load_uainets_real(name, download=False)
    assert ds.source == "real" and ds.X.shape == (n, d) and int(ds.y.sum()) == n_anom
    assert ds.X.dtype == np.float32 and ds.variant_note


@requires_kdd
def test_kddcup_and_kddcup_rev():
    kdd = load_uainets_real("kddcup", download=False)
    assert kdd.X.shape == (494021, 121) and int(kdd.y.sum()) == 97278
    assert ((kdd.groups == "normal") == (kdd.y == 1)).all() and 0 <= kdd.X.min() and kdd.X.max() <= 1
    rev = load_uainets_real("kddcup_rev", download=False, seed=0)
    assert rev.X.shape == (121597, 121) and int(rev.y.sum()) == 24319
    assert ((rev.attack == "normal") == (rev.y == 0)).all()
    assert load_uainets_real("kddcup", download=False, kdd_encoding="onehot3").X.shape[1] == 118


@requires_kdd
def test_kddcup_rev_seen_unseen_split():
    split = kddcup_rev_seen_unseen_split(seed=0, download=False)
    assert len(split.y_test) == 67908 and int(split.y_test.sum()) == 3817 + 3498
    assert int(split.seen_test.sum() + split.unseen_test.sum()) == 3817 + 3498
    assert abs(split.y_train.mean() - 0.2) < 1e-4
    assert not set(split.unseen_types) & set(split.attack_train.tolist())
    assert {"ipsweep", "nmap", "portsweep", "satan"} <= set(split.unseen_types)
    assert set(split.seen_types) <= set(KDD_ATTACK_CATEGORY)


def test_credit_card_absent_raises_with_url(tmp_path):
    with pytest.raises(DataNotFoundError, match="creditcard") as info:
        load_uainets_real("credit_card", data_dir=tmp_path, download=False)
    assert CREDITCARD_URL in str(info.value)
    demo = load_uainets_real("credit_card", data_dir=tmp_path, download=False, on_missing="demo")
    assert demo.source == "demo" and demo.X.shape[1] == 30


def test_reported_tables():
    t1 = load_reported("uainets_table1")
    stat = t1[t1.method == "stats"].set_index(["dataset", "metric"])["value"]
    assert stat[("thyroid", "instances")] == 3772 and stat[("arrhythmia", "features")] == 274
    f1 = t1[t1.metric == "f1"].set_index(["dataset", "method"])["value"]
    t3 = load_reported("uainets_table3").set_index(["dataset", "method"])
    assert f1[("thyroid", "DAEuai")] == round(t3.loc[("thyroid", "DAEuai"), "f1"], 2)
    assert f1[("arrhythmia", "DAEuai")] == round(t3.loc[("arrhythmia", "DAEuai"), "f1"], 2)
    assert len(f1) == 66 and set(t1.dataset) == set(UAINETS_REAL_DATASETS)
    for table in ("uainets_table2", "uainets_table4"):
        assert len(load_reported(table)) == 4


def test_covtype_uci_reader_keeps_types_2_and_4_with_54_features(tmp_path):
    import gzip

    from semiad.uainets.data import COVTYPE_COLUMNS, read_covtype_uci

    rng = np.random.default_rng(0)
    rows = np.c_[rng.integers(0, 3000, (7, 10)), np.eye(7, 44, dtype=int), np.arange(1, 8)]
    path = tmp_path / "covtype.data.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    X, y, features = read_covtype_uci(path)
    assert X.shape == (2, 54) and y.tolist() == [0, 1] and features == COVTYPE_COLUMNS
    assert np.array_equal(X, rows[[1, 3], :54].astype(np.float32))
    with gzip.open(path, "wt") as f:
        f.write("1,2,3\n")
    with pytest.raises(ValueError, match="54 feature columns"):
        read_covtype_uci(path)


def test_covtype54_absent_offline_names_the_verified_download(tmp_path):
    with pytest.raises(DataNotFoundError, match="covtype.data.gz") as info:
        load_uainets_real("covtype54", data_dir=tmp_path, download=False)
    assert "614360d0257557dd" in str(info.value) and "https://" in str(info.value)


@requires_real_data
def test_covtype_aad_sample_views():
    full, ten = (load_uainets_real(n, download=False) for n in ("covtype_sub54", "covtype_sub10"))
    assert full.X.shape == (2000, 54) and ten.X.shape == (2000, 10) and int(full.y.sum()) == 19
    assert np.array_equal(full.X[:, :10], ten.X) and full.feature_names[10] == "Wilderness_Area1"
