"""LikesRegressor: the account's trend, times what the picture adds to it."""

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._baselines import RecentAverageRegressor
from ._features import ImageFeatures

__all__ = ["LikesRegressor"]

_TARGETS = ("ratio", "log_ratio", "residual")


class LikesRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Model the trend over posting time and what each picture adds on top.

    On real accounts likes drift with the account's growth, and the recent
    average already captures most of that. This model predicts a post's
    likes as its trend (by default the recent average of the posts before
    it) adjusted by an image model that learns, from the pictures, how far
    above or below the trend a post lands.

    No leakage: a post's trend only uses posts before it, in ``fit`` (where
    the image model's targets are made) and in ``predict``.

    Parameters
    ----------
    trend : regressor, default=None
        Predicts likes from the posting order; ``None`` means
        ``RecentAverageRegressor(k=10)``. It must use only earlier posts
        for each post, as :class:`~spe.RecentAverageRegressor` does.
    image_model : regressor, default=None
        Predicts the target below from the posts DataFrame (it reads the
        ``image`` column). ``None`` means
        ``make_pipeline(ImageFeatures(), StandardScaler(), RidgeCV())``.
    target : {"ratio", "log_ratio", "residual"}, default="ratio"
        What the image model learns: ``likes / trend`` (ratio to the recent
        mean, what several published likes models found works best),
        ``log1p(likes) - log1p(trend)``, or ``likes - trend``.

    Attributes
    ----------
    trend_ : regressor
        The fitted trend.
    image_model_ : regressor
        The fitted image model.

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

    def __init__(self, trend=None, image_model=None, target="ratio"):
        self.trend = trend
        self.image_model = image_model
        self.target = target

    def _to_target(self, y, base):
        if self.target == "ratio":
            return y / np.maximum(base, 1.0)
        if self.target == "log_ratio":
            return np.log1p(y) - np.log1p(base)
        return y - base

    def _from_target(self, t, base):
        if self.target == "ratio":
            return t * np.maximum(base, 1.0)
        if self.target == "log_ratio":
            return np.expm1(t + np.log1p(base))
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
        y = np.asarray(y, dtype=np.float64)
        self.trend_ = clone(self.trend if self.trend is not None else RecentAverageRegressor(k=10)).fit(X, y)
        base = self.trend_.predict(X)  # each post from the posts before it
        image_model = self.image_model
        if image_model is None:
            image_model = make_pipeline(
                ImageFeatures(), StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 12))
            )
        self.image_model_ = clone(image_model).fit(X, self._to_target(y, base))
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
        return self._from_target(np.asarray(self.image_model_.predict(X), dtype=np.float64), base)
