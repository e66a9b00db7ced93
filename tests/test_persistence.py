import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

import spe
from spe import CNNLikesRegressor, ImageLoader, _staging
from spe._staging import MARKER
from spe.exceptions import ModelLoadError
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


# -- old folders, leftovers, kills -------------------------------------------------


def test_a_model_folder_from_before_the_marker_loads_and_is_replaced(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    (path / MARKER).unlink()  # as spe wrote it before the marker file (format 1)
    load_model(path)
    save_model(fitted, path)
    assert (path / MARKER).is_file()
    (path / MARKER).unlink()
    (path / "notes.txt").write_text("mine")  # no longer only spe's files
    with pytest.raises(FileExistsError, match="notes.txt"):
        save_model(fitted, path)
    assert (path / "notes.txt").read_text() == "mine"


def test_a_model_left_mid_swap_by_an_older_spe_is_put_back(fitted, posts, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    (path / MARKER).unlink()
    path.rename(tmp_path / ".model.old-1a2b3c4d")  # killed between its two renames
    with pytest.warns(UserWarning, match=r"model was missing.*\.model\.old-1a2b3c4d"):
        loaded = load_model(tmp_path / "model")
    images = posts["image"][:3]
    np.testing.assert_allclose(loaded.predict(images), fitted.predict(images), rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_the_next_save_removes_what_a_killed_save_left(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    for name in (".model.saving-abcd1234", ".model.spe-staging-x_y1z2w3", ".model.old-0011aabb"):
        (tmp_path / name).mkdir()
        (tmp_path / name / NETWORK_FILE).write_bytes(b"half")
    (tmp_path / ".model.spe-lock").write_text("99999")  # a dead process's: flock died with it
    save_model(fitted, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.skipif(
    not hasattr(os, "fork") or _staging._renameat2 is None,
    reason="the kill test forks, and the atomic swap needs renameat2 (Linux)",
)
def test_no_kill_breaks_a_save(fitted, posts, tmp_path):
    """SIGKILL at random moments of 200 new-model and 200 replacing saves: the old or the new model."""
    other = clone(fitted).set_params(cnn__random_state=1).fit(posts, posts["likes"])
    save_model(fitted, tmp_path / "A", scores={"model": "A"})
    save_model(other, tmp_path / "B", scores={"model": "B"})
    (tmp_path / "work").mkdir()
    killer = Path(__file__).with_name("save_killer.py")
    env = {**os.environ, "PYTHONPATH": str(Path(spe.__file__).parents[1])}
    args = [str(tmp_path / name) for name in ("A", "B", "work")]
    run = subprocess.run(
        [sys.executable, str(killer), *args, "200", "0"], capture_output=True, text=True, env=env, timeout=900
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(result)  # the counts, for the record
    assert result["errors"] == []
    for case in ("new", "replace"):
        counts = result[case]
        assert counts["trials"] == 200
        # Most kills landed inside a save, and on both sides of its publishing step.
        assert counts["trials"] - counts["finished_before_kill"] >= counts["trials"] // 2, counts
        assert counts["old"] > 0 and counts["new"] > 0, counts


@pytest.mark.parametrize("case", ["new", "replace"])
def test_every_step_of_a_save_leaves_the_whole_old_or_new_model(fitted, tmp_path, case):
    """Before each file operation of a save (Python's audit events), the folder is one whole model."""
    if _staging._renameat2 is None:
        pytest.skip("the atomic swap needs renameat2 (Linux)")
    path = tmp_path / "model"
    if case == "replace":
        save_model(fitted, path, scores={"model": "old"})
    seen, active = [], [True]

    def holds():
        if not path.exists():
            return None
        meta = json.loads((path / META_FILE).read_text())
        with zipfile.ZipFile(path / NETWORK_FILE) as archive:
            assert archive.testzip() is None
        return meta["scores"]["model"]

    def hook(event, args):
        watched = ("open", "os.rename", "os.replace", "shutil.rmtree", "ctypes.call_function")
        if active[0] and event in watched:
            active[0] = False
            try:
                seen.append(holds())
            finally:
                active[0] = True

    sys.addaudithook(hook)  # cannot be removed: switched off below
    try:
        save_model(fitted, path, scores={"model": "new"})
    finally:
        active[0] = False
    assert len(seen) > 10
    old = "old" if case == "replace" else None
    assert set(seen) <= {old, "new"} and seen[0] == old and seen[-1] == "new"
    assert seen == sorted(seen, key=lambda s: s == "new")  # once new, never old again


# -- hostile model folders ------------------------------------------------------------


def _zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_a_zip_bomb_is_refused_from_the_central_directory(fitted, tmp_path):
    import tracemalloc

    path = save_model(fitted, tmp_path / "model")
    # 64 MiB of zeros deflate to 64 KiB: Keras would inflate it into memory.
    bomb = {"config.json": "{}", "model.weights.h5": bytes(64 << 20)}
    _zip(path / NETWORK_FILE, bomb, zipfile.ZIP_DEFLATED)
    assert (path / NETWORK_FILE).stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(ModelLoadError, match=r"model.weights.h5.*expands .* \(a zip bomb\?\)"):
        load_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20  # refused before anything was inflated


def test_an_archive_larger_than_spe_reads_is_refused(fitted, tmp_path, monkeypatch):
    path = save_model(fitted, tmp_path / "model")
    monkeypatch.setattr("spe.persistence._MAX_NETWORK_BYTES", (path / NETWORK_FILE).stat().st_size // 2)
    with pytest.raises(ModelLoadError, match="more than spe reads"):
        load_model(path)


def _nested(depth):
    return "[" * depth + "]" * depth


def test_json_nested_10000_levels_is_refused(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    network = (path / NETWORK_FILE).read_bytes()
    (path / META_FILE).write_text(_nested(10_000))
    with pytest.raises(ModelLoadError, match="spe.json: corrupt model description.*nested too deeply"):
        load_model(path)
    path = save_model(fitted, tmp_path / "model2")
    (path / NETWORK_FILE).write_bytes(network)
    with zipfile.ZipFile(path / NETWORK_FILE) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    _zip(path / NETWORK_FILE, {**entries, "config.json": _nested(10_000)})
    with pytest.raises(ModelLoadError, match="config.json is nested too deeply"):
        load_model(path)


@pytest.mark.parametrize("name", [NETWORK_FILE, META_FILE])
def test_a_symlink_inside_the_folder_is_not_followed(fitted, tmp_path, name):
    path = save_model(fitted, tmp_path / "model")
    outside = save_model(fitted, tmp_path / "elsewhere")  # valid files: only the link is wrong
    (path / name).unlink()
    (path / name).symlink_to(outside / name)
    with pytest.raises(ModelLoadError, match=rf"{name} is a symbolic link.*reads nothing outside it"):
        load_model(path)


def test_a_model_folder_that_is_a_symlink_loop_is_refused(fitted, tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(ModelLoadError, match="loop of symbolic links"):
        load_model(tmp_path / "a")
    with pytest.raises(FileExistsError, match="cannot be resolved"):
        save_model(fitted, tmp_path / "a")
