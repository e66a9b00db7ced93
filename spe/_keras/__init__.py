"""Everything that imports Keras and TensorFlow, and nothing else does.

- ``_backend``: the backend import (TensorFlow's import-time noise held
  back) and the pickling of Keras networks;
- ``_scikeras_fixes``: scikeras' KerasRegressor with the workarounds spe needs;
- ``_batches``: picture batches (augmented, streamed from a disk cache) for training;
- ``_threads``: TensorFlow's thread pools (:func:`~spe.model_selection.limit_threads`).

Importing this package imports nothing: the public packages reach
:class:`~spe.CNNLikesRegressor` and :class:`~spe.PretrainedEmbedder` through
:func:`lazy_getattr`, so that ``import spe`` does not start TensorFlow.
"""

import importlib


def lazy_getattr(package, names):
    """A module ``__getattr__`` for ``package`` that imports ``names[name]`` (a module) on first use.

    The Keras backend is imported first, quietly.
    """

    def __getattr__(name):
        if name in names:
            importlib.import_module("spe._keras._backend")
            value = getattr(importlib.import_module(names[name], package), name)
            setattr(importlib.import_module(package), name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
