"""spe, the Social Performance Estimator.

Predict how many likes a picture will get on one person's own account,
learned from that account's past posts, with scikit-learn tooling.

The Keras-based estimators are imported on first use, so that
``from spe import ImageLoader`` does not start TensorFlow.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

from .features._image_features import ImageFeatures
from .features._loader import ImageLoader
from .features._post_features import PostFeatures
from .models._baselines import RecentAverageRegressor
from .models._combined import LikesRegressor
from .models._intervals import ConformalLikesRegressor, walk_forward_intervals
from .models._next import next_post_model, predict_next
from .models._selection import AutoLikesRegressor
from .models._trend import AutoTrendRegressor, EWMARegressor

try:
    __version__ = version("spe")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

_LAZY = {
    "CNNLikesRegressor": ".models._cnn",
    "PretrainedEmbedder": ".features._embedder",
}

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


def __getattr__(name):
    if name in _LAZY:
        importlib.import_module("._keras._backend", __name__)  # TensorFlow's import-time noise, held back
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spe' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
