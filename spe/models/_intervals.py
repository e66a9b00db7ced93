"""Prediction intervals that hold: split-conformal on walk-forward residuals, through crepes.

Every walked post was predicted from the posts before it, so its error is
the error a person would have met asking about their next post. Those
errors calibrate :class:`crepes.ConformalRegressor`: an 80% interval is
the prediction plus or minus the error that 80% of the walked posts stayed
within. Likes are heavy-tailed and grow with the account, so the errors are
measured relative to the account's level (crepes' normalized nonconformity,
``sigma = max(trend, 1)``, the trend's prediction for the post): when the
account gets 200 likes a post the intervals are twice as wide as at 100. The
trend, not the model's own prediction, sets the scale, so a picture model
that extrapolates to a tiny prediction does not get a tiny interval too.
"""

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import check_scalar, column_or_1d, get_tags
from sklearn.utils.validation import check_is_fitted

from ..model_selection._walk import WalkForwardSplit, picture_skill, precompute_pictures, walk_forward_predict
from ._base import DelegatesToEstimator
from ._selection import AutoLikesRegressor
from ._trend import AutoTrendRegressor

__all__ = ["ConformalLikesRegressor", "walk_forward_intervals"]

#: Fewest walked posts an interval is calibrated on.
MIN_CALIBRATION = 10


def check_confidence(confidence, name="confidence"):
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < confidence < 1:
        raise ValueError(f"Parameter {name!r} must be a float in (0, 1), e.g. 0.8; got {confidence!r}.")
    return float(confidence)


def posts_needed(confidence):
    """Fewest calibration residuals for which crepes gives a finite ``confidence`` interval.

    crepes takes the ``int((1 - confidence) * (n + 1))``-th largest
    residual, so below this count the interval is unbounded.

    Parameters
    ----------
    confidence : float in (0, 1)

    Returns
    -------
    int

    Examples
    --------
    >>> from spe.models._intervals import posts_needed
    >>> posts_needed(0.8), posts_needed(0.95)
    (5, 19)
    """
    n = max(1, math.ceil(1 / (1 - confidence)) - 1)
    while int((1 - confidence) * (n + 1)) < 1:  # crepes' own float arithmetic
        n += 1
    return n


def _sigmas(scale):
    # Difficulty of a post: the account's level (errors grow with the account).
    return np.maximum(np.asarray(scale, dtype=np.float64), 1.0)


def _conformal(residuals, scale=None):
    from crepes import ConformalRegressor  # imported on use: crepes takes a second to import

    return ConformalRegressor().fit(residuals, sigmas=None if scale is None else _sigmas(scale))


def _interval(conformal, predicted, scale, confidence):
    sigmas = _sigmas(scale) if conformal.normalized else None
    return conformal.predict_int(predicted, sigmas=sigmas, confidence=confidence, y_min=0)


def walk_forward_intervals(
    actual, predicted, *, trend=None, confidence=0.8, min_calibration=20, normalize=True
):
    """Honest online intervals: each post's from the residuals of the posts before it.

    For walk-forward predictions, post ``i``'s interval comes from a
    :class:`crepes.ConformalRegressor` calibrated on the residuals of posts
    ``0 .. i - 1`` only, the interval a person asking about post ``i``
    would have been given. Counting how often the actual likes fall inside
    measures the coverage without looking ahead.

    Parameters
    ----------
    actual, predicted : array-like of shape (n_samples,)
        Likes and walk-forward predictions, in posting order.
    trend : array-like of shape (n_samples,), default=None
        The trend's walk-forward predictions of the same posts: the scale
        of each post's residual. ``None`` uses ``predicted``.
    confidence : float in (0, 1), default=0.8
    min_calibration : int, default=20
        Warm-up: the first posts get no interval (NaN). Raised to the
        count the confidence needs when it is lower (19 for 0.95).
    normalize : bool, default=True
        Residuals relative to ``trend`` (crepes' ``sigmas``);
        ``False``: plain absolute residuals, the same width for every post.

    Returns
    -------
    low, high : ndarray of shape (n_samples,)
        NaN during the warm-up; never below 0.

    Examples
    --------
    >>> import numpy as np
    >>> from spe import walk_forward_intervals
    >>> rng = np.random.RandomState(0)
    >>> predicted = np.full(300, 100.0)
    >>> actual = predicted * np.exp(0.3 * rng.randn(300))
    >>> low, high = walk_forward_intervals(actual, predicted)
    >>> inside = (actual >= low) & (actual <= high)
    >>> round(float(inside[20:].mean()), 1)
    0.8
    """
    confidence = check_confidence(confidence)
    check_scalar(min_calibration, "min_calibration", Integral, min_val=1)
    actual = column_or_1d(actual, dtype=np.float64)
    predicted = column_or_1d(predicted, dtype=np.float64)
    if len(actual) != len(predicted):
        raise ValueError(f"actual and predicted differ in length: {len(actual)} and {len(predicted)}.")
    residuals = actual - predicted
    scale = predicted if trend is None else column_or_1d(trend, dtype=np.float64)
    if not normalize:
        scale = None
    low, high = np.full(len(actual), np.nan), np.full(len(actual), np.nan)
    for i in range(max(min_calibration, posts_needed(confidence)), len(actual)):
        conformal = _conformal(residuals[:i], None if scale is None else scale[:i])
        here = None if scale is None else scale[i : i + 1]
        low[i], high[i] = _interval(conformal, predicted[i : i + 1], here, confidence)[0]
    return low, high


class ConformalLikesRegressor(DelegatesToEstimator, MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """A likes model with prediction intervals calibrated on the account's own walk forward.

    Split-conformal prediction on walk-forward residuals: in :meth:`fit`
    the estimator walks forward over the posts (each post after the first
    stretch predicted by the estimator fitted on the posts before it, as in
    :func:`~spe.evaluation.evaluate`), and its errors there calibrate a
    :class:`crepes.ConformalRegressor`. Errors are taken relative to the
    account's level, the prediction of an :class:`~spe.AutoTrendRegressor`
    walked over the same posts (normalized conformal prediction): likes
    are heavy-tailed and grow with the account, and on synthetic accounts
    this kept coverage near the nominal level where plain absolute errors
    fell short (see :ref:`intervals`). The estimator and the trend are then
    fitted on all posts.

    An :class:`~spe.AutoLikesRegressor` already walks its candidates
    forward in its own ``fit``; its walk is reused, not repeated.

    Parameters
    ----------
    estimator : regressor, default=None
        The likes model; ``None`` means :class:`~spe.AutoLikesRegressor`.
    confidence : float in (0, 1), default=0.8
        Share of future posts the intervals of :meth:`predict_interval`
        should contain.
    n_splits : int, default=5
        Sets the walk's first stretch, as in
        :class:`~spe.model_selection.WalkForwardSplit` (ignored for an
        :class:`~spe.AutoLikesRegressor`, which walks with its own).
    refit_every : int, default=None
        Posts between refits in the walk; ``None`` means about 20 refits.

    Attributes
    ----------
    estimator_ : regressor
        The estimator, fitted on all posts.
    conformal_ : crepes.ConformalRegressor
        Calibrated on the walked posts' residuals, divided by their trend.
    trend_ : AutoTrendRegressor
        The trend fitted on all posts: the scale of new posts' intervals.
    walk_ : DataFrame
        One row per walked post: ``actual`` likes, the estimator's walk-forward
        prediction (``predicted``) and an :class:`~spe.AutoTrendRegressor`'s
        (``trend``).
    picture_skill_ : tuple of float
        ``(rho, low, high)``: :func:`~spe.model_selection.picture_skill` over the
        walked posts; an interval above 0 means the picture part ranked
        posts against their trend better than chance. NaN when the
        estimator's predictions are the trend's (no picture part).

    See Also
    --------
    spe.walk_forward_intervals : The same intervals, each post's from the posts before it.

    Examples
    --------
    >>> import tempfile
    >>> from spe import AutoTrendRegressor, ConformalLikesRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(40, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> X, y = posts.drop(columns="likes"), posts["likes"]
    >>> model = ConformalLikesRegressor(AutoTrendRegressor()).fit(X[:35], y[:35])
    >>> intervals = model.predict_interval(X[35:])
    >>> intervals.shape, bool((intervals[:, 0] <= model.predict(X[35:])).all())
    ((5, 2), True)
    >>> list(model.walk_.columns)
    ['actual', 'predicted', 'trend']
    """

    def __init__(self, estimator=None, confidence=0.8, n_splits=5, refit_every=None):
        self.estimator = estimator
        self.confidence = confidence
        self.n_splits = n_splits
        self.refit_every = refit_every

    def _estimator(self):
        return AutoLikesRegressor() if self.estimator is None else self.estimator

    def _plan(self, n):
        """The walked posts and the splitter (an AutoLikesRegressor's own, whose walk is reused)."""
        estimator = self._estimator()
        owner = estimator if isinstance(estimator, AutoLikesRegressor) else self
        cv = WalkForwardSplit(n_splits=owner.n_splits).refitting(n, refit_every=owner.refit_every)
        return np.arange(cv.first_train_size(n), n), cv

    def _walk(self, X, y, walked, cv):
        """Walk-forward predictions over ``walked`` and the estimator fitted on all posts."""
        estimator = self._estimator()
        if isinstance(estimator, AutoLikesRegressor):
            fitted = clone(estimator).fit(X, y)  # it walks its candidates in fit
            return fitted.walk_predictions_[fitted.selected_].to_numpy(), fitted
        predicted = walk_forward_predict(precompute_pictures(estimator, X), X, y, cv)[walked]
        return predicted, clone(estimator).fit(X, y)

    def fit(self, X, y):
        """Walk the estimator forward, calibrate the intervals, fit it on all posts.

        Parameters
        ----------
        X : DataFrame
            Posts in posting order: ``post_index`` (or what the estimator's
            trend reads), ``image`` and what else the estimator reads.
        y : array-like of shape (n_samples,)
            Like counts.

        Returns
        -------
        self : ConformalLikesRegressor

        Raises
        ------
        ValueError
            If ``confidence`` is not in (0, 1), or too few posts are walked
            to calibrate it.
        """
        confidence = check_confidence(self.confidence)
        y = column_or_1d(y, dtype=np.float64, warn=True)
        needed = max(MIN_CALIBRATION, posts_needed(confidence))
        walked, cv = self._plan(len(y))
        if len(walked) < needed:
            first = len(y) - len(walked)
            raise ValueError(
                f"ConformalLikesRegressor needs at least {needed} walked posts to calibrate "
                f"confidence={confidence:g} intervals, after the first stretch of {first}; "
                f"{len(y)} posts give {len(walked)}. Fit on at least {first + needed} posts "
                "or lower n_splits."
            )
        predicted, self.estimator_ = self._walk(X, y, walked, cv)
        actual = y[walked]
        trend = walk_forward_predict(AutoTrendRegressor(), X, y, cv)[walked]
        self.walk_ = pd.DataFrame({"actual": actual, "predicted": predicted, "trend": trend})
        self.conformal_ = _conformal(actual - predicted, trend)
        self.trend_ = AutoTrendRegressor().fit(X, y)
        self.picture_skill_ = tuple(float(v) for v in picture_skill(actual, predicted, trend))
        return self

    def _updatable(self):
        estimator = getattr(self, "estimator_", None)
        return self._estimator() if estimator is None else estimator

    def _updated_parts(self):
        # The calibration stays as fitted; the intervals follow the trend.
        return [self.estimator_, self.trend_]

    def predict_interval(self, X, confidence=None):
        """Prediction intervals: low and high likes, never below 0.

        Parameters
        ----------
        X : DataFrame
            Posts.
        confidence : float in (0, 1), default=None
            ``None`` means the ``confidence`` the model was built with.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            ``[low, high]`` per post.

        Raises
        ------
        ValueError
            If ``confidence`` is not in (0, 1) or needs more walked posts
            than the model was calibrated on.
        """
        check_is_fitted(self)
        name = "confidence" if confidence is not None else "self.confidence"
        confidence = check_confidence(self.confidence if confidence is None else confidence, name)
        needed, have = posts_needed(confidence), len(self.walk_)
        if have < needed:
            raise ValueError(
                f"confidence={confidence:g} needs intervals calibrated on at least {needed} walked "
                f"posts; this model has {have}. Lower the confidence or fit on more posts."
            )
        return _interval(self.conformal_, self.predict(X), self.trend_.predict(X), confidence)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self._estimator()).input_tags
        return tags


def interval_scores(actual, predictions, *, trend=None, confidence=0.8, min_calibration=20):
    """Coverage and mean width of each model's online intervals (:func:`walk_forward_intervals`).

    Parameters
    ----------
    actual : array-like of shape (n_samples,)
        Likes of the walked posts, in posting order.
    predictions : dict of str to array-like or DataFrame
        Each model's walk-forward predictions of the same posts.
    trend : array-like of shape (n_samples,), default=None
        The trend's walk-forward predictions: the scale of the residuals
        (``None``: each model's own predictions).
    confidence : float in (0, 1), default=0.8
    min_calibration : int, default=20
        Warm-up posts without an interval.

    Returns
    -------
    DataFrame
        One row per model: ``"80% coverage"``, the share of the posts after
        the warm-up inside their interval, and ``"80% width"``, the mean
        width in likes (named by ``confidence``); NaN when no post is
        past the warm-up.

    Examples
    --------
    >>> import numpy as np
    >>> from spe.models._intervals import interval_scores
    >>> actual = np.arange(1.0, 31)
    >>> interval_scores(actual, {"last": np.r_[1.0, actual[:-1]]}).round(2)
          80% coverage  80% width
    last           1.0       10.9
    """
    actual = column_or_1d(actual, dtype=np.float64)
    label = f"{check_confidence(confidence) * 100:g}%"
    rows = {}
    for name in predictions:
        low, high = walk_forward_intervals(
            actual, predictions[name], trend=trend, confidence=confidence, min_calibration=min_calibration
        )
        kept = ~np.isnan(low)
        inside = (actual[kept] >= low[kept]) & (actual[kept] <= high[kept])
        rows[name] = {
            f"{label} coverage": inside.mean() if kept.any() else np.nan,
            f"{label} width": (high - low)[kept].mean() if kept.any() else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
