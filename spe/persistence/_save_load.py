"""Save and load any fitted spe model without pickle.

A model folder (format 2) holds:

- ``model.skops``: the estimator in skops' secure format (:mod:`skops.io`),
  which loads only the types on an explicit list (:data:`TRUSTED_TYPES`);
- ``network-0.keras``, ``network-1.keras`` ...: each Keras network inside it
  (a CNN, a pretrained backbone), in Keras' own format, loaded in safe mode;
- ``themes.skops`` (where ``spe fit`` found themes): the account's picture
  themes as plain data, for ``spe predict`` (:mod:`._themes_file`);
- ``spe.json``: format version, time, package versions, Keras backend, the
  model's class and name, a summary of the training data, scores and the
  caller's metadata.

Saving goes through :mod:`spe.persistence._staging`: the folder is written beside the
target and swapped in atomically, so at every moment the path holds the
whole old model or the whole new one, and only a folder spe wrote is ever
replaced. Loading never unpickles anything, reads nothing outside the
folder and checks sizes before opening anything. Folders of format 1
(``network.keras`` + ``spe.json``, a CNN pipeline) still load.
"""

import io
import json
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

from ..exceptions import ModelLoadError
from ._checks import UnsafeModelError, check_parts, in_this_process
from ._layout import META_FILE, NETWORK_FILE, SKOPS_FILE, THEMES_FILE, is_network_file
from ._layout import is_model_folder as _is_model_folder
from ._layout import versions as _versions
from ._meta import check_meta
from ._networks import load_network
from ._reading import (
    _MAX_META_BYTES,
    _MAX_NETWORK_BYTES,
    check_archive,
    check_folder,
    read_json,
    read_regular,
)
from ._skops_io import TRUSTED, dump_estimator, holds_raw_bytes, load_estimator, untrusted_types
from ._staging import staged
from ._themes_file import dump_themes
from .old import load_format1, renamed_format2

__all__ = ["FORMAT_VERSION", "TRUSTED_TYPES", "load_model", "save_model"]

#: Version of the folder layout; a newer one is refused on load.
FORMAT_VERSION = 3
#: Types a model file may name beyond skops' defaults (see :mod:`spe.persistence._skops_io`).
TRUSTED_TYPES = TRUSTED
_ONLY_OWN = "spe loads only models it saves itself"


def _model_name(model):
    """``LikesRegressor`` or ``Pipeline(ImageLoader, CNNLikesRegressor)``, with a chosen model's name."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return f"{type(model).__name__}({', '.join(type(step).__name__ for _, step in steps)})"
    name = type(model).__name__
    if isinstance(getattr(model, "selected_", None), str):
        name += f" ({model.selected_!r} chosen)"
    return name


def _data_summary(data):
    out = {"n_posts": int(len(data))}
    if "likes" in data:
        likes = data["likes"]
        out.update(
            likes_mean=float(likes.mean()),
            likes_std=float(likes.std()),
            likes_min=float(likes.min()),
            likes_max=float(likes.max()),
        )
    if "post_index" in data and len(data):
        out["post_index_range"] = [int(data["post_index"].min()), int(data["post_index"].max())]
    if "timestamp" in data and len(data):
        out["timestamp_range"] = [str(data["timestamp"].min()), str(data["timestamp"].max())]
    return out


def _check_fitted(model):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise TypeError(f"save_model saves a fitted scikit-learn estimator; got {type(model).__name__}.")
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ValueError(f"The {type(model).__name__} is not fitted; fit it before saving.") from None


def save_model(model, directory, *, data=None, scores=None, metadata=None, themes=None):
    """Save a fitted spe estimator to a folder, without pickle.

    Parameters
    ----------
    model : estimator
        Fitted: any entry of :func:`spe.evaluation.candidates`,
        :class:`~spe.LikesRegressor`, :class:`~spe.AutoLikesRegressor`, the
        trends, a scikit-learn pipeline of them, and the like.
    directory : str or path-like
        The model folder. An existing model folder is swapped for the new
        one in a single step once that is complete (a crash, a kill or a
        full disk leaves the old model whole); a folder that spe did not
        write is never overwritten. One writer at a time: a second
        process saving to the same folder meanwhile is refused.
    data : DataFrame, default=None
        The training posts, summarised in ``spe.json`` (number of posts,
        likes, first and last post).
    scores : dict, default=None
        Cross-validated scores to record.
    metadata : dict, default=None
        Anything else to record in ``spe.json`` (JSON-serialisable), such
        as how the model was chosen.
    themes : dict, default=None
        The account's picture themes as plain data
        (:meth:`spe.inspection.PictureThemes.to_data`), written to
        ``themes.skops`` for ``spe predict`` (:func:`load_themes` reads it).

    Returns
    -------
    pathlib.Path
        The model folder.

    Raises
    ------
    ValueError
        If ``model`` is not fitted.
    TypeError
        If ``model`` holds something spe would not load back (a type
        outside :data:`TRUSTED_TYPES`, such as a custom function), or
        ``themes`` anything but plain data.
    FileExistsError
        If ``directory`` exists and is not an spe model folder.
    BlockingIOError
        If another process is writing ``directory``.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from spe import EWMARegressor
    >>> from spe.persistence import load_model, save_model
    >>> posts = pd.DataFrame({"post_index": [1, 2, 3], "likes": [10, 20, 40]})
    >>> model = EWMARegressor(alpha=0.5).fit(posts, posts["likes"])
    >>> folder = save_model(model, tempfile.mkdtemp() + "/model", data=posts)
    >>> sorted(p.name for p in folder.iterdir())
    ['.spe-output', 'model.skops', 'spe.json']
    >>> load_model(folder).predict(pd.DataFrame({"post_index": [4]}))
    array([30.])
    """
    _check_fitted(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"save_model parameter 'metadata' must be a dict, got {type(metadata).__name__}.")
    data_bytes, networks = dump_estimator(model)
    themes_bytes = None if themes is None else dump_themes(themes)
    meta = {
        "format_version": FORMAT_VERSION,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "keras_backend": sys.modules["keras"].backend.backend() if "keras" in sys.modules else None,
        "model": {
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "name": _model_name(model),
        },
        "files": [SKOPS_FILE, *networks, *([THEMES_FILE] if themes_bytes is not None else [])],
    }
    if data is not None:
        meta["data"] = _data_summary(data)
    if scores is not None:
        meta["scores"] = scores
    meta["metadata"] = {} if metadata is None else metadata
    text = json.dumps(meta, indent=2, default=str)  # numpy numbers and paths as text
    with staged(
        directory,
        kind="model",
        is_own=_is_model_folder,
        what="model folder",
        advice="Save to a new folder, or move that one away first.",
    ) as staging:
        (staging / SKOPS_FILE).write_bytes(data_bytes)
        for name, network in networks.items():
            network.save(staging / name)
        if themes_bytes is not None:
            (staging / THEMES_FILE).write_bytes(themes_bytes)
        (staging / META_FILE).write_text(text, encoding="utf-8")
    return Path(directory).expanduser().resolve()


def load_model(directory):
    """Load a model folder written by :func:`save_model`.

    Parameters
    ----------
    directory : str or path-like

    Returns
    -------
    estimator
        The fitted estimator, ready to ``predict``. Its ``spe_metadata_``
        attribute holds the contents of ``spe.json``. A folder of format 1
        gives ``Pipeline([("load", ImageLoader(...)), ("cnn", CNNLikesRegressor(...))])``.

    Raises
    ------
    spe.exceptions.ModelLoadError
        If the folder is missing or corrupt, was written by a newer spe,
        names a type spe does not trust (:data:`TRUSTED_TYPES`), holds a
        network that Keras' safe mode refuses (Lambda layers, custom code)
        or that does not match its description, or is hostile: a symbolic
        link inside it or a loop of them, a file or archive entry larger
        than spe would read (a zip bomb), JSON nested too deeply.

    Warns
    -----
    UserWarning
        When the folder was missing because an older spe was killed while
        replacing it, and its previous version was put back; when a part
        asked for parallel jobs (``n_jobs``), set to None so that
        predicting starts no processes (the predictions are the same).

    Examples
    --------
    >>> model = load_model("my-model")  # doctest: +SKIP
    >>> model.predict(posts)  # doctest: +SKIP
    """
    folder = Path(directory).expanduser()
    names = check_folder(folder)
    meta_path = folder / META_FILE
    try:
        meta = read_json(meta_path, _MAX_META_BYTES)
    except (ValueError, OSError) as exc:
        raise ModelLoadError(f"{meta_path}: corrupt model description ({exc})") from None
    format_version = check_meta(meta, meta_path)["format_version"]
    if format_version > FORMAT_VERSION:
        saved_by = meta.get("versions", {}).get("spe") if isinstance(meta.get("versions"), dict) else None
        raise ModelLoadError(
            f"{folder} was saved by spe {saved_by or 'a newer version'} (format {format_version}); this spe "
            f"reads format {FORMAT_VERSION} and older. Upgrade spe to load it."
        )
    if format_version == 1:
        if NETWORK_FILE not in names:
            raise ModelLoadError(f"{folder} is not a whole spe model folder (format 1 needs {NETWORK_FILE})")
        model = load_format1(folder, meta, _load_network)
    elif format_version in (2, FORMAT_VERSION):
        if SKOPS_FILE not in names:
            raise ModelLoadError(f"{folder} is not a whole spe model folder (it lacks {SKOPS_FILE})")
        model = _load_skops(folder, names, renamed_format2 if format_version == 2 else None)
    else:
        raise ModelLoadError(
            f"{meta_path}: unknown model format {format_version} (this spe reads formats 1 to "
            f"{FORMAT_VERSION}); the folder is not one spe wrote, or was edited: save the model again"
        )
    try:
        check_parts(model)
    except UnsafeModelError as exc:
        raise ModelLoadError(f"{folder}: refused to load: it holds {exc}; {_ONLY_OWN}") from None
    changed = in_this_process(model)
    if changed:
        warnings.warn(
            f"{folder}: {', '.join(changed)} set to n_jobs=None: a loaded model predicts in this process "
            "(no worker processes, the threads spe chooses)",
            UserWarning,
            stacklevel=2,
        )
    model.spe_metadata_ = meta
    return model


def _load_skops(folder, names, rename=None):
    """The estimator in a skops file; ``rename(path, schema)`` reads an old format's names as today's."""
    path = folder / SKOPS_FILE
    schema = check_archive(path, kind="model")
    if holds_raw_bytes(schema):
        raise ModelLoadError(f"{path}: refused to load: it holds raw bytes, which spe's model files never do")
    source = path if rename is None else rename(path, schema)  # format 2: an archive in memory
    try:
        untrusted = untrusted_types(file=source)
    except (RecursionError, MemoryError) as exc:
        raise ModelLoadError(
            f"{path}: corrupt model file (nested too deeply: {type(exc).__name__})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever a tampered file makes skops raise
        raise ModelLoadError(f"{path}: corrupt model file ({type(exc).__name__}: {exc})") from None
    if untrusted:
        raise ModelLoadError(
            f"{path}: refused to load: it names {', '.join(untrusted)}, which spe does not trust "
            "(it loads only the estimators it saves itself); refit the model and save it with save_model"
        )

    def load_network(name):
        if not isinstance(name, str) or not is_network_file(name) or name not in names:
            raise ModelLoadError(f"{path} refers to a network {name!r} that is not in {folder}")
        return _load_network(folder / name)

    try:
        model, _ = load_estimator(source, load_network)
    except ModelLoadError:
        raise
    except UnsafeModelError as exc:
        raise ModelLoadError(f"{path}: refused to load: it holds {exc}; {_ONLY_OWN}") from None
    except Exception as exc:  # noqa: BLE001 - whatever a tampered file makes skops raise
        raise ModelLoadError(f"{path}: corrupt model file ({type(exc).__name__}: {exc})") from None
    if not hasattr(model, "predict"):
        raise ModelLoadError(f"{path}: holds a {type(model).__name__}, not a model")
    return model


def _load_network(path):
    """A ``.keras`` file, read once into memory, checked (:mod:`._networks`) and loaded in safe mode."""
    try:
        data = read_regular(path, _MAX_NETWORK_BYTES)
    except (ValueError, OSError) as exc:
        raise ModelLoadError(f"{path}: cannot load the network ({exc})") from None
    check_archive(path, kind="network", source=io.BytesIO(data))
    try:
        return load_network(path, data)
    except ModelLoadError:
        raise
    except Exception as exc:
        message = str(exc)
        if "safe_mode" in message or "Lambda" in message or "unsafe" in message.lower():
            raise ModelLoadError(
                f"{path}: refused to load a network with a Lambda layer or custom code "
                "(Keras safe mode). spe only loads networks it saved itself."
            ) from None
        raise ModelLoadError(f"{path}: cannot load the network ({type(exc).__name__}: {exc})") from None
