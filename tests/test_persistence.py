import json

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.exceptions import ModelLoadError
from spe._staging import MARKER
from spe.persistence import META_FILE, NETWORK_FILE, load_model, save_model


@pytest.fixture(scope="module")
def fitted(posts):
    pipe = Pipeline(
        [
            ("load", ImageLoader(size=(8, 8))),
            (
                "cnn",
                CNNLikesRegressor(epochs=2, batch_size=8, conv_filters=(4,), dense_units=8, random_state=0),
            ),
        ]
    )
    return pipe.fit(posts, posts["likes"])


def test_round_trip_gives_identical_predictions(fitted, posts, tmp_path):
    path = save_model(fitted, tmp_path / "model", data=posts, scores={"MAE": 12.5})
    assert sorted(p.name for p in path.iterdir()) == [MARKER, NETWORK_FILE, META_FILE]
    meta = json.loads((path / META_FILE).read_text())
    assert meta["loader"]["size"] == [8, 8]
    assert meta["regressor"]["conv_filters"] == [4]
    assert meta["training_data"]["n_posts"] == len(posts)
    assert meta["scores"] == {"MAE": 12.5}
    assert meta["versions"]["keras"]
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(posts["image"]), fitted.predict(posts["image"]), rtol=1e-6)
    assert loaded.named_steps["cnn"].get_params()["conv_filters"] == (4,)


def test_failed_save_keeps_the_old_model(fitted, posts, tmp_path, monkeypatch):
    path = save_model(fitted, tmp_path / "model")
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    def broken_write(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pathlib.Path.write_text", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save_model(fitted, path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folder left behind


def test_never_overwrites_a_folder_that_is_not_a_model(fitted, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "1.jpg").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="not an spe model folder"):
        save_model(fitted, tmp_path / "photos")
    assert (tmp_path / "photos" / "1.jpg").read_bytes() == b"precious"


def test_only_image_pipelines_and_fitted(tmp_path):
    with pytest.raises(TypeError, match="Pipeline of an ImageLoader"):
        save_model(CNNLikesRegressor(), tmp_path / "m")
    with pytest.raises(ValueError, match="not fitted"):
        save_model(Pipeline([("load", ImageLoader()), ("cnn", CNNLikesRegressor())]), tmp_path / "m")


def test_load_errors(fitted, tmp_path):
    with pytest.raises(ModelLoadError, match="No model folder"):
        load_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not an spe model folder"):
        load_model(tmp_path / "empty")
    path = save_model(fitted, tmp_path / "model")
    meta = json.loads((path / META_FILE).read_text())

    (path / META_FILE).write_text("{broken")
    with pytest.raises(ModelLoadError, match="corrupt model description"):
        load_model(path)

    (path / META_FILE).write_text(json.dumps({**meta, "format_version": 99, "versions": {"spe": "9.0"}}))
    with pytest.raises(ModelLoadError, match="saved by spe 9.0"):
        load_model(path)

    (path / META_FILE).write_text(json.dumps({**meta, "input_shape": [16, 16, 3]}))
    with pytest.raises(ModelLoadError, match="do not belong together"):
        load_model(path)

    (path / META_FILE).write_text(json.dumps(meta))
    (path / NETWORK_FILE).write_bytes(b"not a zip file")
    with pytest.raises(ModelLoadError, match="cannot load the network"):
        load_model(path)


def test_lambda_layers_are_refused(fitted, tmp_path):
    from spe._backend import keras

    path = save_model(fitted, tmp_path / "model")
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs)))
    keras.Model(inputs, outputs).save(path / NETWORK_FILE)
    with pytest.raises(ModelLoadError, match="Lambda layer or custom code"):
        load_model(path)
