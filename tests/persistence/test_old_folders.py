"""Model folders saved by spe 0.1.0 (formats 1 and 2) load and predict the same.

The folders under ``tests/fixtures/`` were written by
``tests/fixtures/make_fixtures.py`` before the layout of issue 23 moved the
classes they name; ``predictions.json`` holds what each model predicted then.
"""

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spe.exceptions import ModelLoadError
from spe.persistence import FORMAT_VERSION, META_FILE, SKOPS_FILE, TRUSTED_TYPES, load_model, save_model
from spe.persistence.old import RENAMED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
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


def test_an_old_own_model_chose_one_candidate_as_average_false_does():
    from sklearn.base import clone

    model = load_model(FIXTURES / "format2-auto")
    assert model.average is False and model.averaged_ == [model.selected_]
    assert clone(model).get_params()["average"] is False and "average=False" in repr(model)


def _schema_names(path):
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    names, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__module__"), str) and node["__module__"].startswith("spe"):
                names.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


@pytest.mark.parametrize("name", ["format2-likes", "format2-cnn"])
def test_saving_again_records_public_names(name, tmp_path):
    model = load_model(FIXTURES / name)
    folder = save_model(model, tmp_path / "again")
    names = _schema_names(folder / SKOPS_FILE)
    assert names and names <= set(TRUSTED_TYPES)
    assert {n.rsplit(".", 1)[0] for n in names} <= {
        "spe.features",
        "spe.model_selection",
        "spe.models",
        "spe.persistence",
    }
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["format_version"] == FORMAT_VERSION == 3
    assert meta["model"]["class"] in ("spe.models.LikesRegressor", "sklearn.pipeline.Pipeline")
    np.testing.assert_allclose(load_model(folder).predict(_posts()), EXPECTED[name], rtol=1e-6)


def test_every_old_name_maps_to_a_trusted_public_name():
    assert set(RENAMED.values()) <= set(TRUSTED_TYPES)
    assert not any(name.startswith("spe.") and "._" in name.split(".", 2)[1] for name in RENAMED.values())


@pytest.mark.parametrize(
    "untrusted", ["spe._regressor.ImageBatches", "builtins.eval", "spe.models.as_images2"]
)
def test_an_old_folder_naming_a_type_off_the_list_is_refused_in_one_line(untrusted, tmp_path):
    import shutil

    folder = shutil.copytree(FIXTURES / "format2-ewma", tmp_path / "model")
    path = folder / SKOPS_FILE
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    schema = json.loads(entries["schema.json"])
    module, cls = untrusted.rsplit(".", 1)
    schema.update(__module__=module, __class__=cls)  # the root: was spe._trend.EWMARegressor
    entries["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    with pytest.raises(ModelLoadError) as info:
        load_model(folder)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: refused to load: it names {untrusted}")
    assert "save it with save_model" in message


@pytest.mark.parametrize("version", [0, -1])
def test_an_unknown_format_number_is_refused_in_one_line(version, tmp_path):
    import shutil

    folder = shutil.copytree(FIXTURES / "format2-ewma", tmp_path / "model")
    meta = json.loads((folder / META_FILE).read_text())
    (folder / META_FILE).write_text(json.dumps({**meta, "format_version": version}))
    with pytest.raises(ModelLoadError) as info:
        load_model(folder)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{folder / META_FILE}: unknown model format {version}")
    assert "save the model again" in message
