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

The level the calibration is read at adapts to the misses, post by post
(adaptive conformal inference; ``_conformal`` has the arithmetic and why it
is written here).
"""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import check_scalar, column_or_1d, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..model_selection._walk import picture_skill, precompute_pictures, walk_forward_predict
from ._base import DelegatesToEstimator, _updates
from ._conformal import ACI_STEP, adapt, calibrate, check_aci_step, check_confidence, interval, posts_needed
from ._selection import MIN_TRAIN, AutoLikesRegressor, report, reporting, walk_split
from ._trend import AutoTrendRegressor

__all__ = ["ConformalLikesRegressor", "walk_forward_intervals"]

#: Fewest walked posts an interval is calibrated on.
MIN_CALIBRATION = 10


def walk_forward_intervals(
    actual, predicted, *, trend=None, confidence=0.8, min_calibration=20, normalize=True, aci_step=ACI_STEP
):
    """Honest online intervals: each post's from the residuals of the posts before it.

    For walk-forward predictions, post ``i``'s interval comes from a
    :class:`crepes.ConformalRegressor` calibrated on the residuals of posts
    ``0 .. i - 1`` only, the interval a person asking about post ``i``
    would have been given. Counting how often the actual likes fall inside
    measures the coverage without looking ahead.

    The level the calibration is read at starts at ``confidence`` and
    adapts (Gibbs and Candes 2021): up ``aci_step * confidence`` after a
    miss, down ``aci_step * (1 - confidence)`` after a hit, so the share of
    posts inside tends to ``confidence`` even where the errors drift.

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
    aci_step : float in (0, 1] or None, default=0.05
        Step size ``gamma`` of the adaptive level: larger reacts faster to
        a run of misses and makes widths jumpier. ``None``: a fixed level,
        plain split-conformal intervals, as spe gave before it adapted.

    Returns
    -------
    low, high : ndarray of shape (n_samples,)
        NaN during the warm-up; never below 0.

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1), ``aci_step`` not in (0, 1], or
        no post comes after the warm-up (the message says how many are needed).

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
    confidence, aci_step = check_confidence(confidence), check_aci_step(aci_step)
    check_scalar(min_calibration, "min_calibration", Integral, min_val=1)
    actual = column_or_1d(actual, dtype=np.float64)
    predicted = column_or_1d(predicted, dtype=np.float64)
    if len(actual) != len(predicted):
        raise ValueError(f"actual and predicted differ in length: {len(actual)} and {len(predicted)}.")
    start = max(min_calibration, posts_needed(confidence))
    if len(actual) <= start:
        raise ValueError(
            f"walk_forward_intervals needs at least {start + 1} walked posts: {start} to calibrate "
            f"(min_calibration={min_calibration}, confidence={confidence:g}) and one to give an "
            f"interval; got {len(actual)}."
        )
    scale = predicted if trend is None else column_or_1d(trend, dtype=np.float64)
    half, _, _ = adapt(actual - predicted, scale if normalize else None, confidence, aci_step, start)
    return np.maximum(predicted - half, 0.0), predicted + half


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

    The level the calibration is read at adapts to the misses (adaptive
    conformal inference, Gibbs and Candes 2021; see
    :func:`~spe.walk_forward_intervals`): walked over the posts in
    :meth:`fit`, and moved again by each post :meth:`partial_fit` passes,
    whose error before the model learned it also joins the calibration. An
    account whose errors grew lately gets wider intervals than its whole
    history alone would give.

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
    aci_step : float in (0, 1] or None, default=0.05
        Step size of the adaptive level (see
        :func:`~spe.walk_forward_intervals`); ``None``: the level stays
        ``confidence`` (plain split-conformal intervals).

    Attributes
    ----------
    estimator_ : regressor
        The estimator, fitted on all posts.
    conformal_ : crepes.ConformalRegressor
        Calibrated on the walked posts' residuals, divided by their trend.
    adapted_confidence_ : float
        The level the calibration is read at for the next post: ``confidence``
        moved after each walked post by adaptive conformal inference (above
        ``confidence`` when recent posts fell outside their intervals more
        often than ``1 - confidence`` of the time). It can leave (0, 1)
        after a long run of misses or hits: the intervals then use the
        largest (or smallest) calibration error.
    trend_ : AutoTrendRegressor
        The trend fitted on all posts: the scale of new posts' intervals.
    walk_ : DataFrame
        One row per walked post, indexed by its row in the ``X`` of
        :meth:`fit`: ``actual`` likes, the estimator's walk-forward
        prediction (``predicted``) and an :class:`~spe.AutoTrendRegressor`'s
        (``trend``); :meth:`partial_fit` adds a row per new post, numbered on.
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

    def __init__(self, estimator=None, confidence=0.8, n_splits=5, refit_every=None, aci_step=ACI_STEP):
        self.estimator = estimator
        self.confidence = confidence
        self.n_splits = n_splits
        self.refit_every = refit_every
        self.aci_step = aci_step

    def _estimator(self):
        return AutoLikesRegressor() if self.estimator is None else self.estimator

    def _plan(self, n):
        """The walked posts and the splitter (an AutoLikesRegressor's own, whose walk is reused)."""
        estimator = self._estimator()
        owner = estimator if isinstance(estimator, AutoLikesRegressor) else self
        # AutoLikesRegressor's own splitter for every estimator: one smallest account (fewest_posts).
        cv = walk_split(n, owner.n_splits, owner.refit_every)
        return np.arange(cv.first_train_size(n), n), cv

    def fewest_posts(self, walked=None):
        """The fewest posts :meth:`fit` accepts, or that walk forward over ``walked`` posts.

        Parameters
        ----------
        walked : int, default=None
            Posts to walk forward over; ``None``: what the intervals are
            calibrated on (10, or what ``confidence`` needs).

        Returns
        -------
        int

        Examples
        --------
        >>> from spe import AutoTrendRegressor, ConformalLikesRegressor
        >>> model = ConformalLikesRegressor(AutoTrendRegressor())
        >>> model.fewest_posts(), model.fewest_posts(walked=22)
        (15, 30)
        """
        if walked is None:
            walked = max(MIN_CALIBRATION, posts_needed(check_confidence(self.confidence)))
        return _fewest(self._plan, walked)

    def _walk(self, X, y, walked, cv, progress):
        """Walk-forward predictions over ``walked`` and the estimator fitted on all posts."""
        estimator = self._estimator()
        if isinstance(estimator, AutoLikesRegressor):
            fitted = clone(estimator).fit(X, y, progress=progress)  # it walks its candidates in fit
            return fitted.walk_predictions_[fitted.selected_].to_numpy(), fitted
        step = f"walking the model forward over {len(walked)} posts"
        refitted = reporting(progress, step, cv.get_n_splits(y))
        prepared = precompute_pictures(estimator, X)
        predicted = walk_forward_predict(prepared, X, y, cv, progress=refitted)[walked]
        report(progress, f"fitting the model on all {len(y)} posts")
        return predicted, clone(estimator).fit(X, y)

    def fit(self, X, y, progress=None):
        """Walk the estimator forward, calibrate the intervals, fit it on all posts.

        Parameters
        ----------
        X : DataFrame
            Posts in posting order: ``post_index`` (or what the estimator's
            trend reads), ``image`` and what else the estimator reads.
        y : array-like of shape (n_samples,)
            Like counts.
        progress : callable, default=None
            Called with a :class:`~spe.models._selection.FitStep` as each
            step starts and each refit of a walk ends: the trend's walk
            first (quick: the estimator's walk, the slowest as a rule, is
            then the last, and its refits time the rest), the estimator's
            (an :class:`~spe.AutoLikesRegressor` reports each candidate's),
            the fit on all posts. A keyword of ``fit``, not a parameter: it
            belongs to one call, so it is neither cloned nor saved.

        Returns
        -------
        self : ConformalLikesRegressor

        Raises
        ------
        ValueError
            If ``confidence`` is not in (0, 1), ``aci_step`` not in (0, 1],
            or too few posts are walked to calibrate them: the message
            says how many posts :meth:`fewest_posts` the model needs.
        """
        confidence = check_confidence(self.confidence)
        check_aci_step(self.aci_step)
        y = column_or_1d(y, dtype=np.float64, warn=True)
        needed = max(MIN_CALIBRATION, posts_needed(confidence))
        walked, cv = self._plan(len(y))
        if len(walked) < needed:
            first = len(y) - len(walked)
            raise ValueError(
                f"ConformalLikesRegressor needs at least {needed} walked posts to calibrate "
                f"confidence={confidence:g} intervals, after the first stretch of {first}; "
                f"{len(y)} posts give {len(walked)}. Fit on at least {self.fewest_posts()} posts"
                + (" or lower n_splits." if first > MIN_TRAIN else ".")
            )
        estimator = self._estimator()
        after = len(estimator._candidates()) if isinstance(estimator, AutoLikesRegressor) else 1
        step = f"calibrating intervals: walking the trend forward over {len(walked)} posts"
        refitted = reporting(progress, step, cv.get_n_splits(y), walks_left=after)
        trend = walk_forward_predict(AutoTrendRegressor(), X, y, cv, progress=refitted)[walked]
        predicted, self.estimator_ = self._walk(X, y, walked, cv, progress)
        actual = y[walked]
        # Indexed by each walked post's row in X: what the posts before it were (spe fit's recent average).
        rows = pd.RangeIndex(walked[0], walked[-1] + 1)  # the walked posts follow one another
        self.walk_ = pd.DataFrame({"actual": actual, "predicted": predicted, "trend": trend}, index=rows)
        self.conformal_ = calibrate(actual - predicted, trend)
        self.adapted_confidence_ = self._adapted(confidence)
        self.trend_ = AutoTrendRegressor().fit(X, y)
        self.picture_skill_ = tuple(float(v) for v in picture_skill(actual, predicted, trend))
        return self

    def _updatable(self):
        estimator = getattr(self, "estimator_", None)
        return self._estimator() if estimator is None else estimator

    def _updated_parts(self):
        return [self.estimator_, self.trend_]

    def _aci_step(self):
        # A model fitted (and saved) before the level adapted has no aci_step: its level stays fixed.
        return check_aci_step(getattr(self, "aci_step", None))

    def _adapted(self, confidence, start=None, level=None):
        """The level for the next post: ACI walked over ``walk_`` (from row ``start``, at ``level``)."""
        walk = self.walk_
        residuals = (walk["actual"] - walk["predicted"]).to_numpy()
        if start is None:
            start = max(MIN_CALIBRATION, posts_needed(confidence))
        return float(
            adapt(residuals, walk["trend"].to_numpy(), confidence, self._aci_step(), start, level)[2]
        )

    @available_if(_updates)
    def partial_fit(self, X, y):
        """Learn the posts observed since the last fit: the model's trend, and the calibration.

        Each new post is first predicted as it would have been before it
        was posted; its error joins the calibration and moves the adaptive
        level (a miss widens the next intervals). Then the estimator's and
        the scale's trends learn its likes.

        Parameters
        ----------
        X : DataFrame
            The new posts, in posting order, none older than the latest post seen.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : ConformalLikesRegressor
        """
        check_is_fitted(self)
        y = column_or_1d(y, dtype=np.float64, warn=True)
        new = pd.DataFrame({"actual": y, "predicted": self.predict(X), "trend": self.trend_.predict(X)})
        super().partial_fit(X, y)
        seen = len(self.walk_)
        # The new posts' rows continue the count of the posts the model has seen.
        new.index = pd.RangeIndex(self.walk_.index[-1] + 1, self.walk_.index[-1] + 1 + len(new))
        self.walk_ = pd.concat([self.walk_, new])
        self.conformal_ = calibrate(self.walk_["actual"] - self.walk_["predicted"], self.walk_["trend"])
        if hasattr(self, "adapted_confidence_"):
            confidence = check_confidence(self.confidence)
            self.adapted_confidence_ = self._adapted(confidence, seen, self.adapted_confidence_)
        return self

    def predict_interval(self, X, confidence=None):
        """Prediction intervals: low and high likes, never below 0.

        Parameters
        ----------
        X : DataFrame
            Posts.
        confidence : float in (0, 1), default=None
            ``None`` means the ``confidence`` the model was built with. Either
            is read at its adapted level (``adapted_confidence_`` for the
            model's own), walked over the calibration posts.

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
        if confidence == check_confidence(self.confidence):
            # A model fitted before the level adapted reads its calibration at the level asked.
            level = getattr(self, "adapted_confidence_", confidence)
        else:
            level = self._adapted(confidence)
        return interval(self.conformal_, self.predict(X), self.trend_.predict(X), level)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self._estimator()).input_tags
        return tags


def _fewest(plan, walked):
    """The fewest posts ``n`` for which ``plan(n)`` walks forward over ``walked`` posts."""
    error = None
    for n in range(walked + 1, 100 * walked + 10_000):  # the first stretch is a sixth of the posts, or 5
        try:
            if len(plan(n)[0]) >= walked:
                return n
        except ValueError as exc:  # too few posts for a first stretch at all
            error = exc
    raise ValueError(f"no account of up to {n} posts walks forward over {walked}: {error}")


def interval_scores(
    actual, predictions, *, trend=None, confidence=0.8, min_calibration=20, aci_step=ACI_STEP
):
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
    aci_step : float in (0, 1] or None, default=0.05
        Step size of the adaptive level; ``None``: fixed.

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
    >>> last = {"last": np.r_[1.0, actual[:-1]]}
    >>> interval_scores(actual, last, aci_step=None).round(2)  # the level stays at 80%
          80% coverage  80% width
    last           1.0       10.9
    >>> interval_scores(actual, last).round(2)  # every post inside: the level falls, narrower
          80% coverage  80% width
    last           1.0       8.42
    """
    actual = column_or_1d(actual, dtype=np.float64)
    label = f"{check_confidence(confidence) * 100:g}%"
    check_aci_step(aci_step)
    check_scalar(min_calibration, "min_calibration", Integral, min_val=1)
    # Too short a walk for any interval: NaN, not an error (evaluate scores short accounts too).
    short = len(actual) <= max(min_calibration, posts_needed(confidence))
    rows = {}
    for name in predictions:
        rows[name] = {f"{label} coverage": np.nan, f"{label} width": np.nan}
        if short:
            continue
        low, high = walk_forward_intervals(
            actual,
            predictions[name],
            trend=trend,
            confidence=confidence,
            min_calibration=min_calibration,
            aci_step=aci_step,
        )
        kept = ~np.isnan(low)
        inside = (actual[kept] >= low[kept]) & (actual[kept] <= high[kept])
        rows[name] = {f"{label} coverage": inside.mean(), f"{label} width": (high - low)[kept].mean()}
    return pd.DataFrame.from_dict(rows, orient="index")
