"""Model folders of format 1: a CNN pipeline as ``network.keras`` and ``spe.json``.

spe wrote this format before any estimator could be saved (formats 2 and 3, see
:mod:`spe.persistence`). Such folders still load exactly as before: the
network from ``network.keras`` in Keras' safe mode, everything else
rebuilt from the settings in ``spe.json``. :func:`save_format1` writes one,
for the tests that check this.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from ...exceptions import ModelLoadError
from ...features._loader import ImageLoader
from .._layout import META_FILE, NETWORK_FILE, is_model_folder, versions
from .._staging import staged

_HYPERPARAMETERS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "conv_filters",
    "dense_units",
    "dropout",
    "rotations",
    "tta",
    "scale_target",
    "validation_split",
    "early_stopping",
    "verbose",
)
_TUPLES = ("conv_filters", "rotations")


def save_format1(pipeline, directory, *, data=None, scores=None):
    """Save a fitted ``Pipeline(ImageLoader, CNNLikesRegressor)`` as format 1 (what spe did before)."""
    from ..._keras._backend import keras

    loader, regressor = pipeline.steps[0][1], pipeline.steps[-1][1]
    params = regressor.get_params()
    meta = {
        "format_version": 1,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "keras_backend": keras.backend.backend(),
        "loader": {**loader.get_params(), "size": list(loader.size), "cache_dir": None},
        "regressor": {k: list(params[k]) if k in _TUPLES else params[k] for k in _HYPERPARAMETERS},
        "input_shape": [int(v) for v in regressor.X_shape_[1:]],
        "target_scaling": {
            "mean": float(np.ravel(regressor.target_encoder_.mean_)[0]),
            "scale": float(np.ravel(regressor.target_encoder_.scale_)[0]),
        },
    }
    if data is not None:
        likes = data["likes"]
        meta["training_data"] = {
            "n_posts": int(len(data)),
            "likes_mean": float(likes.mean()),
            "likes_std": float(likes.std()),
            "likes_min": int(likes.min()),
            "likes_max": int(likes.max()),
        }
    if scores is not None:
        meta["scores"] = scores
    with staged(directory, kind="model", is_own=is_model_folder, what="model folder") as staging:
        regressor.model_.save(staging / NETWORK_FILE)
        text = json.dumps(meta, indent=2, default=str)
        (staging / META_FILE).write_text(text, encoding="utf-8")
    return Path(directory).expanduser().resolve()


def load_format1(folder, meta, load_network):
    """The pipeline of a format-1 folder whose ``spe.json`` is ``meta``.

    ``load_network(path)`` reads its network (in Keras' safe mode, its sizes checked).
    """
    from ...models._cnn import CNNLikesRegressor

    meta_path, network_path = folder / META_FILE, folder / NETWORK_FILE
    try:
        input_shape = tuple(int(v) for v in meta["input_shape"])
        loader_params = {**meta["loader"], "size": tuple(meta["loader"]["size"])}
        reg_params = {k: tuple(v) if k in _TUPLES else v for k, v in meta["regressor"].items()}
        mean, scale = float(meta["target_scaling"]["mean"]), float(meta["target_scaling"]["scale"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelLoadError(
            f"{meta_path}: corrupt model description ({type(exc).__name__}: {exc})"
        ) from None
    network = load_network(network_path)
    if tuple(network.input_shape[1:]) != input_shape or tuple(network.output_shape[1:]) != (1,):
        raise ModelLoadError(
            f"{network_path}: the network takes {tuple(network.input_shape[1:])} and returns "
            f"{tuple(network.output_shape[1:])}, but {META_FILE} describes input {input_shape} "
            "and one output; the folder's files do not belong together."
        )
    if loader_params.get("cache_dir") is not None:
        # spe never saved one; predicting would write the pictures there
        raise ModelLoadError(f"{meta_path}: refused to load: loader.cache_dir names a folder to write to")
    try:
        loader = ImageLoader(**loader_params)
        regressor = CNNLikesRegressor(**reg_params)
    except TypeError as exc:
        raise ModelLoadError(f"{meta_path}: unknown setting ({exc})") from None
    # Fit the encoders on a two-sample stand-in, then put the saved network and
    # target scaling in place: the same state as after the original fit.
    regressor.initialize(np.zeros((2, *input_shape), dtype=np.float32), np.array([0.0, 1.0]))
    regressor.model_ = network
    regressor.target_encoder_.mean_ = np.float64(mean)
    regressor.target_encoder_.scale_ = np.float64(scale)
    return Pipeline([("load", loader), ("cnn", regressor)])
