"""spe, the Social Performance Estimator.

Predict how many likes a picture will get on one person's own account,
learned from that account's past posts, with scikit-learn tooling.

The Keras-based estimators are imported on first use, so that
``from spe import ImageLoader`` does not start TensorFlow.
"""

from importlib.metadata import PackageNotFoundError, version

from ._keras import lazy_getattr
from .features import ImageFeatures, ImageLoader, PostFeatures
from .models import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    ConformalLikesRegressor,
    EWMARegressor,
    LikesRegressor,
    RecentAverageRegressor,
    next_post_model,
    predict_next,
    walk_forward_intervals,
)

try:
    __version__ = version("spe")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"


__all__ = [
    "AutoLikesRegressor",
    "AutoTrendRegressor",
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
__getattr__ = lazy_getattr(
    __name__, {"CNNLikesRegressor": ".models._cnn", "PretrainedEmbedder": ".features._embedder"}
)


def __dir__():
    return sorted(set(globals()) | set(__all__))
