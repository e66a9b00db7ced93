"""Model folders saved by spe 0.1.0 (formats 1 and 2) load and predict the same.

The folders under ``tests/fixtures/`` were written by
``tests/fixtures/make_fixtures.py`` before the layout of issue 23 moved the
classes they name; ``predictions.json`` holds what each model predicted then.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spe.persistence import load_model

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "predictions.json").read_text(encoding="utf-8"))


def _posts():
    folder = FIXTURES / "account"
    posts = pd.read_csv(folder / "posts.csv")
    posts["image"] = [str(folder / name) for name in posts["image"]]
    posts["timestamp"] = pd.to_datetime(posts["timestamp"], utc=True)
    return posts.drop(columns="likes")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_old_folder_loads_and_predicts_the_same(name, tmp_path):
    import shutil

    folder = shutil.copytree(FIXTURES / name, tmp_path / name)  # loading may not touch the fixture
    model = load_model(folder)
    np.testing.assert_allclose(model.predict(_posts()), EXPECTED[name], rtol=1e-6)
    assert model.spe_metadata_["format_version"] == (1 if name.startswith("format1") else 2)
