"""The models: trends, trend x picture, the account's own choice, intervals, the CNN.

- trends and baselines: :class:`EWMARegressor`, :class:`AutoTrendRegressor`,
  :class:`RecentAverageRegressor`;
- :class:`LikesRegressor`: the trend times what the picture adds;
- :class:`AutoLikesRegressor`: the model an account's own posts pick, walking forward;
- :class:`AveragedLikesRegressor`: the geometric mean of models it cannot tell apart;
- :class:`ConformalLikesRegressor` and :func:`walk_forward_intervals`: prediction intervals;
- :class:`CNNLikesRegressor` (imported on first use: it starts TensorFlow);
- :func:`candidates`: the models worth comparing on an account;
- :func:`next_post_model` and :func:`predict_next`: the model for the next
  post and the ranking of the pictures a person might post.
"""

from .._keras import lazy_getattr
from ._average import AveragedLikesRegressor
from ._baselines import RecentAverageRegressor
from ._candidates import candidates
from ._combined import LikesRegressor
from ._intervals import ConformalLikesRegressor, walk_forward_intervals
from ._next import next_post_model, predict_next
from ._selection import AutoLikesRegressor
from ._trend import AutoTrendRegressor, EWMARegressor

__all__ = [
    "AutoLikesRegressor",
    "AutoTrendRegressor",
    "AveragedLikesRegressor",
    "CNNLikesRegressor",
    "ConformalLikesRegressor",
    "EWMARegressor",
    "LikesRegressor",
    "RecentAverageRegressor",
    "candidates",
    "next_post_model",
    "predict_next",
    "walk_forward_intervals",
]

# Saved model files name each class by its public home (``spe.models.LikesRegressor``), not the
# private module defining it, so that moving code never breaks a saved model.
for _cls in (
    AutoLikesRegressor,
    AutoTrendRegressor,
    AveragedLikesRegressor,
    ConformalLikesRegressor,
    EWMARegressor,
    LikesRegressor,
    RecentAverageRegressor,
):
    _cls.__module__ = __name__
del _cls

__getattr__ = lazy_getattr(
    __name__, {"CNNLikesRegressor": "._cnn", "_TargetScaler": "._cnn", "as_images": "._cnn"}
)
