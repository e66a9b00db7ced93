"""Save and load a fitted likes pipeline without pickle.

A model folder holds the network in Keras' ``.keras`` format and
``spe.json``: the ImageLoader settings, the regressor's hyperparameters and
target scaling, package and library versions, a summary of the training
data and any cross-validated scores. Saving goes through
:mod:`spe._staging`: the folder is written beside the target and swapped in
atomically, so at every moment the path holds the whole old model or the
whole new one, and only a folder spe wrote is ever replaced. Loading uses
Keras' safe mode, never unpickles anything, reads nothing outside the
folder and checks sizes before opening anything.
"""

import errno
import json
import os
import stat
import zipfile
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from ._loader import ImageLoader
from ._staging import MARKER, recover, staged
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
# Limits on what a model folder may make spe read: far above any network spe
# builds, far below what would fill a machine's memory.
_MAX_META_BYTES = 1 << 20
_MAX_NETWORK_BYTES = 2 << 30  # uncompressed, all archive entries together
_MAX_ENTRIES = 1000
_MAX_RATIO = 100  # Keras stores its entries uncompressed; a zip bomb compresses ~1000:1


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
        The model folder. An existing model folder is swapped for the new
        one in a single step once that is complete (a crash, a kill or a
        full disk leaves the old model whole); a folder that spe did not
        write is never overwritten. One writer at a time: a second
        process saving to the same folder meanwhile is refused.
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
    BlockingIOError
        If another process is writing ``directory``.

    Examples
    --------
    >>> save_model(fitted_pipeline, "my-model")  # doctest: +SKIP
    """
    loader, regressor = _split(pipeline)
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
    with staged(
        directory,
        is_own=_is_model_folder,
        what="model folder",
        advice="Save to a new folder, or move that one away first.",
    ) as staging:
        regressor.model_.save(staging / NETWORK_FILE)
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return Path(directory).expanduser().resolve()


def _is_model_folder(folder):
    """A model folder written before the marker file: exactly the two files."""
    names = {p.name for p in folder.iterdir()}
    return {META_FILE, NETWORK_FILE} <= names <= {META_FILE, NETWORK_FILE, MARKER}


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
        If the folder is missing or corrupt, was written by a newer spe,
        holds a network that does not match its description or that Keras'
        safe mode refuses (Lambda layers, custom code), or is hostile: a
        symbolic link inside it or a loop of them, a file or archive entry
        larger than spe would read (a zip bomb), JSON nested too deeply.

    Warns
    -----
    UserWarning
        When the folder was missing because an older spe was killed while
        replacing it, and its previous version was put back.

    Examples
    --------
    >>> pipeline = load_model("my-model")  # doctest: +SKIP
    >>> pipeline.predict(["new.jpg"])  # doctest: +SKIP
    """
    from ._backend import keras
    from ._regressor import CNNLikesRegressor

    folder = Path(directory).expanduser()
    meta_path, network_path = folder / META_FILE, folder / NETWORK_FILE
    _check_folder(folder)
    try:
        meta = _read_json(meta_path, _MAX_META_BYTES)
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
    _check_archive(network_path)
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


def _check_folder(folder):
    """Refuse what would make spe read outside the folder; put back a model a kill left hidden."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ModelLoadError(f"{folder} is a loop of symbolic links, not a model folder") from None
        if exc.errno != errno.ENOENT or recover(folder) is None:
            raise ModelLoadError(f"No model folder at {folder}") from None
        info = os.stat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise ModelLoadError(f"No model folder at {folder} (it is a file)")
    names = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_symlink():
                raise ModelLoadError(
                    f"{entry.path} is a symbolic link: a model folder holds plain files only, and spe "
                    "reads nothing outside it"
                )
            names.add(entry.name)
    if not {META_FILE, NETWORK_FILE} <= names:
        raise ModelLoadError(f"{folder} is not an spe model folder (needs {META_FILE} and {NETWORK_FILE})")


def _read_json(path, limit):
    if path.stat().st_size > limit:
        raise ValueError(f"{path.stat().st_size} bytes, more than the {limit} spe reads")
    try:
        return json.loads(path.read_bytes())
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _check_archive(path):
    """Check a ``.keras`` archive's sizes from its central directory before Keras opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            total = sum(e.file_size for e in entries)
            if len(entries) > _MAX_ENTRIES or total > _MAX_NETWORK_BYTES:
                raise ModelLoadError(
                    f"{path}: {len(entries)} archive entries expanding to {total:,} bytes, more than "
                    f"spe reads ({_MAX_ENTRIES} entries, {_MAX_NETWORK_BYTES:,} bytes); not opening it"
                )
            for entry in entries:
                if entry.file_size > max(1 << 20, _MAX_RATIO * entry.compress_size):
                    raise ModelLoadError(
                        f"{path}: entry {entry.filename!r} expands {entry.compress_size:,} bytes to "
                        f"{entry.file_size:,} (a zip bomb?); Keras never compresses its files, "
                        "so spe does not open it"
                    )
            names = archive.namelist()
            config = b"{}"
            if "config.json" in names and archive.getinfo("config.json").file_size <= 64 * _MAX_META_BYTES:
                config = archive.read("config.json")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelLoadError(f"{path}: cannot load the network (not a .keras archive: {exc})") from None
    try:
        json.loads(config)
    except RecursionError:
        raise ModelLoadError(f"{path}: cannot load the network (config.json is nested too deeply)") from None
    except ValueError:
        pass  # Keras says what is wrong with it
