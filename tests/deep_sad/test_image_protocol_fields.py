"""benchmarks/image_protocol_fields.py: the image-acting protocol fields, switched one at a time."""

from __future__ import annotations

import sys

import pandas as pd

from semiad.core.detectors.protocol import AUTHORS_CODE, PAPER_TEXT
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import image_protocol_fields as fields  # noqa: E402


def test_each_row_switches_one_field_that_acts_on_images():
    rows = fields.image_protocols()
    assert rows[0] == PAPER_TEXT and rows[-1] == AUTHORS_CODE
    for row in rows[1:-1]:
        (name,) = PAPER_TEXT.differences(row)  # exactly one field differs from the paper text
        assert name not in fields.NOT_ON_IMAGES
        assert getattr(row, name) == getattr(AUTHORS_CODE, name)
    switched = {next(iter(PAPER_TEXT.differences(r))) for r in rows[1:-1]}
    assert switched | set(fields.NOT_ON_IMAGES) >= set(PAPER_TEXT.differences(AUTHORS_CODE))
    assert "init" in switched and "ae_weight_decay" in switched
    assert [r.name for r in fields.image_protocols(("init",))] == [
        "paper_text", "paper_text | init=pytorch_default", "authors_code"]


def test_the_table_gives_each_normal_class_and_their_mean():
    rows = [{"training_protocol": p, "dataset": "fashion_mnist", "x": 0.0, "normal_class": c, "value": v}
            for p, c, v in (("paper_text", 0, 0.90), ("paper_text", 3, 0.92),
                            ("authors_code", 0, 0.86), ("authors_code", 3, 0.88))]
    out = fields.table(pd.DataFrame(rows))
    assert list(out.index) == ["paper_text", "authors_code"]
    assert out.loc["paper_text", ("fashion_mnist", 0.0, "mean")] == 91.0
    assert out.loc["authors_code", ("fashion_mnist", 0.0, 3)] == 88.0
