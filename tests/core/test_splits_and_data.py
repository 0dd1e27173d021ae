"""Data layer: registry, resolution order, checksums, demo fallback, exact semi-supervised ratios."""

from __future__ import annotations

import numpy as np
import pytest

from semiad.core.data.registry import get_spec, list_datasets
from semiad.core.data.resolve import ChecksumError, DataNotFoundError, resolve_files
from semiad.core.data.splits import odds_split, semisupervised_counts
from semiad.core.data.tabular import load_odds
from tests.conftest import requires_real_data


def _toy(n_norm=1000, n_anom=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_norm + n_anom, d))
    y = np.r_[np.zeros(n_norm, int), np.ones(n_anom, int)]
    return X, y


@pytest.mark.parametrize("gl,gp", [(0.01, 0.0), (0.05, 0.1), (0.2, 0.2), (0.0, 0.05)])
def test_split_ratios_are_exact(gl, gp):
    X, y = _toy(n_anom=1200)
    s = odds_split(X, y, np.random.default_rng(1), labeled_anomaly_ratio=gl, pollution_ratio=gp)
    n = s.n_unlabeled
    m = s.n_labeled_anomalies
    assert abs(m / (n + m) - gl) <= 1 / (n + m)  # gamma_l = m / (n + m), up to rounding
    assert abs(s.n_pollution / n - gp) <= 1 / n  # gamma_p = share of anomalies among unlabeled
    # labeled anomalies are true anomalies, never also counted as pollution
    assert np.all(s.y_train[s.y_semi == -1] == 1)
    assert s.n_pollution == np.sum((s.y_semi == 0) & (s.y_train == 1))


def test_split_keeps_anomaly_share_and_is_disjoint():
    X, y = _toy()
    X = np.c_[X, np.arange(len(X))]  # row id column to check disjointness
    s = odds_split(X, y, np.random.default_rng(0), standardize=False)
    assert len(s.y_test) == 400 + 80  # 40% of 1000 normals + 40% of 200 anomalies
    assert s.y_test.mean() == pytest.approx(200 / 1200)
    ids_train, ids_test = set(s.X_train[:, -1].astype(int)), set(s.X_test[:, -1].astype(int))
    assert not ids_train & ids_test


def test_split_standardises_on_train_only():
    X, y = _toy()
    s = odds_split(X + 5.0, y, np.random.default_rng(0))
    np.testing.assert_allclose(s.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(s.X_train.std(0), 1, atol=1e-4)
    s2 = odds_split(X + 5.0, y, np.random.default_rng(0), minmax_after_standardize=True)
    assert s2.X_train.min() == pytest.approx(0) and s2.X_train.max() == pytest.approx(1)


def test_split_is_a_function_of_the_generator():
    X, y = _toy()
    a = odds_split(X, y, np.random.default_rng(5))
    b = odds_split(X, y, np.random.default_rng(5))
    c = odds_split(X, y, np.random.default_rng(6))
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


@pytest.mark.parametrize("kw,match", [
    ({"labeled_anomaly_ratio": -0.1}, "labeled_anomaly_ratio"),
    ({"labeled_anomaly_ratio": 1.0}, "labeled_anomaly_ratio"),
    ({"pollution_ratio": 1.5}, "pollution_ratio"),
    ({"labeled_anomaly_ratio": 0.5}, "only"),  # more labeled anomalies than available
])
def test_split_rejects_bad_ratios(kw, match):
    X, y = _toy(n_anom=20)
    with pytest.raises(ValueError, match=match):
        odds_split(X, y, np.random.default_rng(0), **kw)


def test_counts_formula():
    m, p = semisupervised_counts(990, 0.01, 0.0)
    assert (m, p) == (10, 0)
    m, p = semisupervised_counts(900, 0.05, 0.1)
    assert p == 100 and m == round(1000 * 0.05 / 0.95)


def test_registry_has_the_six_odds_sets_with_checksums():
    names = list_datasets("odds_mat")
    assert names == sorted(["arrhythmia", "cardio", "satellite", "satimage-2", "shuttle", "thyroid"])
    for name in names:
        spec = get_spec(name)
        assert all(len(h) == 64 for h in spec.files.values())
        assert spec.urls and spec.license and spec.citation
    with pytest.raises(ValueError, match="unknown dataset"):
        get_spec("mnist-but-misspelled")


def test_missing_data_error_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as err:
        resolve_files(get_spec("cardio"), data_dir=tmp_path, download=False)
    msg = str(err.value)
    assert "tabular/odds/cardio.mat" in msg and "SEMIAD_DATA_DIR" in msg and "curl" in msg


def test_checksum_mismatch_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    bad = tmp_path / "tabular" / "odds" / "thyroid.mat"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the real file")
    with pytest.raises(ChecksumError, match="sha256"):
        load_odds("thyroid", data_dir=tmp_path, download=False)


def test_demo_fallback_is_labelled(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    d = load_odds("satellite", data_dir=tmp_path, on_missing="demo", download=False)
    assert d.is_demo and d.source == "demo" and d.X.shape[1] == 36
    assert 0 < d.y.mean() < 0.5
    with pytest.raises(ValueError, match="on_missing"):
        load_odds("satellite", on_missing="silently")


@requires_real_data
@pytest.mark.parametrize("name,shape,n_out", [("arrhythmia", (452, 274), 66),
                                               ("thyroid", (3772, 6), 93),
                                               ("shuttle", (49097, 9), 3511)])
def test_real_odds_files_match_table1(name, shape, n_out):
    d = load_odds(name)
    assert d.source == "real" and d.X.shape == shape and d.y.sum() == n_out


def test_download_is_verified_and_cached(tmp_path, monkeypatch):
    """The download path (users with internet), exercised with a file:// URL."""
    import hashlib

    from semiad.core.data.registry import DatasetSpec

    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SEMIAD_DATA_DIR", raising=False)
    payload = b"pretend this is a dataset"
    source = tmp_path / "remote.bin"
    source.write_bytes(payload)
    good = hashlib.sha256(payload).hexdigest()
    spec = DatasetSpec("toy", "odds_mat", {"toy/remote.bin": good},
                       urls={"toy/remote.bin": source.as_uri()})
    path = resolve_files(spec, download=True)["toy/remote.bin"]
    assert path == tmp_path / "cache" / "toy" / "remote.bin" and path.read_bytes() == payload
    source.unlink()  # second call is served from the cache
    assert resolve_files(spec, download=True)["toy/remote.bin"] == path

    bad = DatasetSpec("toy2", "odds_mat", {"toy2/remote.bin": "0" * 64},
                      urls={"toy2/remote.bin": (tmp_path / "cache" / "toy" / "remote.bin").as_uri()})
    with pytest.raises(ChecksumError):
        resolve_files(bad, download=True)
    assert not (tmp_path / "cache" / "toy2" / "remote.bin").exists()  # nothing half-verified kept


def test_resampled_test_split_is_the_authors_second_split():
    """test_split="resampled" (the authors' code): same training rows, a test set of the same size and
    anomaly share drawn from a second 60:40 split, so it overlaps the training split (~60 % of its rows)."""
    X, y = _toy()
    X = np.c_[X, np.arange(len(X))]  # row id column
    ours = odds_split(X, y, np.random.default_rng(0), standardize=False)
    code = odds_split(X, y, np.random.default_rng(0), standardize=False, test_split="resampled")
    np.testing.assert_array_equal(ours.X_train, code.X_train)  # the training set is untouched
    np.testing.assert_array_equal(ours.y_semi, code.y_semi)
    assert len(code.y_test) == len(ours.y_test) and code.y_test.sum() == ours.y_test.sum()
    ids_test = code.X_test[:, -1].astype(int)
    assert np.array_equal(y[ids_test], code.y_test)
    # rows of the first split's 60 % part (train normals + every train anomaly) seen again in the test set
    first_test = set(ours.X_test[:, -1].astype(int))
    overlap = np.mean([i not in first_test for i in ids_test])
    assert 0.5 < overlap < 0.7
    again = odds_split(X, y, np.random.default_rng(0), standardize=False, test_split="resampled")
    np.testing.assert_array_equal(code.X_test, again.X_test)
    with pytest.raises(ValueError, match="test_split"):
        odds_split(X, y, np.random.default_rng(0), test_split="overlap")


def test_resampled_split_scales_each_part_with_its_own_split():
    """Each of the authors' two splits fits its scaler on its whole 60 % part (anomalies included)."""
    X, y = _toy()
    X = np.c_[X + 5.0, np.arange(len(X))]
    s = odds_split(X, y, np.random.default_rng(0), test_split="resampled")
    ids = odds_split(X, y, np.random.default_rng(0), standardize=False, test_split="resampled")
    first_test = odds_split(X, y, np.random.default_rng(0), standardize=False).X_test[:, -1].astype(int)
    train_ids, test_ids = ids.X_train[:, -1].astype(int), ids.X_test[:, -1].astype(int)
    for rows, fit_rows in ((train_ids, np.setdiff1d(np.arange(len(X)), first_test)),
                           (test_ids, np.setdiff1d(np.arange(len(X)), test_ids))):
        mu, sd = X[fit_rows].mean(0), X[fit_rows].std(0)
        part = s.X_train if rows is train_ids else s.X_test
        np.testing.assert_allclose(part, (X[rows] - mu) / sd, atol=1e-4)
    assert len(np.setdiff1d(np.arange(len(X)), first_test)) == 600 + 120  # all training anomalies too
