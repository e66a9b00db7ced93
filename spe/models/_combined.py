"""LikesRegressor: the account's trend, times what the picture adds to it (shrunk walking forward)."""

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin
from sklearn.model_selection import TimeSeriesSplit
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._tree import clone
from ..model_selection._shared import take
from ..model_selection._walk import walk_forward_predict
from ._base import picture_model
from ._shrink import SHRINK, check_shrink, walked_output
from ._trend import AutoTrendRegressor

__all__ = ["LikesRegressor"]

_TARGETS = ("ratio", "log_ratio", "residual")


class LikesRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Model the trend over posting time and what each picture adds on top.

    On real accounts likes drift with the account's growth, and the recent
    average already captures most of that. This model predicts a post's
    likes as its trend (by default the recent average of the posts before
    it) adjusted by an image model that learns, from the pictures, how far
    above or below the trend a post lands.

    No leakage: the image model learns from out-of-fold trends. The
    package's trends predict each training post from the training posts
    strictly before it; any other trend is fitted on earlier blocks of
    posts and predicts the next block (time-ordered folds, as
    :class:`~sklearn.ensemble.StackingRegressor` does with
    :func:`~sklearn.model_selection.cross_val_predict`). Posts with no
    history (the first post, or the first block) are left out of the image
    model's training.

    Parameters
    ----------
    trend : regressor, default=None
        Predicts likes from the posting order; ``None`` means
        :class:`~spe.AutoTrendRegressor`, the recent average or
        exponentially weighted mean that best predicted the training posts.
        ``X`` must be in posting order when the trend is not one of
        the package's.
    image_model : regressor, default=None
        Predicts the target below from the posts DataFrame (it reads the
        ``image`` column). ``None`` means
        ``make_pipeline(ImageFeatures(), StandardScaler(), RidgeCV())``.
    target : {"ratio", "log_ratio", "residual"}, default="ratio"
        What the image model learns: ``likes / trend`` (ratio to the recent
        mean, what several published likes models found works best),
        ``log1p(likes) - log1p(trend)``, or ``likes - trend``.

    cv : int or time-ordered splitter, default=5
        Folds for the out-of-fold trend of a trend that is not one of the
        package's (an int means :class:`~sklearn.model_selection.TimeSeriesSplit`),
        and for choosing ``shrink``.
    shrink : float or sequence of float in [0, 1], default=(0.1, 0.25, 0.5, 0.75, 1.0)
        The exponent lambda of the picture factor: likes are predicted as
        ``trend x factor ** lambda`` (for ``target="residual"``, ``trend +
        lambda x residual``). A picture model that ranks posts well can
        still size their factor too boldly, and lose to its trend in MAE;
        shrinking keeps the ranking (any lambda above 0 keeps the order of
        the pictures) and brings the size back. A grid: the lambda with the
        least MAE on about the later half of the training posts, each predicted by
        the image model fitted on the posts before it, in about ``cv``
        time-ordered folds (``cv.get_n_splits`` of a splitter) whose blocks
        start at the multiples of a power of two (the one nearest the later
        half's posts per fold): refitted on one more post, the model meets
        the same folds again, and a walk forward fits each once (see
        :func:`~spe.model_selection.shared_walks`). A number: that lambda.
        1 is the unshrunk factor.

    Attributes
    ----------
    trend_ : regressor
        The fitted trend (on all training posts).
    image_model_ : regressor
        The fitted image model.
    n_image_train_ : int
        Training posts the image model learned from (those with history).
    shrink_ : float
        The lambda used in :meth:`predict`.
    shrink_scores_ : dict of float to float
        With a grid: each lambda's MAE on the training posts walked forward.

    See Also
    --------
    spe.RecentAverageRegressor : The default trend.
    spe.ImageFeatures : The default image model's features.

    Examples
    --------
    >>> import tempfile
    >>> from spe import ImageFeatures, LikesRegressor
    >>> from spe.datasets import make_posts
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> model = LikesRegressor(image_model=make_pipeline(ImageFeatures(size=(16, 16), faces=False), Ridge()))
    >>> model.fit(posts.iloc[:25], posts["likes"].iloc[:25]).predict(posts.iloc[25:]).shape
    (5,)
    """

    def __init__(self, trend=None, image_model=None, target="ratio", cv=5, shrink=SHRINK):
        self.trend = trend
        self.image_model = image_model
        self.target = target
        self.cv = cv
        self.shrink = shrink

    def __setstate__(self, state):
        # A model saved before the shrinkage (formats 1-3) predicts as it did: the whole factor.
        if "image_model_" in state:
            state.setdefault("shrink_", 1.0)
        state.setdefault("shrink", 1.0 if "image_model_" in state else SHRINK)
        super().__setstate__(state)

    def _shrunk(self, t, lam):
        """The image model's output ``t`` with the factor raised to ``lam``."""
        if self.target == "ratio":
            return np.maximum(t, 0.0) ** lam
        return lam * t  # a log ratio or a residual: the exponent is a product

    def _to_target(self, y, base):
        if self.target == "ratio":
            return y / np.maximum(base, 1.0)
        if self.target == "log_ratio":
            return np.log1p(y) - np.log1p(np.maximum(base, 0.0))
        return y - base

    def _from_target(self, t, base):
        if self.target == "ratio":
            return np.maximum(t, 0.0) * np.maximum(base, 1.0)  # likes are never negative
        if self.target == "log_ratio":
            return np.expm1(t + np.log1p(np.maximum(base, 0.0)))
        return t + base

    def fit(self, X, y):
        """Fit the trend, then the image model on the posts' deviation from it.

        Parameters
        ----------
        X : DataFrame
            Posts: ``image`` plus the posting order (``post_index``).
        y : array-like of shape (n_samples,)
            Like counts.

        Returns
        -------
        self : LikesRegressor
        """
        if self.target not in _TARGETS:
            raise ValueError(
                f"LikesRegressor parameter 'target' must be one of {_TARGETS}, got {self.target!r}."
            )
        grid = check_shrink(self.shrink)
        y = np.asarray(y, dtype=np.float64)
        trend = clone(self.trend if self.trend is not None else AutoTrendRegressor())
        self.trend_ = clone(trend).fit(X, y)
        base, known = self._out_of_fold_trend(trend, X, y)
        if known.sum() < 2:
            raise ValueError(
                f"LikesRegressor needs at least 2 training posts with earlier posts before them "
                f"to learn what a picture adds; got {int(known.sum())} of n_samples={len(y)}."
            )
        image_model = self.image_model
        if image_model is None:
            image_model = picture_model()
        rows = np.flatnonzero(known)
        self.image_model_ = clone(image_model).fit(take(X, rows), self._to_target(y[rows], base[rows]))
        self.n_image_train_ = len(rows)
        self.shrink_, self.shrink_scores_ = self._choose_shrink(grid, image_model, X, y, base, rows)
        return self

    def _choose_shrink(self, grid, image_model, X, y, base, rows):
        """The lambda of ``grid`` with the least MAE, each post's factor from the posts before it."""
        if len(grid) == 1:
            return float(grid[0]), {}
        n_splits = min(5 if isinstance(self.cv, int) else self.cv.get_n_splits(rows), len(rows) // 4)
        if n_splits < 2:
            return float(grid[0]), {}  # too few posts to measure the factor: shrink the most
        # Folds over the later half only: a factor learned from a handful of posts would argue for
        # more shrinking than the model fitted on all of them needs.
        targets = self._to_target(y[rows], base[rows])
        walked, t = walked_output(image_model, X, y, rows, targets, n_splits)
        scores = {
            float(lam): float(
                np.mean(np.abs(y[walked] - self._from_target(self._shrunk(t, lam), base[walked])))
            )
            for lam in grid
        }
        return min(scores, key=scores.get), scores

    def _out_of_fold_trend(self, trend, X, y):
        """Each training post's trend from earlier posts only, and which posts have one."""
        # Only a trend of past likes alone (no model fitted on these rows, as in
        # a nested LikesRegressor) predicts its own training posts honestly.
        if getattr(self.trend_, "_predicts_from_earlier_posts", False) and hasattr(self.trend_, "n_earlier"):
            return self.trend_.predict(X), self.trend_.n_earlier(X) > 0
        cv = TimeSeriesSplit(min(self.cv, len(y) - 1)) if isinstance(self.cv, int) else self.cv
        # Walked forward: a trend that takes partial_fit (a nested LikesRegressor)
        # sees every earlier post of a block, as it will when predicting.
        base = walk_forward_predict(trend, X, y, cv)
        return base, ~np.isnan(base)

    @property
    def _predicts_from_earlier_posts(self):
        # After fit: its trend predicts from earlier posts only and partial_fit feeds only the trend.
        return getattr(getattr(self, "trend_", None), "_predicts_from_earlier_posts", False)

    def _trend_updates(self):
        trend = self.trend if self.trend is not None else AutoTrendRegressor()
        return hasattr(trend, "partial_fit")

    @available_if(_trend_updates)
    def partial_fit(self, X, y):
        """Let the trend see the posts observed since the last fit.

        The image model is kept as it is; the next predictions' trend
        includes the new posts' likes. Walk-forward evaluation calls this
        between refits.

        Parameters
        ----------
        X : DataFrame
            The new posts, none older than the latest post seen.
        y : array-like of shape (n_samples,)
            Their like counts.

        Returns
        -------
        self : LikesRegressor
        """
        if not hasattr(self, "trend_"):
            return self.fit(X, y)
        self.trend_.partial_fit(X, y)
        return self

    def predict(self, X):
        """Predict likes: the trend, adjusted by the picture.

        Parameters
        ----------
        X : DataFrame
            Posts: ``image`` plus the posting order.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        base = self.trend_.predict(X)
        t = np.asarray(self.image_model_.predict(X), dtype=np.float64)
        return self._from_target(self._shrunk(t, self.shrink_), base)

    def picture_factor(self, X):
        """What each picture multiplies its trend by, unshrunk: the picture part's own ranking.

        Parameters
        ----------
        X : DataFrame
            Posts: ``image`` plus the posting order.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``1.2``: the image model expects 20% above the trend. The
            predicted likes use this factor raised to ``shrink_``.
        """
        check_is_fitted(self)
        base = np.maximum(self.trend_.predict(X), 1.0)
        t = np.asarray(self.image_model_.predict(X), dtype=np.float64)
        return self._from_target(t, base) / base
