"""themes.skops: the account's picture themes beside its model, plain data only, read with care."""

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import Ridge

from spe import EWMARegressor
from spe.exceptions import ModelLoadError
from spe.persistence import load_model, load_themes, save_model
from spe.persistence._layout import THEMES_FILE, is_model_folder

POSTS = pd.DataFrame({"post_index": [1, 2, 3, 4], "likes": [10.0, 20, 40, 30]})
DATA = {"format": 1, "positions": np.zeros((4, 2)), "names": ["a.jpg", None], "nested": {"k": [1, 2.5]}}


@pytest.fixture
def model():
    return EWMARegressor(alpha=0.5).fit(POSTS, POSTS["likes"])


def test_themes_are_saved_beside_the_model_and_read_back(model, tmp_path):
    folder = save_model(model, tmp_path / "m", data=POSTS, themes=DATA)
    assert (folder / THEMES_FILE).is_file() and is_model_folder(folder)
    back = load_themes(folder)
    assert back["names"] == DATA["names"] and back["nested"] == DATA["nested"]
    np.testing.assert_array_equal(back["positions"], DATA["positions"])
    assert load_model(folder).predict(pd.DataFrame({"post_index": [5]}))[0] > 0  # the model loads as before
    assert THEMES_FILE in load_model(folder).spe_metadata_["files"]


def test_a_folder_without_themes_gives_none(model, tmp_path):
    assert load_themes(save_model(model, tmp_path / "m")) is None


def test_only_plain_data_is_saved(model, tmp_path):
    with pytest.raises(TypeError, match="'themes' must be plain data"):
        save_model(model, tmp_path / "m", themes={"model": Ridge()})
    assert not (tmp_path / "m").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (skops.io.dumps({"format": 1, "model": Ridge()}), "plain data"),  # a type skops trusts, still refused
        (skops.io.dumps([1, 2, 3]), "plain data"),
        (b"not a zip at all", "not a skops archive"),
    ],
)
def test_a_themes_file_holding_anything_else_is_refused_in_one_line(model, tmp_path, content, said):
    folder = save_model(model, tmp_path / "m", themes=DATA)
    (folder / THEMES_FILE).write_bytes(content)
    with pytest.raises(ModelLoadError, match=said) as error:
        load_themes(folder)
    assert str(folder / THEMES_FILE) in str(error.value) and "\n" not in str(error.value)


def test_a_themes_file_larger_than_spe_reads_is_refused_before_reading(model, tmp_path, monkeypatch):
    folder = save_model(model, tmp_path / "m", themes=DATA)
    monkeypatch.setattr("spe.persistence._themes_file._MAX_THEMES_BYTES", 100)
    with pytest.raises(ModelLoadError, match="more than the 100 spe reads"):
        load_themes(folder)


def test_a_link_named_themes_is_not_followed(model, tmp_path):
    folder = save_model(model, tmp_path / "m")
    (tmp_path / "secret").write_text("private")
    (folder / THEMES_FILE).symlink_to(tmp_path / "secret")
    with pytest.raises(ModelLoadError, match="symbolic link"):
        load_themes(folder)
