"""RecentAverageRegressor: the figure a person already has in their head."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import assert_all_finite, check_consistent_length, check_scalar, column_or_1d
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RecentAverageRegressor"]


def order_as_numbers(values):
    """Posting order as float64; timestamps as nanoseconds since the epoch.

    Timestamps go through one fixed unit, whatever the column's resolution
    (pandas 2 and 3 keep seconds, milliseconds or microseconds), so a model
    fitted on one frame reads another frame's times on the same scale.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(_order_numbers(values), index=values.index, name=values.name).to_frame()
    return values.to_frame() if isinstance(values, pd.Series) else values


def _order_numbers(values, owner="X"):
    """:func:`order_as_numbers` of a Series, as a float64 array: no frame, no sklearn check.

    The fast path of every trend's fit, predict and partial_fit on a
    DataFrame (a walk forward makes thousands of them on a few hundred rows).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if values.dt.tz is not None:
            values = values.dt.tz_convert(None)  # UTC, then naive
        if values.isna().any():
            raise ValueError(
                f"{owner}: column {values.name!r} has a missing time (NaT) in row {values.isna().argmax()}."
            )
        return values.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    try:
        numbers = values.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{owner}: column {values.name!r} must hold numbers or timestamps ({error})."
        ) from None
    assert_all_finite(numbers, input_name="X")
    return numbers


class PastLikesRegressor(RegressorMixin, BaseEstimator):
    """Base of the trends: predict each post from the likes of earlier training posts.

    A subclass sets ``_check_params`` and ``_predict_from(end)``, where
    ``end`` counts the training posts strictly before each post (in
    ``self.likes_``, sorted by posting order).
    """

    #: Predicting a training post uses only strictly earlier posts: the
    #: in-sample predictions are already one-step-ahead (out of sample).
    _predicts_from_earlier_posts = True

    def _check_params(self):
        """Validate the parameters (subclasses)."""

    def _order_values(self, X, reset):
        if isinstance(X, pd.DataFrame):
            if self.order not in X.columns:
                raise ValueError(
                    f"{type(self).__name__} reads the posting order from column {self.order!r}, "
                    f"which X does not have (columns: {list(X.columns)})."
                )
            # One column read by name, checked by hand: validate_data's conversions and
            # name checks cost milliseconds, and a walk forward calls this thousands of times.
            values = _order_numbers(X[self.order], owner=type(self).__name__)
            if reset:
                self.n_features_in_ = 1
                self.feature_names_in_ = np.asarray([self.order], dtype=object)
            elif not hasattr(self, "n_features_in_"):
                check_is_fitted(self)
            return values
        else:
            X = X if hasattr(X, "ndim") else np.asarray(X)
            if X.ndim == 1:
                X = X.reshape(-1, 1)
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        # An array: its first column is the posting order, the rest is ignored.
        return X[:, 0]

    def _likes(self, y, order):
        if isinstance(y, pd.Series) and y.dtype.kind in "fiub":
            y = y.to_numpy()
        if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "fiub"):
            y = column_or_1d(y, dtype=np.float64, warn=True)
        y = y.astype(np.float64, copy=False)
        if len(y) != len(order):
            check_consistent_length(order, y)
        if not np.isfinite(y).all():
            assert_all_finite(y, input_name="y")
        return y

    def fit(self, X, y):
        """Remember the training posts' order and likes.

        Parameters
        ----------
        X : DataFrame with an ``order`` column, or array of shape (n_samples,) or (n_samples, 1)
            Posting order.
        y : array-like of shape (n_samples,)
            Like counts.

        Returns
        -------
        self : estimator
        """
        self._check_params()
        order = self._order_values(X, reset=True)
        if len(order) < 1:
            raise ValueError(f"{type(self).__name__} needs at least n_samples=1 post to fit.")
        y = self._likes(y, order)
        sort = np.argsort(order, kind="stable")
        self.order_, self.likes_ = order[sort], y[sort]
        return self

    def partial_fit(self, X, y):
        """Add the posts observed since the last fit to the history.

        The next predictions then see their likes, without refitting
        anything else. The first call on an unfitted model is :meth:`fit`.

        Parameters
        ----------
        X : DataFrame with an ``order`` column, or array of shape (n_samples,) or (n_samples, 1)
            Posting order of the new posts, none older than the latest post seen.
        y : array-like of shape (n_samples,)
            Their like counts.

        Returns
        -------
        self : estimator

        Raises
        ------
        ValueError
            If ``X`` holds a post older than the latest post already seen.
        """
        if not hasattr(self, "likes_"):
            return self.fit(X, y)
        order = self._order_values(X, reset=False)
        y = self._likes(y, order)
        if len(order) and order.min() < self.order_[-1]:
            raise ValueError(
                f"{type(self).__name__}.partial_fit(X, y): X holds a post at {self.order}={order.min():g}, "
                f"older than the latest post already seen ({self.order_[-1]:g}). partial_fit takes the "
                "posts observed since the last fit; refit with fit(X, y) to change the past."
            )
        sort = np.argsort(order, kind="stable")
        self.order_ = np.concatenate([self.order_, order[sort]])
        self.likes_ = np.concatenate([self.likes_, y[sort]])
        return self

    def n_earlier(self, X):
        """How many training posts come strictly before each post of ``X``.

        Parameters
        ----------
        X : DataFrame with an ``order`` column, or array
            Posting order.

        Returns
        -------
        ndarray of int of shape (n_samples,)
        """
        if not hasattr(self, "order_"):
            check_is_fitted(self)
        return np.searchsorted(self.order_, self._order_values(X, reset=False), side="left")

    def predict(self, X):
        """Predict each post from the training posts strictly before it.

        Parameters
        ----------
        X : DataFrame with an ``order`` column, or array of shape (n_samples,) or (n_samples, 1)
            Posting order.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._predict_from(self.n_earlier(X))


class RecentAverageRegressor(PastLikesRegressor):
    """Predict a post's likes as the mean of the ``k`` posts just before it.

    The baseline every model must beat: the recent average a person
    already knows. It reads only the posting order; for each post it
    averages the like counts of the ``k`` training posts that came
    immediately before it, so no post ever sees its own likes or a later
    post's. A post earlier than every training post gets the mean of the
    first ``k`` training posts.

    Parameters
    ----------
    k : int, default=10
        How many earlier posts to average.
    order : str, default="post_index"
        The column of a DataFrame ``X`` that holds the posting order (a
        number or a timestamp). For an array ``X``, its first column is the
        posting order and any other columns are ignored.

    Attributes
    ----------
    order_ : ndarray of shape (n_train,)
        The training posts' order, sorted (timestamps as nanoseconds).
    likes_ : ndarray of shape (n_train,)
        Their like counts, in the same order.
    n_features_in_ : int
        Columns of ``X`` seen in :meth:`fit`.

    See Also
    --------
    spe.EWMARegressor : Weights recent posts more, with no hard window.
    spe.AutoTrendRegressor : Chooses the window from the training posts.

    Examples
    --------
    >>> import pandas as pd
    >>> from spe import RecentAverageRegressor
    >>> posts = pd.DataFrame({"post_index": [1, 2, 3, 4], "likes": [10, 20, 30, 40]})
    >>> model = RecentAverageRegressor(k=2).fit(posts, posts["likes"])
    >>> model.predict(pd.DataFrame({"post_index": [3, 5]}))
    array([15., 35.])
    >>> model.partial_fit(pd.DataFrame({"post_index": [5]}), [60]).predict(pd.DataFrame({"post_index": [6]}))
    array([50.])
    """

    def __init__(self, k=10, order="post_index"):
        self.k = k
        self.order = order

    def _check_params(self):
        check_scalar(self.k, "k", Integral, min_val=1)

    def _predict_from(self, end):
        cumsum = np.concatenate([[0.0], np.cumsum(self.likes_)])
        start = np.maximum(end - self.k, 0)
        first = min(self.k, len(self.likes_))
        # Nothing before: the earliest posts' mean is the best early guess.
        start = np.where(end == 0, 0, start)
        end = np.where(end == 0, first, end)
        return (cumsum[end] - cumsum[start]) / (end - start)
