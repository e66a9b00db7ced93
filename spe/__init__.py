"""spe, the Social Performance Estimator.

Predict how many likes a picture will get on one person's own account,
learned from that account's past posts, with scikit-learn tooling.

Public names are imported on first use, so that ``spe --help`` is instant and
``from spe import ImageLoader`` does not start TensorFlow.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from ._keras import lazy_getattr

try:
    __version__ = version("spe")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

# Every public name is imported on first use: the `spe` command (spe.cli)
# imports this package, and `spe --help` must not wait for scikit-learn,
# pandas or Pillow; the Keras-based estimators also start TensorFlow.
_LAZY = {
    "ImageFeatures": ".features",
    "ImageLoader": ".features",
    "PostFeatures": ".features",
    "AutoLikesRegressor": ".models",
    "AutoTrendRegressor": ".models",
    "AveragedLikesRegressor": ".models",
    "ConformalLikesRegressor": ".models",
    "EWMARegressor": ".models",
    "LikesRegressor": ".models",
    "RecentAverageRegressor": ".models",
    "next_post_model": ".models",
    "predict_next": ".models",
    "walk_forward_intervals": ".models",
}


__all__ = [
    "AutoLikesRegressor",
    "AutoTrendRegressor",
    "AveragedLikesRegressor",
    "CNNLikesRegressor",
    "ConformalLikesRegressor",
    "EWMARegressor",
    "ImageFeatures",
    "ImageLoader",
    "LikesRegressor",
    "PostFeatures",
    "PretrainedEmbedder",
    "RecentAverageRegressor",
    "__version__",
    "next_post_model",
    "predict_next",
    "walk_forward_intervals",
]


# The Keras-based estimators, imported on first use (TensorFlow's import-time noise held back).
_keras_getattr = lazy_getattr(
    __name__, {"CNNLikesRegressor": ".models._cnn", "PretrainedEmbedder": ".features._embedder"}
)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    return _keras_getattr(name)


def __dir__():
    return sorted(set(globals()) | set(__all__))
