"""``spe.json``, a model folder's description, checked field by field before anything uses it.

The description is read from a folder that may come from a stranger; code
that uses it (the format number, the last training post's time and index
for ``spe predict``) must meet only the types spe writes. Every field spe
reads is checked here, and a wrong one is named in one line.
"""

import math
from numbers import Real

import pandas as pd

from ..exceptions import ModelLoadError

__all__ = ["check_meta"]


def _number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _time(value):
    if not isinstance(value, str):
        return False
    try:
        return pd.Timestamp(value) is not pd.NaT
    except (ValueError, TypeError, OverflowError):
        return False


def _pair(check):
    return lambda value: isinstance(value, list) and len(value) == 2 and all(check(v) for v in value)


def _optional(check):
    return lambda value: value is None or check(value)


# field -> check, for the fields spe reads; other fields are kept as they are.
_TOP = {
    "format_version": _whole,  # which numbers spe reads is the loader's to say
    "saved_at": _optional(lambda v: isinstance(v, str)),
    "keras_backend": _optional(lambda v: isinstance(v, str)),
    "versions": _optional(
        lambda v: isinstance(v, dict) and all(x is None or isinstance(x, str) for x in v.values())
    ),
    "model": _optional(lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values())),
    "files": _optional(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "data": _optional(lambda v: isinstance(v, dict)),
    "training_data": _optional(lambda v: isinstance(v, dict)),
    "scores": _optional(lambda v: isinstance(v, dict)),
    "metadata": _optional(lambda v: isinstance(v, dict)),
}
_DATA = {
    "n_posts": lambda v: _whole(v) and v >= 0,
    "likes_mean": _number,
    "likes_std": _number,
    "likes_min": _number,
    "likes_max": _number,
    "post_index_range": _pair(lambda v: _number(v) and math.isfinite(v)),
    "timestamp_range": _pair(_time),
}


def check_meta(meta, path):
    """Return ``meta`` if every field spe reads has the type spe writes.

    Parameters
    ----------
    meta : object
        ``spe.json``, parsed.
    path : path-like
        Its file, named in the error.

    Returns
    -------
    dict

    Raises
    ------
    spe.exceptions.ModelLoadError
        Naming the first wrong field and its value.

    Examples
    --------
    >>> check_meta({"format_version": 2, "data": {"n_posts": 3}}, "spe.json")["data"]
    {'n_posts': 3}
    >>> check_meta({"format_version": 2, "data": {"post_index_range": [1]}}, "spe.json")
    Traceback (most recent call last):
    ...
    spe.exceptions.ModelLoadError: spe.json: corrupt model description (data.post_index_range is [1])
    """
    if not isinstance(meta, dict):
        raise ModelLoadError(f"{path}: corrupt model description (not a JSON object)")
    if "format_version" not in meta:
        raise ModelLoadError(f"{path}: corrupt model description (no format_version)")
    for fields, where, prefix in ((_TOP, meta, ""), (_DATA, meta.get("data") or {}, "data.")):
        for name, check in fields.items():
            if name in where and not check(where[name]):
                shown = repr(where[name])
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                raise ModelLoadError(f"{path}: corrupt model description ({prefix}{name} is {shown})")
    return meta
