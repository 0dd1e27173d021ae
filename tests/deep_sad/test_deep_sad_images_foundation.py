"""Deep SAD image experiments, foundation: Sec. 4.2 setting builder, CIFAR-10 loader, App. D LeNets.

Everything runs on small arrays/files the tests write (plus one real-MNIST check when the shared data
folder is configured).
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from semiad.core.data.registry import DatasetSpec
from semiad.core.data.resolve import DataNotFoundError
from semiad.core.data.splits import semisupervised_counts
from semiad.core.detectors import lenet
from semiad.core.detectors.base import KNOWN_ANOMALY, UNLABELED
from semiad.core.detectors.lenet import (
    LENET_ARCHITECTURES,
    LeNetAutoencoder,
    LeNetDecoder,
    LeNetEncoder,
    StackedLeNet,
    StackedLeNetAutoencoder,
    bias_free,
    glorot_uniform_,
    stack_modules,
    unstack_module,
)
from semiad.deep_sad.cifar10 import (
    ARCHIVE_FILE,
    NPZ_FILE,
    REGISTRY_ENTRIES,
    CifarFormatError,
    RestrictedUnpickler,
    load_cifar10,
    parse_batch,
    read_cifar10_archive,
    read_cifar10_npz,
    restricted_loads,
)
from semiad.deep_sad.image_settings import (
    EXPERIMENTS_PER_POINT,
    SCENARIO_VALUES,
    ImageSetting,
    build_image_setting,
    draw_setting_indices,
    known_classes_draw,
    scale_images,
    scenario_grid,
    setting_counts,
    tables_grid,
    unique_settings,
)

# ============================================================================ setting builder (Sec. 4.2)
#: Unequal class sizes (as in MNIST); class 0 has 900 images so that gamma_p = .1 / gamma_l = .2 are exact.
CLASS_SIZES = (900, 610, 580, 640, 555, 600, 590, 575, 620, 585)


def _fake_split(sizes=CLASS_SIZES, seed=0, shape=(1, 4, 4)):
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, c) for c, n in enumerate(sizes)]).astype(np.int64)
    labels = labels[rng.permutation(len(labels))]
    images = rng.integers(0, 256, size=(len(labels), *shape), dtype=np.uint8)
    return images, labels


TRAIN = _fake_split()
TEST = _fake_split(sizes=(30,) * 10, seed=1)


def _check_setting(setting: ImageSetting, labels: np.ndarray, rounding: str = "nearest"):
    idx = draw_setting_indices(labels, setting, rounding=rounding)
    normal = setting.normal_class
    n_normal = int(np.sum(labels == normal))
    _, p, m = setting_counts(n_normal, setting.gamma_l, setting.gamma_p, setting.k_l, rounding)
    # every normal training image is unlabeled; pollution and labeled anomalies as counted
    assert set(idx.train_index[idx.classes == normal]) == set(np.flatnonzero(labels == normal))
    assert idx.n_unlabeled == n_normal + p and idx.n_pollution == p and idx.n_labeled_anomalies == m
    # disjoint (no image twice), semi-labels consistent with the ground truth
    assert len(np.unique(idx.train_index)) == len(idx.train_index)
    np.testing.assert_array_equal(idx.classes, labels[idx.train_index])
    np.testing.assert_array_equal(idx.y_true, (idx.classes != normal).astype(int))
    assert set(np.unique(idx.y_semi)) <= {UNLABELED, KNOWN_ANOMALY}
    assert np.all(idx.y_true[idx.y_semi == KNOWN_ANOMALY] == 1)
    assert set(idx.classes[idx.y_semi == KNOWN_ANOMALY]) <= set(setting.known_classes)
    # ratios as the paper defines them, to within the integer rounding
    n = idx.n_unlabeled
    assert abs(idx.gamma_p_achieved - setting.gamma_p) <= 0.5 / n + 1e-12
    if setting.k_l:
        assert abs(idx.gamma_l_achieved - setting.gamma_l) <= 0.5 / (n - 1) + 1e-12
        assert m == round(n * setting.gamma_l / (1 - setting.gamma_l))
    else:
        assert m == 0
    return idx


@pytest.mark.parametrize("scenario", ["labeled", "pollution", "known_classes", "sensitivity"])
def test_every_scenario_has_exact_ratios_and_disjoint_draws(scenario):
    images, labels = TRAIN
    grid = scenario_grid("fake", scenario, normal_classes=(0, 7), n_seeds=2,
                         known_classes=None if scenario == "known_classes" else (1, 9))
    assert grid
    for setting in grid:
        idx = _check_setting(setting, labels)
        if scenario == "known_classes":
            assert setting.k_l == setting.value and setting.gamma_l == .05 and setting.gamma_p == .1
        if scenario == "labeled":
            assert setting.gamma_p == 0 and idx.n_pollution == 0 and setting.k_l == 1
        if scenario == "pollution":
            assert setting.gamma_l == .05 and setting.k_l == 1
            if setting.gamma_p == .2:  # pollution comes from all nine classes, not only the known one
                assert len(set(idx.classes[(idx.y_semi == UNLABELED) & (idx.y_true == 1)])) >= 5


def test_counts_exact_case_and_rounding_rules():
    # 900 normals: gamma_p = .1 -> p = 100 (n = 1000); gamma_l = .2 -> m = 250 = .2 * 1250 exactly
    assert setting_counts(900, 0.2, 0.1) == (900, 100, 250)
    idx = _check_setting(ImageSetting("fake", 0, (3,), 0.2, 0.1), TRAIN[1])
    assert idx.gamma_p_achieved == 0.1 and idx.gamma_l_achieved == 0.2
    # same rule as the tabular splits; "floor" is the authors' int()
    for n_normal in (5923, 6742, 5000, 900):
        for gl in SCENARIO_VALUES["labeled"]:
            for gp in SCENARIO_VALUES["pollution"]:
                _, p, m = setting_counts(n_normal, gl, gp)
                assert (m, p) == semisupervised_counts(n_normal, gl, gp)
                _, pf, mf = setting_counts(n_normal, gl, gp, rounding="floor")
                assert 0 <= p - pf <= 1 and 0 <= m - mf <= 2
    assert setting_counts(5923, 0.05, 0.1, rounding="floor")[1] == 658  # int(5923 / 9)
    assert setting_counts(5923, 0.05, 0.1, k_l=0)[2] == 0
    with pytest.raises(ValueError):
        setting_counts(100, 1.0, 0.0)
    with pytest.raises(ValueError):
        ImageSetting("fake", 0, (0,), 0.05, 0.0)  # the normal class cannot be a known anomaly class


def test_draws_are_seeded_nested_and_fail_clearly():
    labels = TRAIN[1]
    a = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.05, seed=3))
    b = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.05, seed=3))
    c = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.05, seed=4))
    np.testing.assert_array_equal(a.train_index, b.train_index)
    assert set(a.train_index) != set(c.train_index)
    # an explicit Generator is honoured
    g1 = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.05), np.random.default_rng(9))
    g2 = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.05), np.random.default_rng(9))
    np.testing.assert_array_equal(g1.train_index, g2.train_index)
    # labeled sets grow by prefix with gamma_l (common random numbers across the curve)
    small = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.0))
    large = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.20, 0.0))
    lab = lambda i: set(i.train_index[i.y_semi == KNOWN_ANOMALY])  # noqa: E731
    assert lab(small) < lab(large)
    with pytest.raises(ValueError, match="labeled anomalies requested"):
        draw_setting_indices(labels, ImageSetting("fake", 0, (1,), 0.5, 0.0))


def test_unlabeled_data_do_not_depend_on_the_known_classes():
    """Pollution is drawn first, from (seed, dataset, normal class) only: every known-class choice and every
    k_l share the unlabeled set (what lets the grid train unsupervised models once per unlabeled set)."""
    labels = TRAIN[1]
    unl = lambda i: i.train_index[i.y_semi != KNOWN_ANOMALY]  # noqa: E731
    lab = lambda i: i.train_index[i.y_semi == KNOWN_ANOMALY]  # noqa: E731
    draws = [draw_setting_indices(labels, ImageSetting("fake", 2, known, gl, 0.1, seed=3))
             for known, gl in [((5,), 0.05), ((1,), 0.05), ((1, 5, 8), 0.05), ((), 0.0), ((7,), 0.2)]]
    for d in draws[1:]:
        np.testing.assert_array_equal(unl(d), unl(draws[0]))
    for d in draws:
        assert not set(lab(d)) & set(unl(d))  # labeled and polluting anomalies stay disjoint
    # pollution nested across gamma_p; at gamma_p = 0 the labeled draw is the known-class permutation's prefix
    small = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.05, seed=3))
    large = draw_setting_indices(labels, ImageSetting("fake", 2, (5,), 0.05, 0.2, seed=3))
    pol = lambda i: set(i.train_index[(i.y_semi != KNOWN_ANOMALY) & (i.y_true == 1)])  # noqa: E731
    assert pol(small) < pol(large)
    setting = ImageSetting("fake", 2, (5,), 0.05, 0.0, seed=3)
    pool = np.flatnonzero(labels == 5)
    expected = pool[setting.rng().permutation(len(pool))]
    clean = draw_setting_indices(labels, setting)
    np.testing.assert_array_equal(lab(clean), expected[:len(lab(clean))])


def test_build_setting_arrays_scaling_and_test_split():
    images, labels = TRAIN
    test_images, test_labels = TEST
    setting = ImageSetting("fake", 4, (1, 8), 0.05, 0.1, seed=1)
    data = build_image_setting(setting, images, labels, test_images, test_labels)
    assert data.X_train.dtype == np.float32 and data.X_train.shape == (len(data.y_semi), 1, 4, 4)
    np.testing.assert_allclose(data.X_train, images[data.train_index] / 255.0, rtol=1e-6)
    assert data.X_train.min() >= 0 and data.X_train.max() <= 1
    assert data.X_test.shape == (300, 1, 4, 4)
    np.testing.assert_array_equal(data.y_test, (test_labels != 4).astype(int))
    assert data.y_test.sum() == 270  # all ten test classes; nine of them anomalous
    assert data.n_labeled_anomalies == data.indices.n_labeled_anomalies > 0
    assert scale_images(np.full((2, 3, 3), 255, np.uint8)).shape == (2, 1, 3, 3)


def test_paper_grid_sizes_and_dedup():
    for scenario, values in SCENARIO_VALUES.items():
        grid = scenario_grid("mnist", scenario)
        assert len(grid) == len(values) * EXPERIMENTS_PER_POINT[scenario]
        for v in values:
            assert sum(s.value == v for s in grid) == EXPERIMENTS_PER_POINT[scenario]
    assert len(scenario_grid("mnist", "sensitivity")) == 90
    full = tables_grid()
    assert len(full) == 3 * 1400
    # (i) at gamma_l = .05 and (ii) at gamma_p = 0 are the same 90 training sets (Tables 3/4 share them)
    i05 = {s.data_key for s in full if s.scenario == "labeled" and s.value == .05 and s.dataset == "mnist"}
    ii0 = {s.data_key for s in full if s.scenario == "pollution" and s.value == 0 and s.dataset == "mnist"}
    assert i05 == ii0 and len(i05) == 90
    assert len(unique_settings(full)) < len(full)
    # (iii): k_l classes drawn per (normal class, seed), nested in k_l, never the normal class
    for normal in range(10):
        for seed in range(10):
            sets = [known_classes_draw("mnist", normal, seed, k) for k in (0, 1, 2, 3, 5)]
            assert [len(s) for s in sets] == [0, 1, 2, 3, 5] and normal not in sets[-1]
            assert all(set(a) <= set(b) for a, b in zip(sets, sets[1:], strict=False))
    firsts = {known_classes_draw("mnist", 0, seed, 1) for seed in range(10)}
    assert len(firsts) > 2  # actually random over seeds


def _has_mnist() -> bool:
    d = os.environ.get("SEMIAD_DATA_DIR")
    return bool(d) and (Path(d) / "mnist" / "train-images-idx3-ubyte.gz").is_file()


@pytest.mark.skipif(not _has_mnist(), reason="SEMIAD_DATA_DIR holds no MNIST idx files")
def test_real_mnist_extreme_settings():
    from semiad.deep_sad.image_settings import load_image_setting, load_image_split

    for setting in (ImageSetting("mnist", 1, (7,), 0.20, 0.0), ImageSetting("mnist", 5, (0,), 0.05, 0.20),
                    ImageSetting("mnist", 8, known_classes_draw("mnist", 8, 0, 5), 0.05, 0.10)):
        data = load_image_setting(setting)
        assert data.X_train.shape[1:] == (1, 28, 28) and data.X_test.shape == (10000, 1, 28, 28)
        _check_setting(setting, np.asarray(load_image_split("mnist", "train")[1]))


# ============================================================================ CIFAR-10 loader
class _Py2StylePickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote for the official batches: protocol 2, str as (SHORT_)BINSTRING
    (read back as bytes with encoding="bytes"), numpy globals under their numpy-1 names."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str
    dispatch[type] = save_global


def _py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    _Py2StylePickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def _batch(rng, n, label):
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    return {b"batch_label": label.encode(), b"labels": labels, b"data": data,
            b"filenames": [f"img_{i}.png".encode() for i in range(n)]}


def write_tiny_cifar_archive(path: Path, n: int = 4, seed: int = 0, replace: dict | None = None) -> dict:
    """A cifar-10-python.tar.gz in the official layout with ``n`` images per batch; returns the batches."""
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {name: _batch(rng, n, f"batch {name}") for name in names}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        members = {name: _py2_pickle(b) for name, b in batches.items()}
        members["batches.meta"] = _py2_pickle({b"label_names": [b"airplane"], b"num_cases_per_batch": n})
        members.update(replace or {})
        for name, raw in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    return batches


def test_official_batch_pickles_reference_only_the_admitted_globals():
    raw = _py2_pickle(_batch(np.random.default_rng(0), 3, "x"))
    globals_used = {tuple(arg.split(" ", 1)) for op, arg, _ in pickletools.genops(raw) if op.name == "GLOBAL"}
    assert globals_used == {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
                            ("numpy", "dtype")}
    assert globals_used <= RestrictedUnpickler.ALLOWED
    obj = restricted_loads(raw)
    assert set(obj) == {b"batch_label", b"labels", b"data", b"filenames"}
    images, labels = parse_batch(obj)
    assert images.shape == (3, 3, 32, 32) and labels.dtype == np.int64


def test_archive_reader_and_loader(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    batches = write_tiny_cifar_archive(tmp_path / "data" / ARCHIVE_FILE, n=4)
    arrays = read_cifar10_archive(tmp_path / "data" / ARCHIVE_FILE)
    train_x = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    np.testing.assert_array_equal(arrays["train"][0], train_x.reshape(20, 3, 32, 32))
    np.testing.assert_array_equal(arrays["train"][1],
                                  sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), []))
    np.testing.assert_array_equal(arrays["test"][0].reshape(4, -1), batches["test_batch"][b"data"])
    # red plane first: pixel (0, 0) of channel 0 is byte 0 of the row, channel 1 byte 1024
    assert arrays["test"][0][0, 1, 0, 0] == batches["test_batch"][b"data"][0, 1024]
    with pytest.warns(UserWarning, match="no pinned sha256"):
        test = load_cifar10("test", data_dir=tmp_path / "data", download=False, source="archive",
                            official=False)
    assert test.images.shape == (4, 3, 32, 32) and test.images.dtype == np.uint8 and len(test) == 4
    with pytest.raises(CifarFormatError, match="md5"):  # official=True insists on the published archive
        load_cifar10("test", data_dir=tmp_path / "data", download=False, source="archive")
    with pytest.raises(DataNotFoundError), pytest.warns(UserWarning, match="does not exist"):
        load_cifar10("test", data_dir=tmp_path / "empty", download=False, source="archive")


class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def test_restricted_unpickler_rejects_malicious_pickles(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Evil(f"touch {marker}"), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="forbidden global"):
        restricted_loads(evil)
    with pytest.raises(pickle.UnpicklingError, match="forbidden global"):
        restricted_loads(pickle.dumps({b"data": eval, b"labels": []}))  # builtins.eval
    archive = tmp_path / "evil.tar.gz"
    write_tiny_cifar_archive(archive, replace={"data_batch_3": evil})
    with pytest.raises(CifarFormatError, match="forbidden global"):
        read_cifar10_archive(archive)
    assert not marker.exists()
    with pytest.raises(CifarFormatError):  # well-formed pickle, wrong content
        parse_batch({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]})
    with pytest.raises(CifarFormatError):
        parse_batch({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]})


def test_npz_source(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMIAD_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8), "y_train": np.arange(6),
              "x_test": rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8), "y_test": np.array([9, 0, 1])}
    npz = tmp_path / "data" / NPZ_FILE
    npz.parent.mkdir(parents=True)
    np.savez(npz, **arrays)
    out = read_cifar10_npz(npz)
    np.testing.assert_array_equal(out["train"][0], arrays["x_train"].transpose(0, 3, 1, 2))
    with pytest.raises(CifarFormatError, match="sha256"):
        read_cifar10_npz(npz, verify_hashes=True)
    write_tiny_cifar_archive(tmp_path / "data" / ARCHIVE_FILE)  # "auto" prefers the npz
    with pytest.warns(UserWarning):
        test = load_cifar10("test", data_dir=tmp_path / "data", download=False, official=False)
    assert test.origin.endswith("cifar10.npz")
    np.testing.assert_array_equal(test.labels, [9, 0, 1])
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{**arrays, "x_test": np.array([{"a": 1}] * 3, dtype=object)})
    with pytest.raises(CifarFormatError):  # object arrays need pickle: refused
        read_cifar10_npz(bad)


def test_registry_entries_are_valid_specs():
    for name, entry in REGISTRY_ENTRIES.items():
        spec = DatasetSpec(name=name, **entry)
        assert set(spec.urls) <= set(spec.files)


# ============================================================================ LeNets (App. D)
@pytest.mark.parametrize("name,rep,first_conv",
                         [("mnist", 32, 8), ("fashion_mnist", 32, 16), ("cifar10", 128, 32)])
def test_lenet_shapes_and_no_bias(name, rep, first_conv):
    torch.manual_seed(0)
    ae = LeNetAutoencoder(name)
    c, h, w = ae.arch.in_shape
    x = torch.rand(3, c, h, w)
    assert ae.encoder(x).shape == (3, rep) and ae(x).shape == (3, c, h, w)
    assert ae(x).min() >= 0 and ae(x).max() <= 1  # sigmoid output for [0, 1] pixels
    assert bias_free(ae) and bias_free(LeNetEncoder(name))
    assert all(n.endswith("weight") for n, _ in ae.named_parameters())  # BN has no affine parameters
    convs = [m for m in ae.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == list(LENET_ARCHITECTURES[name].conv_channels)
    assert convs[0].out_channels == first_conv and convs[0].kernel_size == (5, 5)
    lrelu = [m for m in ae.encoder.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert lrelu and all(m.negative_slope == 0.1 for m in lrelu)
    bns = [m for m in ae.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns and all(m.eps == 1e-4 and not m.affine for m in bns)
    if name == "fashion_mnist":
        dense = [m.out_features for m in ae.encoder.modules() if isinstance(m, torch.nn.Linear)]
        assert dense == [64, 32]


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_channels_last_layout_is_the_same_function(name):
    """semiad's LeNets keep conv weights and activations channels-last (lenet.CHANNELS_LAST, a speed choice);
    with the same weights they compute what PyTorch's default NCHW layout computes, forward and backward."""
    torch.manual_seed(0)
    with lenet.use_channels_last(False):
        plain = LeNetAutoencoder(name)
    with lenet.use_channels_last(True):
        nhwc = LeNetAutoencoder(name)
    nhwc.load_state_dict(plain.state_dict())
    convs = [m for m in nhwc.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert all(m.weight.stride(1) == 1 for m in convs)  # channels innermost, even with one channel
    c, h, w = nhwc.arch.in_shape
    x = torch.rand(8, c, h, w)
    for train in (True, False):
        plain.train(train)
        nhwc.train(train)
        with lenet.use_channels_last(False):
            ref = plain(x)
            ref.square().sum().backward()
        out = nhwc(x)
        out.square().sum().backward()
        assert out.shape == ref.shape
        torch.testing.assert_close(out, ref, atol=1e-4, rtol=0)
    for a, b in zip(plain.parameters(), nhwc.parameters(), strict=True):
        scale = float(a.grad.abs().max())  # float32 sums of a different order: compare relative to the scale
        torch.testing.assert_close(a.grad, b.grad, atol=1e-3 * scale, rtol=1e-3)


def test_rep_dim_variants():
    for d in (16, 64, 512):  # Fig. 6: d in 2^4..2^9
        assert LeNetAutoencoder("cifar10", rep_dim=d)(torch.rand(2, 3, 32, 32)).shape == (2, 3, 32, 32)
        assert LeNetEncoder("mnist", rep_dim=d)(torch.rand(2, 1, 28, 28)).shape == (2, d)
    with pytest.raises(ValueError, match="multiple of 16"):
        LeNetDecoder("mnist", rep_dim=20)


@pytest.mark.parametrize("mode", ["grouped", "loop"])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_stacked_copies_match_looping(name, mode, monkeypatch):
    monkeypatch.setattr(lenet, "STACKED_CONV_MODE", mode)  # grouped = the CUDA path, tested here on CPU
    torch.manual_seed(1)
    k, b = 3, 5
    # float64, so that float-summation-order noise cannot flip a max-pooling choice between the two paths
    models = [LeNetAutoencoder(name).double() for _ in range(k)]
    stacked = stack_modules(models)
    assert next(stacked.parameters()).dtype == torch.float64
    assert isinstance(stacked, StackedLeNetAutoencoder) and bias_free(stacked)
    # exact round trip of weights and BN statistics
    for single, back in zip(models, unstack_module(stacked), strict=True):
        for (ka, a), (kb, bb) in zip(single.state_dict().items(), back.state_dict().items(), strict=True):
            assert ka == kb and torch.equal(a, bb)
    c, h, w = models[0].arch.in_shape
    x = torch.rand(k, b, c, h, w, dtype=torch.float64)
    # training mode: per-model batch statistics, per-model gradients, per-model running statistics
    out = stacked(x)
    ref = torch.stack([m(x[i]) for i, m in enumerate(models)])
    torch.testing.assert_close(out, ref, atol=1e-9, rtol=1e-6)
    ((out - x) ** 2).mean(dim=(1, 2, 3, 4)).sum().backward()
    ((ref - x) ** 2).mean(dim=(1, 2, 3, 4)).sum().backward()
    stacked_params = [p for _, p in stacked.named_parameters()]
    for i, back in enumerate(unstack_module(stacked)):
        singles = list(models[i].named_parameters())
        assert len(singles) == len(stacked_params)
        for (nm, p_single), p_stacked in zip(singles, stacked_params, strict=True):
            g = p_stacked.grad.reshape(k, *p_single.shape)[i]
            torch.testing.assert_close(g, p_single.grad, atol=1e-9, rtol=1e-6), nm
        for key, v in models[i].state_dict().items():
            torch.testing.assert_close(back.state_dict()[key], v, atol=1e-9, rtol=1e-6)
    # eval mode with a shared input (e.g. the test set through all K models)
    stacked.eval()
    for m in models:
        m.eval()
    xt = torch.rand(4, c, h, w, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(stacked.encoder(xt), torch.stack([m.encoder(xt) for m in models]),
                                   atol=1e-9, rtol=1e-6)
        torch.testing.assert_close(stacked(x), torch.stack([m(x[i]) for i, m in enumerate(models)]),
                                   atol=1e-9, rtol=1e-6)


def test_stacked_encoder_adam_step_matches_independent_training():
    torch.manual_seed(2)
    k = 2
    encoders = [LeNetEncoder("mnist").double() for _ in range(k)]
    stacked = stack_modules(encoders)
    assert isinstance(stacked, StackedLeNet) and stacked.part == "encoder"
    x = torch.rand(k, 8, 1, 28, 28, dtype=torch.float64)
    opt = torch.optim.Adam(stacked.parameters(), lr=1e-3, weight_decay=1e-6)
    opts = [torch.optim.Adam(e.parameters(), lr=1e-3, weight_decay=1e-6) for e in encoders]
    for _ in range(2):
        opt.zero_grad()
        (stacked(x) ** 2).sum(dim=2).mean(dim=1).sum().backward()
        opt.step()
        for i, (e, o) in enumerate(zip(encoders, opts, strict=True)):
            o.zero_grad()
            (e(x[i]) ** 2).sum(dim=1).mean().backward()
            o.step()
    for e, back in zip(encoders, unstack_module(stacked), strict=True):
        for a, b in zip(e.parameters(), back.parameters(), strict=True):
            torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-6)


def test_glorot_init_bounds():
    torch.manual_seed(0)
    st = StackedLeNet("cifar10", 2, "decoder")
    glorot_uniform_(st)
    w = st.net[2].weight  # first deconvolution (8 -> 128, 5x5), model slices (8, 128, 5, 5)
    bound = (6 / (128 * 25 + 8 * 25)) ** 0.5
    assert w.abs().max() <= bound and not torch.equal(w[0], w[1])
    single = glorot_uniform_(LeNetEncoder("mnist"))
    assert single.net[0].weight.abs().max() <= (6 / (25 + 8 * 25)) ** 0.5
