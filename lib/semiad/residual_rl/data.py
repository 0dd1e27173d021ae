"""MVTec AD loader (official folder layout) and a small synthetic stand-in for smoke runs.

Layout (as distributed by MVTec, one folder per category)::

    <category>/train/good/*.png
    <category>/test/good/*.png, <category>/test/<defect>/*.png
    <category>/ground_truth/<defect>/<stem>_mask.png

Where the folder is looked for (first hit wins), for each candidate base directory of
:func:`semiad.core.data.resolve.candidate_dirs` (``data_dir`` / ``$SEMIAD_DATA_DIR``, then the download
cache): ``<base>/mvtec_ad/<category>``, then ``<base>/<category>`` (``data_dir`` may point at the
unpacked MVTec root itself). MVTec AD cannot be downloaded on the user's behalf (its licence,
CC BY-NC-SA 4.0, is accepted on the official page), so a missing category raises
:class:`DataNotFoundError` whose message explains how to fetch it; ``on_missing="demo"`` instead
returns :func:`make_demo_mvtec` (``source="demo"``, announced by the caller's banner).

Verification: the project's shared copy of ``bottle`` (downscaled to 256 x 256, see its
PROVENANCE.md) ships a ``SHA256SUMS`` file, whose own sha256 is pinned in ``data/registry.json``
(entry ``mvtec_ad_bottle_256``). When that file sits next to the category folder it is checked
against the pin and every listed file of the category against it. A user's own full download has
no public per-file checksum list; it gets a structural check only (folders present, every defective
test image has its mask, image sizes agree).

Pixels are float32 in [0, 1], images ``(N, H, W, C)`` (C = 3 for RGB categories, 1 for the grey
ones such as grid, screw, zipper), masks ``(N, H, W)`` in {0, 1} (all zero for good images).
Resizing (ours, a parameter): images with Lanczos, masks by area average then >= 0.5, the same
rule the shared copy was made with.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from semiad.core.data.registry import get_spec
from semiad.core.data.resolve import (
    ChecksumError,
    DataNotFoundError,
    candidate_dirs,
    check_on_missing,
    sha256_of,
    verify,
)

#: The 15 categories of MVTec AD (Bergmann et al., CVPR 2019).
MVTEC_CATEGORIES: tuple[str, ...] = (
    "bottle", "cable", "capsule", "carpet", "grid", "hazelnut", "leather", "metal_nut", "pill", "screw",
    "tile", "toothbrush", "transistor", "wood", "zipper")
MVTEC_HOMEPAGE = "https://www.mvtec.com/company/research/datasets/mvtec-ad"
GOOD = "good"
#: Registry entry whose pinned file is the SHA256SUMS of the project's shared bottle copy.
_SUMS_ENTRY = "mvtec_ad_bottle_256"


@dataclass(frozen=True, eq=False)
class MVTecCategory:
    """One category: training (good) images, test images with labels, defect types and masks."""

    category: str
    train: np.ndarray  # (n_train, H, W, C) float32 in [0, 1]
    test: np.ndarray  # (n_test, H, W, C)
    test_labels: np.ndarray  # (n_test,) int64, 1 = defective
    test_defects: np.ndarray  # (n_test,) str: "good" or the defect type
    test_masks: np.ndarray  # (n_test, H, W) float32 in {0, 1}
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    source: str  # "real" or "demo"
    origin: str

    def __post_init__(self) -> None:
        n = len(self.test)
        if not (len(self.test_labels) == len(self.test_defects) == len(self.test_masks) == n):
            raise ValueError(f"{self.category}: test arrays disagree in length")
        if self.train.shape[1:] != self.test.shape[1:] or self.test_masks.shape[1:] != self.test.shape[1:3]:
            raise ValueError(f"{self.category}: train {self.train.shape}, test {self.test.shape} and "
                             f"masks {self.test_masks.shape} disagree in size")

    @property
    def size(self) -> int:
        return int(self.train.shape[1])

    @property
    def n_channels(self) -> int:
        return int(self.train.shape[3])

    @property
    def defect_types(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.test_defects.tolist()) - {GOOD}))

    def stats(self) -> dict:
        counts = {d: int((self.test_defects == d).sum()) for d in (GOOD, *self.defect_types)}
        return {"category": self.category, "size": self.size, "channels": self.n_channels,
                "n_train": len(self.train), "n_test": len(self.test), **{f"test_{k}": v for k, v in
                                                                         counts.items()},
                "source": self.source}


# ------------------------------------------------------------------------------------ reading
def _read_image(path: Path, size: int, mode: str) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert(mode)
        if im.size != (size, size):
            im = im.resize((size, size), Image.LANCZOS)
        arr = np.asarray(im, dtype=np.float32) / 255.0
    return arr[..., None] if arr.ndim == 2 else arr


def _read_mask(path: Path, size: int) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("L")
        if im.size != (size, size):
            im = im.resize((size, size), Image.BOX)
        return (np.asarray(im, dtype=np.float32) >= 127.5).astype(np.float32)


def _pngs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.is_file())


def check_layout(folder: Path) -> None:
    """Structural check of one category folder; raises ``ValueError`` naming what is wrong."""
    folder = Path(folder)
    train = folder / "train" / GOOD
    if not train.is_dir() or not _pngs(train):
        raise ValueError(f"{folder}: no training images in train/good")
    test = folder / "test"
    if not test.is_dir():
        raise ValueError(f"{folder}: no test/ folder")
    defects = [d.name for d in sorted(test.iterdir()) if d.is_dir() and d.name != GOOD]
    for defect in defects:
        for img in _pngs(test / defect):
            mask = folder / "ground_truth" / defect / f"{img.stem}_mask.png"
            if not mask.is_file():
                raise ValueError(f"{folder}: test/{defect}/{img.name} has no mask {mask}")


def _verify_shared_copy(base: Path, category: str) -> bool:
    """Check the shared copy's SHA256SUMS (pinned) and the category files it lists; False if absent."""
    sums = base / "mvtec_ad" / "SHA256SUMS"
    if not sums.is_file():
        return False
    spec = get_spec(_SUMS_ENTRY)
    (rel, pinned), = spec.files.items()
    if sums.resolve() != (base / rel).resolve():
        return False
    if pinned is not None:
        verify(sums, pinned)
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        name = name.removeprefix("./")
        if name.startswith(f"{category}/"):
            path = base / "mvtec_ad" / name
            if not path.is_file():
                raise ChecksumError(f"{path} is listed in {sums} but missing")
            verify(path, digest)
    return True


def find_category(category: str, data_dir: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Folder of ``category`` and whether it was checksum-verified; :class:`DataNotFoundError` if none."""
    searched = []
    for base in candidate_dirs(data_dir):
        for folder in (base / "mvtec_ad" / category, base / category):
            searched.append(str(folder))
            if (folder / "train" / GOOD).is_dir():
                check_layout(folder)
                verified = folder.parent.name == "mvtec_ad" and _verify_shared_copy(base, category)
                return folder, verified
    raise DataNotFoundError(
        f"MVTec AD category {category!r} not found in [{', '.join(searched)}].\n"
        f"Fix: MVTec AD (CC BY-NC-SA 4.0, non-commercial) must be downloaded by you from "
        f"{MVTEC_HOMEPAGE} (accept the licence, download mvtec_anomaly_detection.tar.xz or the "
        f"per-category archive), then unpack it so that <DIR>/mvtec_ad/{category}/train/good exists "
        f"and point SEMIAD_DATA_DIR (or the notebook's data_dir) at <DIR>:  mkdir -p <DIR>/mvtec_ad && "
        f"tar -xJf mvtec_anomaly_detection.tar.xz -C <DIR>/mvtec_ad.  "
        f"Or pass on_missing='demo' for the synthetic stand-in.")


def read_category(folder: str | os.PathLike, size: int, category: str | None = None,
                  source: str = "real") -> MVTecCategory:
    """Read one category folder in the official layout, resized to ``size`` x ``size``."""
    folder = Path(folder)
    check_layout(folder)
    train_paths = _pngs(folder / "train" / GOOD)
    with Image.open(train_paths[0]) as im:
        mode = "L" if im.mode in ("L", "I", "I;16", "1") else "RGB"
    train = np.stack([_read_image(p, size, mode) for p in train_paths])
    test, masks, defects, files = [], [], [], []
    test_dirs = sorted(d for d in (folder / "test").iterdir() if d.is_dir())
    for d in sorted(test_dirs, key=lambda d: (d.name != GOOD, d.name)):  # good first, then defects
        for p in _pngs(d):
            test.append(_read_image(p, size, mode))
            if d.name == GOOD:
                masks.append(np.zeros((size, size), np.float32))
            else:
                masks.append(_read_mask(folder / "ground_truth" / d.name / f"{p.stem}_mask.png", size))
            defects.append(d.name)
            files.append(f"test/{d.name}/{p.name}")
    defects_arr = np.array(defects)
    return MVTecCategory(category or folder.name, train, np.stack(test),
                         (defects_arr != GOOD).astype(np.int64), defects_arr, np.stack(masks),
                         tuple(f"train/good/{p.name}" for p in train_paths), tuple(files), source,
                         str(folder))


def load_mvtec(category: str = "bottle", data_dir: str | os.PathLike | None = None, size: int = 128,
               on_missing: str = "error") -> MVTecCategory:
    """Load ``category`` at ``size`` x ``size`` (see the module docstring for search and checks).

    ``on_missing="demo"`` returns the synthetic stand-in (:func:`make_demo_mvtec`) when the folder
    is not found; ``"error"`` raises :class:`DataNotFoundError` with the download instructions.
    """
    check_on_missing(on_missing)
    if int(size) != size or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    try:
        folder, verified = find_category(category, data_dir)
    except DataNotFoundError:
        if on_missing == "demo":
            return make_demo_mvtec(category, size=int(size))
        raise
    ds = read_category(folder, int(size), category)
    origin = f"{folder} ({'sha256-verified' if verified else 'structure-checked, no checksums'})"
    return MVTecCategory(**{**ds.__dict__, "origin": origin})


def write_layout(ds: MVTecCategory, root: str | os.PathLike) -> Path:
    """Write ``ds`` as PNGs in the official layout under ``root/<category>`` (tests, demo export)."""
    folder = Path(root) / ds.category

    def save(arr: np.ndarray, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        img = np.clip(np.rint(arr * 255), 0, 255).astype(np.uint8)
        Image.fromarray(img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img).save(path)

    for i, x in enumerate(ds.train):
        save(x, folder / "train" / GOOD / f"{i:03d}.png")
    for x, m, defect, name in zip(ds.test, ds.test_masks, ds.test_defects, ds.test_files, strict=True):
        stem = Path(name).stem
        save(x, folder / "test" / str(defect) / f"{stem}.png")
        if defect != GOOD:
            save(m, folder / "ground_truth" / str(defect) / f"{stem}_mask.png")
    return folder


# ------------------------------------------------------------------------------------ demo data
DEMO_DEFECTS: tuple[str, ...] = ("scratch", "blob", "stain")


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A woven-looking RGB texture: two gratings with a random phase, a colour tint and fine noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    f = 6.0
    g = (0.5 + 0.25 * np.sin(2 * np.pi * (f * xx + rng.uniform())) +
         0.25 * np.sin(2 * np.pi * (f * yy + rng.uniform())))
    tint = np.array([0.75, 0.62, 0.45], np.float32) + rng.normal(0, 0.02, 3).astype(np.float32)
    img = 0.15 + 0.7 * g[..., None] * tint + rng.normal(0, 0.02, (size, size, 3)).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def _defect_mask(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    lo, hi = size // 6, size - size // 6
    if kind == "scratch":
        x0, y0 = rng.integers(lo, hi, 2)
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.25, 0.45) * size
        x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
        draw.line([(int(x0), int(y0)), (int(x1), int(y1))], fill=255, width=max(1, size // 32))
    else:
        r = rng.uniform(0.06, 0.12) * size
        cx, cy = rng.integers(lo, hi, 2)
        draw.ellipse([cx - r, cy - r * rng.uniform(0.6, 1.0), cx + r, cy + r], fill=255)
    return (np.asarray(canvas, np.float32) > 0).astype(np.float32)


def make_demo_mvtec(category: str = "demo", size: int = 64, n_train: int = 40, n_test_good: int = 10,
                    n_per_defect: int = 6) -> MVTecCategory:
    """Synthetic stand-in for an MVTec category (``source="demo"``): textures with drawn defects.

    Defects: ``scratch`` (a dark line), ``blob`` (a bright ellipse) and ``stain`` (a colour shift
    inside an ellipse), each with its exact mask. Deterministic (seeded from the category name).
    """
    rng = np.random.default_rng(zlib.crc32(f"mvtec-demo-{category}-{size}".encode()))
    train = np.stack([_texture(rng, size) for _ in range(n_train)])
    test, masks, defects, files = [], [], [], []
    for i in range(n_test_good):
        test.append(_texture(rng, size))
        masks.append(np.zeros((size, size), np.float32))
        defects.append(GOOD)
        files.append(f"test/{GOOD}/{i:03d}.png")
    for kind in DEMO_DEFECTS:
        for i in range(n_per_defect):
            img = _texture(rng, size)
            m = _defect_mask(rng, size, kind)
            if kind == "scratch":
                img = img * (1 - 0.8 * m[..., None])
            elif kind == "blob":
                img = img + (0.95 - img) * m[..., None]
            else:
                img = img * (1 - m[..., None]) + m[..., None] * img[..., ::-1]
            test.append(np.clip(img, 0, 1).astype(np.float32))
            masks.append(m)
            defects.append(kind)
            files.append(f"test/{kind}/{i:03d}.png")
    defects_arr = np.array(defects)
    train_files = tuple(f"train/good/{i:03d}.png" for i in range(n_train))
    return MVTecCategory(category, train, np.stack(test), (defects_arr != GOOD).astype(np.int64),
                         defects_arr, np.stack(masks), train_files, tuple(files), "demo",
                         "synthetic textures with drawn defects (semiad.residual_rl.data)")


def sums_file_sha256(data_root: str | os.PathLike) -> str:
    """sha256 of ``<data_root>/mvtec_ad/SHA256SUMS`` (to pin it in ``data/registry.json``)."""
    return sha256_of(Path(data_root) / "mvtec_ad" / "SHA256SUMS")
