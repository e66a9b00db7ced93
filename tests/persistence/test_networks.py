"""Hostile networks in a model folder (issue 35, items 2 to 4): spe.persistence._networks."""

import json
import resource
import subprocess
import sys
import zipfile

import pytest

from spe.exceptions import ModelLoadError
from spe.persistence import load_model, save_model

NETWORK = "network-0.keras"


@pytest.fixture
def folder(fitted_cnn, tmp_path):
    """A saved CNN pipeline: its ``network-0.keras`` is what a sender edits."""
    return save_model(fitted_cnn, tmp_path / "model")


def _entries(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def _edit_config(path, edit):
    entries = _entries(path)
    config = json.loads(entries["config.json"])
    edit(config)
    entries["config.json"] = json.dumps(config)
    _write(path, entries)


def _layers(config, kind):
    return [layer for layer in config["config"]["layers"] if layer["class_name"] == kind]


def test_spes_own_networks_are_within_the_limits():
    """The limits leave room: EfficientNet-Lite0 at 224 px and the seed CNN at 256 px."""
    from spe._keras._backend import keras
    from spe._keras._efficientnet import efficientnet_lite0
    from spe.persistence._networks import LIMITS, network_cost

    costs = network_cost(keras.saving.serialize_keras_object(efficientnet_lite0()))
    weights = sum(cost[2] for cost in costs)
    work = sum(cost[4] for cost in costs)
    assert 4e6 < weights < 6e6  # EfficientNet-Lite0's 4.7 million
    assert 3e8 < work < 5e8  # and its 0.4 billion multiply-adds
    assert work * 20 < LIMITS["multiply_adds"] and weights * 20 < LIMITS["weights"]


def test_a_module_from_the_working_folder_is_never_imported(folder, posts, tmp_path):
    """Item 2, end to end: ``"module": "keras_hub.layers"`` made Keras import the working folder's."""

    def rename(config):
        _layers(config, "Dense")[0]["module"] = "keras_hub.layers"

    _edit_config(folder / NETWORK, rename)
    work = tmp_path / "work"
    (work / "keras_hub").mkdir(parents=True)
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').close()\n"
    (work / "keras_hub" / "__init__.py").write_text(code)
    (work / "keras_hub" / "layers.py").write_text(code)
    run = subprocess.run(
        [sys.executable, "-m", "spe.cli", "predict", str(folder), posts["image"].iloc[-1]],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not marker.exists(), "Keras imported the working folder's keras_hub"
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and NETWORK in lines[0], run.stderr[-2000:]
    assert "keras_hub.layers.Dense, which spe's networks never use" in lines[0]


@pytest.mark.parametrize(
    "entries, says",
    [
        ({"pad.bin": b"\0" * 1000}, "'pad.bin'"),  # Keras extracted it to a temporary folder
        ({"assets/x.txt": b"x"}, "'assets/x.txt'"),
    ],
)
def test_an_entry_keras_does_not_write_is_refused(folder, entries, says):
    """Item 3: a fourth archive entry made Keras extract every entry to disk (in the model folder)."""
    _write(folder / NETWORK, {**_entries(folder / NETWORK), **entries})
    with pytest.raises(ModelLoadError, match=f"not the three Keras writes \\({says}\\)"):
        load_model(folder)


def test_a_missing_weights_entry_is_refused(folder):
    entries = _entries(folder / NETWORK)
    del entries["model.weights.h5"]
    _write(folder / NETWORK, entries)
    with pytest.raises(ModelLoadError, match="'model.weights.h5'"):
        load_model(folder)


def test_a_huge_layer_is_refused_before_anything_is_allocated(folder):
    """Item 4: an 8 KB network whose Dense layer says 200,000 units reached 2.66 GB before dying.

    Here the last layer, of 8 inputs, says 100 million units: 3.2 GB of weights.
    """

    def widen(config):
        _layers(config, "Dense")[-1]["config"]["units"] = 100_000_000

    _edit_config(folder / NETWORK, widen)
    assert (folder / NETWORK).stat().st_size < 64 << 10
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(ModelLoadError, match=r"the most in layer 'dense_\d+', Dense\), more than the"):
        load_model(folder)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 1 << 20  # not a GiB more


def test_a_network_costing_hours_per_picture_is_refused_naming_the_layer(folder, tmp_path):
    """Item 4: weight-free pooling over huge windows cost about k**4 (95 s a picture at k=16)."""
    from spe._keras._backend import keras

    inputs = keras.Input((2048, 2048, 3))
    x = keras.layers.MaxPooling2D((64, 64), strides=1, padding="same", name="slow_pool")(inputs)
    outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs).save(tmp_path / "slow.keras")
    (folder / NETWORK).write_bytes((tmp_path / "slow.keras").read_bytes())
    with pytest.raises(ModelLoadError) as error:
        load_model(folder)
    message = str(error.value)
    assert "\n" not in message
    assert "layer 'slow_pool' (MaxPooling2D) makes 51,539,607,552 multiply-adds per picture" in message


def test_a_layer_kind_spe_never_uses_is_refused(folder, tmp_path):
    """UpSampling2D, the other half of the k**4 network: not a layer of spe's networks."""
    from spe._keras._backend import keras

    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.UpSampling2D(2)(inputs)))
    keras.Model(inputs, outputs).save(tmp_path / "up.keras")
    (folder / NETWORK).write_bytes((tmp_path / "up.keras").read_bytes())
    with pytest.raises(ModelLoadError, match="keras.layers.UpSampling2D, which spe's networks never use"):
        load_model(folder)


def test_weights_linking_to_other_files_are_refused(folder, tmp_path):
    """HDF5 can keep a dataset's bytes in another file: reading it would read outside the folder."""
    import io

    import h5py

    entries = _entries(folder / NETWORK)
    buffer = io.BytesIO(entries["model.weights.h5"])
    with h5py.File(buffer, "a") as weights:
        weights["elsewhere"] = h5py.ExternalLink("/etc/hostname", "/")
    entries["model.weights.h5"] = buffer.getvalue()
    _write(folder / NETWORK, entries)
    with pytest.raises(ModelLoadError, match="links elsewhere to another file \\(ExternalLink\\)"):
        load_model(folder)
