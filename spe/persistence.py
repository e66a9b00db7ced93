"""Save and load a fitted likes pipeline without pickle.

A model folder holds the network in Keras' ``.keras`` format and
``spe.json``: the ImageLoader settings, the regressor's hyperparameters and
target scaling, package and library versions, a summary of the training
data and any cross-validated scores. Saving writes a temporary folder and
renames it into place, so a crash never leaves a half-written model or
damages an existing one. Loading uses Keras' safe mode and never
unpickles anything.
"""

import json
import os
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from ._loader import ImageLoader
from .exceptions import ModelLoadError

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

#: Version of the folder layout; a newer one is refused on load.
FORMAT_VERSION = 1
NETWORK_FILE = "network.keras"
META_FILE = "spe.json"
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


def _versions():
    out = {}
    for name in ("spe", "keras", "tensorflow", "scikeras", "scikit-learn", "numpy", "pillow"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _split(pipeline):
    from ._regressor import CNNLikesRegressor

    if (
        not isinstance(pipeline, Pipeline)
        or len(pipeline.steps) != 2
        or not isinstance(pipeline.steps[0][1], ImageLoader)
        or not isinstance(pipeline.steps[-1][1], CNNLikesRegressor)
    ):
        raise TypeError(
            "save_model saves a Pipeline of an ImageLoader and a CNNLikesRegressor; "
            f"got {type(pipeline).__name__}. Use joblib for other estimators."
        )
    loader, regressor = pipeline.steps[0][1], pipeline.steps[-1][1]
    if not hasattr(regressor, "model_"):
        raise ValueError("The pipeline is not fitted; fit it before saving.")
    return loader, regressor


def save_model(pipeline, directory, *, data=None, scores=None):
    """Save a fitted ``Pipeline(ImageLoader, CNNLikesRegressor)`` to a folder.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted, with an :class:`~spe.ImageLoader` step and a
        :class:`~spe.CNNLikesRegressor` last.
    directory : str or path-like
        The model folder. An existing model folder is replaced only once
        the new one is complete; a folder that is not a model folder is
        never overwritten.
    data : DataFrame, default=None
        The training posts, summarised in ``spe.json``.
    scores : dict, default=None
        Cross-validated scores to record.

    Returns
    -------
    pathlib.Path
        The model folder.

    Raises
    ------
    FileExistsError
        If ``directory`` exists and is not an spe model folder.

    Examples
    --------
    >>> save_model(fitted_pipeline, "my-model")  # doctest: +SKIP
    """
    loader, regressor = _split(pipeline)
    target = Path(directory).expanduser().resolve()
    if target.exists() and not (target / META_FILE).is_file() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not an spe model folder; not overwriting it")
    target.parent.mkdir(parents=True, exist_ok=True)
    params = regressor.get_params()
    meta = {
        "format_version": FORMAT_VERSION,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "keras_backend": __import__("keras").backend.backend(),
        # The cache is a training-time folder of this machine: a saved model
        # predicts new pictures without writing there.
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
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.saving-"))
    try:
        regressor.model_.save(staging / NETWORK_FILE)
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        _replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _replace_dir(new, target):
    """Move folder ``new`` to ``target``, keeping the old one until it has."""
    if not target.exists():
        os.rename(new, target)
        return
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def load_model(directory):
    """Load a model folder written by :func:`save_model`.

    Parameters
    ----------
    directory : str or path-like

    Returns
    -------
    Pipeline
        ``Pipeline([("load", ImageLoader(...)), ("cnn", CNNLikesRegressor(...))])``,
        fitted, ready to ``predict`` on image paths. Its ``spe_metadata_``
        attribute holds the contents of ``spe.json``.

    Raises
    ------
    spe.exceptions.ModelLoadError
        If the folder is missing or corrupt, was written by a newer spe, or
        holds a network that does not match its description or that Keras'
        safe mode refuses (Lambda layers, custom code).

    Examples
    --------
    >>> pipeline = load_model("my-model")  # doctest: +SKIP
    >>> pipeline.predict(["new.jpg"])  # doctest: +SKIP
    """
    from ._backend import keras
    from ._regressor import CNNLikesRegressor

    folder = Path(directory).expanduser()
    meta_path, network_path = folder / META_FILE, folder / NETWORK_FILE
    if not folder.is_dir():
        raise ModelLoadError(f"No model folder at {folder}")
    if not meta_path.is_file() or not network_path.is_file():
        raise ModelLoadError(f"{folder} is not an spe model folder (needs {META_FILE} and {NETWORK_FILE})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        format_version = int(meta["format_version"])
        input_shape = tuple(int(v) for v in meta["input_shape"])
        loader_params = {**meta["loader"], "size": tuple(meta["loader"]["size"])}
        reg_params = {k: tuple(v) if k in _TUPLES else v for k, v in meta["regressor"].items()}
        mean, scale = float(meta["target_scaling"]["mean"]), float(meta["target_scaling"]["scale"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(
            f"{meta_path}: corrupt model description ({type(exc).__name__}: {exc})"
        ) from None
    if format_version > FORMAT_VERSION:
        saved_by = meta.get("versions", {}).get("spe", "a newer version")
        raise ModelLoadError(
            f"{folder} was saved by spe {saved_by} (format {format_version}); this spe reads "
            f"format {FORMAT_VERSION} and older. Upgrade spe to load it."
        )
    try:
        network = keras.saving.load_model(network_path, compile=True, safe_mode=True)
    except Exception as exc:
        message = str(exc)
        if "safe_mode" in message or "Lambda" in message or "unsafe" in message.lower():
            raise ModelLoadError(
                f"{network_path}: refused to load a network with a Lambda layer or custom code "
                "(Keras safe mode). spe only loads networks it saved itself."
            ) from None
        raise ModelLoadError(
            f"{network_path}: cannot load the network ({type(exc).__name__}: {exc})"
        ) from None
    if tuple(network.input_shape[1:]) != input_shape or tuple(network.output_shape[1:]) != (1,):
        raise ModelLoadError(
            f"{network_path}: the network takes {tuple(network.input_shape[1:])} and returns "
            f"{tuple(network.output_shape[1:])}, but {META_FILE} describes input {input_shape} "
            "and one output; the folder's files do not belong together."
        )
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
    pipeline = Pipeline([("load", loader), ("cnn", regressor)])
    pipeline.spe_metadata_ = meta
    return pipeline
