"""DADS data layer: multi-class loaders (real + demo + HAR parser) and the contamination split."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from semiad.core.data.registry import DatasetSpec, get_spec
from semiad.core.data.resolve import ChecksumError, DataNotFoundError, resolve_files
from semiad.dads import data as multiclass
from semiad.dads.contamination import make_contamination_split
from semiad.dads.data import MULTICLASS_DATASETS, load_multiclass, make_demo_multiclass, read_har_archive
from tests.conftest import requires_real_data

HAR_REL = "tabular/har/human+activity+recognition+using+smartphones.zip"
HAR_URL = "https://archive.ics.uci.edu/static/public/240/human+activity+recognition+using+smartphones.zip"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's download cache."""
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def real():
    loaded = {}

    def get(name: str):
        if name not in loaded:
            try:
                loaded[name] = load_multiclass(name, download=False)
            except DataNotFoundError as exc:
                pytest.skip(f"real file missing: {exc}")
        return loaded[name]
    return get


def _demo(name: str = "annthyroid", **kwargs):
    return make_demo_multiclass(name, 21, multiclass._PROTOCOLS[name], **kwargs)


def _check_split(ds, s, contamination):
    unl = s.y_semi == 0
    lab = s.y_semi == -1
    n_unl = int(unl.sum())
    n_anom = int(s.y_train[unl].sum())
    assert n_unl == s.info["n_unlabeled"] and n_anom == s.info["n_unlabeled_anomalies"]
    assert abs(n_anom / n_unl - contamination) <= 0.5 / n_unl + 1e-12  # exact up to whole rows
    assert s.info["realised_contamination"] == pytest.approx(n_anom / n_unl)
    # labeled anomalies: known class only, disjoint from everything else
    assert np.all(s.cls_train[lab] == ds.known_class) and lab.sum() == s.info["n_labeled"]
    ids = [s.idx_train, s.idx_val, s.idx_test]
    assert sum(len(i) for i in ids) == len(np.unique(np.concatenate(ids)))
    assert len(set(s.idx_train[lab]) & set(s.idx_train[unl])) == 0
    # arrays agree with the dataset rows they come from
    np.testing.assert_array_equal(s.cls_test, ds.classes[s.idx_test])
    np.testing.assert_array_equal(s.y_train, ds.y[s.idx_train])
    assert s.X_train.dtype == np.float32 and s.X_test.dtype == np.float32


# ------------------------------------------------------------------------------- real files

@requires_real_data
@pytest.mark.parametrize("name,d,counts", [
    ("annthyroid", 21, {1: 166, 2: 368, 3: 6666}),
    ("cardiotocography", 21, {1: 1655, 2: 295, 3: 176}),
    ("shuttle_aad", 9, {1: 11478, 2: 13, 3: 39, 5: 809, 6: 4, 7: 2}),
    ("unsw_nb15", 190, {"Normal": 37000, "Generic": 18871, "Exploits": 11132, "Fuzzers": 6062,
                        "DoS": 4089, "Reconnaissance": 3496, "Analysis": 677, "Backdoor": 583,
                        "Shellcode": 378, "Worms": 44}),
])
def test_real_class_counts(real, name, d, counts):
    ds = real(name)
    st = ds.stats()
    assert ds.source == "real" and not ds.is_demo
    assert ds.X.shape == (sum(counts.values()), d) and ds.X.dtype == np.float64
    assert np.isfinite(ds.X).all()
    assert st["class_counts"] == counts
    assert st["n_anomalies"] == sum(v for k, v in counts.items() if k not in ds.normal_classes)
    assert set(ds.unknown_classes) | {ds.known_class} | set(ds.normal_classes) == set(counts)


@requires_real_data
def test_real_protocols(real):
    assert (real("annthyroid").known_class, real("annthyroid").unknown_classes) == (2, (1,))
    assert (real("cardiotocography").known_class, real("cardiotocography").unknown_classes) == (2, (3,))
    assert (real("shuttle_aad").known_class, real("shuttle_aad").unknown_classes) == (5, (2, 3, 6, 7))
    unsw = real("unsw_nb15")
    assert unsw.known_class == "DoS" and "proto=tcp" in unsw.feature_names
    assert not {"id", "label", "attack_cat", "proto"} & set(unsw.feature_names)


@requires_real_data
@pytest.mark.parametrize("name", ["annthyroid", "cardiotocography", "shuttle_aad"])
@pytest.mark.parametrize("c", [0.0, 0.02, 0.05, 0.1, 0.2])
def test_real_contamination_is_exact(real, name, c):
    ds = real(name)
    s = make_contamination_split(ds, c, seed=3)
    _check_split(ds, s, c)
    n_train_anom = s.info["n_train_anomalies"]
    assert s.info["n_labeled"] == min(round(0.1 * n_train_anom), s.info["n_train_known"])
    assert (s.info["n_unlabeled_anomalies"] > 0) == (c > 0)


@requires_real_data
def test_real_annthyroid_numbers_and_scaler(real):
    ds = real("annthyroid")
    s = make_contamination_split(ds, 0.1, seed=0)
    # 60 % of each class in train: 4000 normals, 221 known (class 2), 100 unknown (class 1)
    assert (s.info["n_train_normals_available"], s.info["n_train_known"], s.info["n_train_anomalies"]) \
        == (4000, 221, 321)
    assert s.info["n_labeled"] == 32  # round(10 % of 321)
    # 289 anomalies left cannot contaminate 4000 normals at 10 %: normals are cut to 2601
    assert s.info["normals_subsampled"] and s.info["n_unlabeled"] == 2890
    assert s.info["n_unlabeled_anomalies"] == 289
    assert len(s.y_val) == 1440 and len(s.y_test) == 1439
    assert set(np.unique(s.cls_test)) == {1, 2, 3}
    # scaler fit on the final training rows only, then applied to val/test
    np.testing.assert_allclose(s.X_train.mean(0), 0, atol=1e-5)
    scaler = StandardScaler().fit(ds.X[s.idx_train])
    np.testing.assert_allclose(s.X_test, scaler.transform(ds.X[s.idx_test]), rtol=1e-4, atol=1e-4)
    assert np.abs(s.X_val.mean(0)).max() > 1e-3
    s2 = make_contamination_split(ds, 0.1, seed=0, labeled_of="known_class")
    assert s2.info["n_labeled"] == 22  # round(10 % of 221)


@requires_real_data
def test_ctg_sheet_is_parsed_once_per_file_version(tmp_path):
    """Every DADS cell loads CTG; the .xls is parsed once per process and file version, and the
    arrays handed out are the caller's own (changing them leaves the next load as it was)."""
    try:
        found = resolve_files(get_spec("cardiotocography_multiclass"), None, download=False)
    except DataNotFoundError as exc:
        pytest.skip(f"real file missing: {exc}")
    xls = tmp_path / "CTG.xls"
    xls.write_bytes(next(iter(found.values())).read_bytes())
    multiclass._ctg_raw_sheet.cache_clear()
    X1, y1, _ = multiclass.read_ctg(xls)
    X1[:] = np.nan
    X2, y2, _ = multiclass.read_ctg(xls, "authors")
    X3, y3, _ = multiclass.read_ctg(xls)
    info = multiclass._ctg_raw_sheet.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert np.isfinite(X3).all() and X2.shape[1] == 34 and (y1 == y3).all() and (y2 == y3).all()
    os.utime(xls, ns=(0, 0))  # another version of the file: parsed again
    multiclass.read_ctg(xls)
    assert multiclass._ctg_raw_sheet.cache_info().misses == 2


# --------------------------------------------------------------------- split on demo data

@pytest.mark.parametrize("c", [0.0, 0.05, 0.1, 0.15, 0.3])
def test_demo_contamination_is_exact(c):
    ds = _demo()
    s = make_contamination_split(ds, c, seed=1)
    _check_split(ds, s, c)


def test_pool_shortage_subsamples_normals():
    ds = _demo()  # 450 normal, 60 known (class 2), 90 unknown (class 1)
    s = make_contamination_split(ds, 0.3, seed=0)
    # train: 270 normals, 36 + 54 anomalies; 9 labeled -> pool 81 -> normals round(81*.7/.3) = 189
    assert s.info["n_labeled"] == 9 and s.info["n_pool_anomalies"] == 81
    assert s.info["normals_subsampled"] and s.info["n_unlabeled_normals"] == 189
    assert s.info["realised_contamination"] == pytest.approx(0.3)
    assert not make_contamination_split(ds, 0.1, seed=0).info["normals_subsampled"]


def test_labeled_of_and_fraction():
    ds = _demo()
    assert make_contamination_split(ds, 0.1, 0, labeled_of="known_class").info["n_labeled"] == 4
    assert make_contamination_split(ds, 0.1, 0, labeled_fraction=0.001).info["n_labeled"] == 1
    assert make_contamination_split(ds, 0.1, 0, labeled_fraction=0.0).info["n_labeled"] == 0
    capped = make_contamination_split(ds, 0.0, 0, labeled_fraction=1.0)
    assert capped.info["n_labeled"] == 36 and capped.info["labeled_capped"]


def test_determinism_and_seeds():
    ds = _demo()
    a, b = make_contamination_split(ds, 0.1, 7), make_contamination_split(ds, 0.1, 7)
    for field in ("X_train", "y_semi", "y_train", "cls_train", "X_val", "X_test", "y_test", "idx_train"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = make_contamination_split(ds, 0.1, 8)
    assert not np.array_equal(a.idx_train, c.idx_train)
    assert not np.array_equal(np.sort(a.idx_test), np.sort(c.idx_test))


def test_max_train_and_minmax():
    ds = _demo()
    s = make_contamination_split(ds, 0.1, 0, max_train=100, scale="minmax")
    assert s.info["n_unlabeled"] == 100 and s.info["n_unlabeled_anomalies"] == 10
    assert s.info["capped_by_max_train"]
    assert s.X_train.min() == pytest.approx(0) and s.X_train.max() == pytest.approx(1)
    raw = make_contamination_split(ds, 0.1, 0, scale=None)
    np.testing.assert_allclose(raw.X_test, ds.X[raw.idx_test].astype(np.float32))


def test_masks_split_known_and_unknown():
    ds = _demo("shuttle_aad")
    s = make_contamination_split(ds, 0.1, 0)
    known, unknown = s.test_mask("known"), s.test_mask("unknown")
    assert set(np.unique(s.cls_test[known])) == {1, 5}
    assert set(np.unique(s.cls_test[unknown])) == {1, 2, 3, 6, 7}
    assert s.test_mask("all").all() and (known | unknown).all()
    assert set(np.unique(s.cls_val[s.mask("known", "val")])) == {1, 5}
    with pytest.raises(ValueError, match="kind"):
        s.test_mask("both")


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan")])
def test_bad_contamination_raises(bad):
    with pytest.raises(ValueError, match="contamination must be in"):
        make_contamination_split(_demo(), bad, 0)


def test_other_bad_inputs():
    ds = _demo()
    with pytest.raises(ValueError, match="labeled_of"):
        make_contamination_split(ds, 0.1, 0, labeled_of="some")
    with pytest.raises(ValueError, match="train_val_test"):
        make_contamination_split(ds, 0.1, 0, train_val_test=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="seed"):
        make_contamination_split(ds, 0.1, -1)
    with pytest.raises(ValueError, match="scale"):
        make_contamination_split(ds, 0.1, 0, scale="robust")


# ------------------------------------------------------------------ loader entry point

def test_unknown_name_lists_datasets():
    with pytest.raises(ValueError) as err:
        load_multiclass("mnist")
    for name in MULTICLASS_DATASETS:
        assert name in str(err.value)


@pytest.mark.parametrize("name,d", [("annthyroid", 21), ("cardiotocography", 21), ("shuttle_aad", 9),
                                    ("unsw_nb15", 190), ("har", 561)])
def test_demo_fallback(tmp_path, name, d):
    ds = load_multiclass(name, data_dir=tmp_path, on_missing="demo", download=False)
    assert ds.source == "demo" and ds.is_demo and "demo" in ds.origin and "not the paper" in ds.origin
    assert ds.X.shape[1] == d and set(ds.y) == {0, 1}
    assert set(np.unique(ds.classes).tolist()) == {*ds.normal_classes, ds.known_class, *ds.unknown_classes}
    with pytest.raises(DataNotFoundError):
        load_multiclass(name, data_dir=tmp_path, download=False)


def test_known_class_override_and_options(tmp_path):
    ds = load_multiclass("cardiotocography", data_dir=tmp_path, on_missing="demo", download=False,
                         known_class=3)
    assert ds.known_class == 3 and ds.unknown_classes == (2,)
    with pytest.raises(ValueError, match="known_class"):
        load_multiclass("cardiotocography", data_dir=tmp_path, on_missing="demo", known_class=1)
    with pytest.raises(TypeError, match="categorical"):
        load_multiclass("annthyroid", data_dir=tmp_path, on_missing="demo", categorical="drop")
    unsw = load_multiclass("unsw_nb15", data_dir=tmp_path, on_missing="demo", download=False,
                           categorical="drop")
    assert unsw.X.shape[1] == 39 and unsw.known_class == "DoS"
    with pytest.raises(ValueError, match="on_missing"):
        load_multiclass("annthyroid", on_missing="ignore")


def test_registry_entries():
    for name in ("annthyroid_multiclass", "cardiotocography_multiclass", "shuttle_aad",
                 "unsw_nb15_multiclass"):
        spec = get_spec(name)
        assert spec.kind == "multiclass" and spec.citation and spec.license
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in spec.files.values())
        assert set(spec.urls) == set(spec.files)
    har = get_spec("har")
    assert har.files == {HAR_REL: None} and har.urls[HAR_REL] == HAR_URL


# ------------------------------------------------------------------------------------- HAR

def _fake_har(path: Path, n_train: int = 12, n_test: int = 6, nested: bool = True) -> Path:
    """A tiny archive in the official layout (561 columns; activities 1..6 cycled)."""
    rng = np.random.default_rng(0)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("UCI HAR Dataset/features.txt",
                   "\n".join(f"{i + 1} tBodyAcc-{i}" for i in range(561)) + "\n")
        for part, n in (("train", n_train), ("test", n_test)):
            X = rng.uniform(-1, 1, size=(n, 561))
            z.writestr(f"UCI HAR Dataset/{part}/X_{part}.txt",
                       "\n".join(" " + " ".join(f"{v: .7e}" for v in row) for row in X) + "\n")
            z.writestr(f"UCI HAR Dataset/{part}/y_{part}.txt",
                       "\n".join(str(1 + i % 6) for i in range(n)) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    if nested:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("UCI HAR Dataset.zip", inner.getvalue())
            z.writestr("UCI HAR Dataset.names", "fake")
    else:
        path.write_bytes(inner.getvalue())
    return path


@pytest.mark.parametrize("nested", [True, False])
def test_har_parser_on_fake_archive(tmp_path, nested):
    path = _fake_har(tmp_path / HAR_REL, nested=nested)
    X, classes, names, counts = read_har_archive(path)
    assert X.shape == (18, 561) and counts == {"train": 12, "test": 6}
    assert names[0] == "1:tBodyAcc-0" and len(names) == 561
    with pytest.warns(UserWarning, match="no pinned sha256"):
        ds = load_multiclass("har", data_dir=tmp_path, download=False)
    assert ds.source == "real" and ds.X.shape == (18, 561)
    assert ds.normal_classes == (1, 4, 5, 6) and ds.known_class == 2 and ds.unknown_classes == (3,)
    assert ds.stats()["n_anomalies"] == 6


def test_har_missing_names_url(tmp_path):
    with pytest.raises(DataNotFoundError, match=re.escape(HAR_URL)):
        load_multiclass("har", data_dir=tmp_path, download=False)


def test_har_unpinned_download_needs_structural_check(tmp_path, monkeypatch):
    fake = _fake_har(tmp_path / "remote" / "har.zip")
    spec = DatasetSpec("har", "multiclass", {HAR_REL: None}, {HAR_REL: fake.as_uri()})
    monkeypatch.setattr(multiclass, "get_spec", lambda name: spec)
    cache = Path(tmp_path / "cache")
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(cache))
    empty = tmp_path / "empty"
    empty.mkdir()
    # a tiny archive does not have the official 7352 + 2947 rows: rejected, nothing cached
    with pytest.raises(ChecksumError, match="structural check"):
        load_multiclass("har", data_dir=empty, download=True)
    assert not (cache / HAR_REL).exists()
    # without a check an unpinned download is refused outright
    with pytest.raises(ChecksumError, match="no structural check"):
        resolve_files(spec, data_dir=empty, download=True)
    # with the expected shapes matching, the download is kept and its sha256 reported
    monkeypatch.setitem(multiclass.HAR_EXPECTED, "train", 12)
    monkeypatch.setitem(multiclass.HAR_EXPECTED, "test", 6)
    with pytest.warns(UserWarning, match=r"sha256 is [0-9a-f]{64}"):
        ds = load_multiclass("har", data_dir=empty, download=True)
    assert (cache / HAR_REL).is_file() and ds.X.shape == (18, 561)
