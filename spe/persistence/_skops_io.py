"""Estimators to and from skops' secure format, with Keras networks and DataFrames set aside.

skops (:mod:`skops.io`) stores scikit-learn objects without pickle and, when
loading, builds only the types it is told to trust. Two kinds of value in
spe's fitted estimators do not fit it: Keras networks (each saved as its
own ``.keras`` file and loaded in Keras' safe mode) and pandas objects
(whose internals skops could only reach through pickle's protocol). For
the dump, each is swapped for a small placeholder of a type spe trusts, in a
copy of the estimator's objects (arrays are shared, not copied): the
caller's estimator is never changed, even for a moment, nor when saving
fails. Loading swaps the placeholders back.
"""

import copy
import io
import json
import sys
import zipfile

import numpy as np

from ._checks import is_picture_cache, saved_transformer

__all__ = [
    "TRUSTED",
    "KerasFile",
    "Frame",
    "dump_estimator",
    "load_estimator",
    "holds_raw_bytes",
    "untrusted_types",
]

#: Every type a model file may name beyond skops' own defaults (scikit-learn
#: estimators, numpy arrays and dtypes, builtin containers and scalars).
#: Each is a plain data holder or an estimator whose loading runs no code
#: from the file: skops builds them with ``cls.__new__`` and sets their
#: attributes; their ``__setstate__`` (where they have one) only copies
#: values. Functions or types outside this list (``builtins.eval``,
#: ``os.system``, ``numpy.load`` ...) are refused.
TRUSTED = (
    # spe's estimators and their fitted parts, by their public names (each
    # class's __module__ is its public package, so skops records these)
    "spe.features.ImageFeatures",
    "spe.features.ImageLoader",
    "spe.features.PostFeatures",
    "spe.features.PretrainedEmbedder",
    "spe.model_selection._PictureCache",
    "spe.model_selection._Table",
    "spe.models.AutoLikesRegressor",
    "spe.models.AutoTrendRegressor",
    "spe.models.AveragedLikesRegressor",
    "spe.models.CNNLikesRegressor",
    "spe.models.ConformalLikesRegressor",
    "spe.models.EWMARegressor",
    "spe.models.LikesRegressor",
    "spe.models.RecentAverageRegressor",
    "spe.models._TargetScaler",
    # the placeholders of this module
    "spe.persistence.Frame",
    "spe.persistence.KerasFile",
    # CNNLikesRegressor's input reshaping, a pure function (scikeras' feature_encoder)
    "spe.models.as_images",
    # numpy dtypes (X_dtype_, y_dtype_), rebuilt from an empty array loaded without pickle
    "numpy.dtype",
    # conformal prediction: residual quantiles and flags (crepes)
    "crepes.base.ConformalRegressor",
    # a column selector by name pattern and dtype (no code, only a regex and dtype names)
    "sklearn.compose._column_transformer.make_column_selector",
)


class KerasFile:
    """Placeholder for a Keras network saved beside the skops file."""

    def __init__(self, name):
        self.name = name


class Frame:
    """Placeholder for a pandas object (DataFrame, Series, Index, Timestamp): plain arrays and labels."""


def _plain(values):
    """A Series' or Index's values as an array skops stores, and the name of their dtype."""
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):  # stored as UTC wall times
        values = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)
    return np.asarray(values.to_numpy()), str(dtype)


def _pandas_values(array, dtype_name):
    import pandas as pd

    dtype = pd.api.types.pandas_dtype(dtype_name)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(array).tz_localize("UTC").tz_convert(dtype.tz).as_unit(dtype.unit)
    return pd.Index(array, dtype=dtype)


def _frame_parts(obj):
    import pandas as pd

    frame = Frame()
    frame.kind = type(obj).__name__
    if isinstance(obj, (pd.Timestamp, pd.Timedelta, type(pd.NaT))):
        obj = pd.Index([obj])
    index = obj if isinstance(obj, pd.Index) else obj.index
    if isinstance(index, pd.RangeIndex):
        frame.index = ("range", index.start, index.stop, index.step)
    else:
        frame.index = ("values", *_plain(index))
    frame.index_name = index.name
    if isinstance(obj, pd.DataFrame):
        frame.columns = list(obj.columns)
        frame.values = [_plain(obj.iloc[:, i]) for i in range(obj.shape[1])]
    elif isinstance(obj, pd.Series):
        frame.name, frame.values = obj.name, [_plain(obj)]
    return frame


def _frame_object(frame):
    import pandas as pd

    if frame.index[0] == "range":
        index = pd.RangeIndex(*frame.index[1:], name=frame.index_name)
    else:
        index = _pandas_values(*frame.index[1:]).rename(frame.index_name)
    if frame.kind == "DataFrame":
        columns = [pd.Series(_pandas_values(*part), index=index) for part in frame.values]
        out = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=index)
        out.columns = pd.Index(frame.columns)
        return out
    if frame.kind == "Series":
        return pd.Series(_pandas_values(*frame.values[0]), index=index, name=frame.name)
    return index if frame.kind.endswith("Index") else index[0]


def _same(a, b):
    """Whether pandas object ``b`` is ``a``: type, values, dtypes, labels and names."""
    import pandas as pd

    if type(a) is not type(b):
        return False
    if not isinstance(a, (pd.DataFrame, pd.Series, pd.Index)):
        return a is b if a is pd.NaT else bool(a == b)
    if isinstance(a, pd.Index):
        return a.equals(b) and a.dtype == b.dtype and a.name == b.name
    dtypes = a.dtypes.equals(b.dtypes) if isinstance(a, pd.DataFrame) else a.dtype == b.dtype
    labels = a.columns.equals(b.columns) if isinstance(a, pd.DataFrame) else a.name == b.name
    return a.equals(b) and dtypes and labels and _same(a.index, b.index)


def _pandas_placeholder(obj):
    """A :class:`Frame` for ``obj``, checked to give ``obj`` back."""
    frame = _frame_parts(obj)
    try:
        same = _same(obj, _frame_object(frame))
    except (TypeError, ValueError):
        same = False
    if not same:
        raise TypeError(f"save_model cannot store this pandas {type(obj).__name__} faithfully: {obj!r:.200}")
    return frame


def _is_pandas(value):
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(
        value, (pd.DataFrame, pd.Series, pd.Index, pd.Timestamp, pd.Timedelta, type(pd.NaT))
    )


def _keras_model_type():
    keras = sys.modules.get("keras")
    return None if keras is None else keras.Model


def _descends(value):
    """Whether to look inside ``value``'s attributes (estimators and other plain objects)."""
    if isinstance(value, (type, np.ndarray, np.generic)) or not hasattr(value, "__dict__"):
        return False
    module = type(value).__module__.split(".")[0]
    # Keras' own objects (callbacks holding a network, optimizers) are not walked:
    # skops never gets them from spe (see dump_estimator), and the model swap must
    # not reach into Keras' internals.
    return module not in ("keras", "tensorflow", "jax", "torch", "pandas", "builtins")


def _copy_tree(value, convert, memo):
    """``value`` with ``convert`` applied to every part, its containers and objects copied.

    Arrays, scalars and what is not walked are shared, not copied; an object
    reached twice gets the same copy, so shared parts stay shared and a cycle
    is followed once. ``value`` itself is never changed.
    """
    key = id(value)
    if key in memo:
        return memo[key][0]
    new = convert(value)
    if new is not value:
        memo[key] = (new, value)  # the value is kept alive, so its id is not reused meanwhile
        return new
    memo[key] = (value, value)
    if isinstance(value, tuple):
        items = [_copy_tree(item, convert, memo) for item in value]
        if any(a is not b for a, b in zip(items, value)):
            new = type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    elif isinstance(value, (dict, list)):
        new = copy.copy(value)  # keeps a defaultdict's factory
        memo[key] = (new, value)
        for slot, item in value.items() if isinstance(value, dict) else enumerate(value):
            new[slot] = _copy_tree(item, convert, memo)
    elif _descends(value):
        try:
            new = type(value).__new__(type(value))
        except TypeError:  # needs arguments: left as it is
            return value
        memo[key] = (new, value)
        new.__dict__.update({name: _copy_tree(item, convert, memo) for name, item in vars(value).items()})
    memo[key] = (new, value)
    return new


def holds_raw_bytes(schema):
    """Whether a skops schema holds raw bytes: spe's model files never do.

    An spe estimator given bytes where its network belongs would rebuild
    the network from them (their pickling hook), before spe could check
    their size; so no bytes are loaded at all.
    """
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("__loader__") in ("BytesNode", "BytearrayNode"):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def untrusted_types(**source):
    """The types a skops dump names that spe does not trust (``data=`` bytes or ``file=`` path)."""
    import skops.io

    return sorted(set(skops.io.get_untrusted_types(**source)) - set(TRUSTED))


def dump_estimator(estimator):
    """Dump ``estimator`` to skops bytes; return them and its Keras networks by file name.

    Raises
    ------
    TypeError
        If the estimator holds something skops cannot store, or a type spe
        would refuse to load (nothing is then written).
    """
    import skops.io
    from skops.io.exceptions import UnsupportedTypeException

    from ..features._loader import ImageLoader

    model_type = _keras_model_type()
    networks = {}

    def convert(value):
        if model_type is not None and isinstance(value, model_type):
            name = f"network-{len(networks)}.keras"
            networks[name] = value
            return KerasFile(name)
        if _is_pandas(value):
            return _pandas_placeholder(value)
        if isinstance(value, ImageLoader) and value.cache_dir is not None:
            # The cache is a training-time folder of this machine: a saved
            # model predicts new pictures without writing there.
            loader = type(value).__new__(type(value))
            loader.__dict__.update(vars(value), cache_dir=None)
            return loader
        if hasattr(type(value), "fitted_transformer"):  # spe's picture cache
            # Saved as the fitted transformer itself: no table of training
            # paths, nothing left to fit (or to download) when predicting.
            return _copy_tree(value.fitted_transformer(), convert, memo)
        return value

    memo = {}  # holds every original part until the dump is done
    root = _copy_tree(estimator, convert, memo)
    if isinstance(root, (KerasFile, Frame)):
        raise TypeError(f"save_model saves a fitted estimator, got {type(estimator).__name__}")
    try:
        data = skops.io.dumps(root)
    except (UnsupportedTypeException, TypeError, ValueError, AttributeError) as exc:
        raise TypeError(
            f"{type(estimator).__name__} holds something spe cannot save ({type(exc).__name__}: {exc})"
        ) from None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if holds_raw_bytes(json.loads(archive.read("schema.json"))):
            raise TypeError(
                f"{type(estimator).__name__} holds raw bytes, which spe does not load from a model file"
            )
    untrusted = untrusted_types(data=data)
    if untrusted:
        raise TypeError(
            f"{type(estimator).__name__} holds types spe does not load from a model file "
            f"({', '.join(untrusted)}); only spe's, scikit-learn's and crepes' estimators are saved"
        )
    return data, networks


def load_estimator(path, load_network):
    """Load a skops file spe wrote; ``load_network(name)`` gives each Keras network back.

    The caller checks :func:`untrusted_types` first (skops checks again)
    and every part of the result (:func:`spe.persistence._checks.check_parts`).
    A picture cache saved by spe 0.1 becomes its fitted transformer.
    """
    import skops.io

    estimator = skops.io.load(path, trusted=list(TRUSTED))
    networks = {}
    memo = {}

    def convert(value):
        if is_picture_cache(value):  # in folders saved by spe 0.1
            return _copy_tree(saved_transformer(value), convert, memo)
        if isinstance(value, KerasFile):
            if value.name not in networks:
                networks[value.name] = load_network(value.name)
            return networks[value.name]
        if isinstance(value, Frame):
            return _frame_object(value)
        return value

    return _copy_tree(estimator, convert, memo), sorted(networks)
