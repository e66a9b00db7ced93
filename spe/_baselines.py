"""RecentAverageRegressor: the figure a person already has in their head."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import assert_all_finite, check_consistent_length, check_scalar, column_or_1d
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RecentAverageRegressor"]


class RecentAverageRegressor(RegressorMixin, BaseEstimator):
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
        The training posts' order, sorted.
    likes_ : ndarray of shape (n_train,)
        Their like counts, in the same order.
    n_features_in_ : int
        Columns of ``X`` seen in :meth:`fit`.

    Examples
    --------
    >>> import pandas as pd
    >>> from spe import RecentAverageRegressor
    >>> posts = pd.DataFrame({"post_index": [1, 2, 3, 4], "likes": [10, 20, 30, 40]})
    >>> model = RecentAverageRegressor(k=2).fit(posts, posts["likes"])
    >>> model.predict(pd.DataFrame({"post_index": [3, 5]}))
    array([15., 35.])
    """

    def __init__(self, k=10, order="post_index"):
        self.k = k
        self.order = order

    def _order_values(self, X, reset):
        if isinstance(X, pd.DataFrame):
            if self.order not in X.columns:
                raise ValueError(
                    f"RecentAverageRegressor reads the posting order from column {self.order!r}, "
                    f"which X does not have (columns: {list(X.columns)})."
                )
            values = X[[self.order]]
            if pd.api.types.is_datetime64_any_dtype(values[self.order]):
                values = values.astype("int64")
            X = values
        else:
            X = X if hasattr(X, "ndim") else np.asarray(X)
            if X.ndim == 1:
                X = X.reshape(-1, 1)
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        # An array: its first column is the posting order, the rest is ignored.
        return X[:, 0]

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
        self : RecentAverageRegressor
        """
        check_scalar(self.k, "k", Integral, min_val=1)
        order = self._order_values(X, reset=True)
        if len(order) < 1:
            raise ValueError("RecentAverageRegressor needs at least n_samples=1 post to fit.")
        y = column_or_1d(y, dtype=np.float64, warn=True)
        check_consistent_length(order, y)
        assert_all_finite(y, input_name="y")
        sort = np.argsort(order, kind="stable")
        self.order_, self.likes_ = order[sort], y[sort]
        return self

    def predict(self, X):
        """Mean likes of the ``k`` training posts just before each post.

        Parameters
        ----------
        X : DataFrame with an ``order`` column, or array of shape (n_samples,) or (n_samples, 1)
            Posting order.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        order = self._order_values(X, reset=False)
        cumsum = np.concatenate([[0.0], np.cumsum(self.likes_)])
        end = np.searchsorted(self.order_, order, side="left")  # posts strictly before
        start = np.maximum(end - self.k, 0)
        first = min(self.k, len(self.likes_))
        # Nothing before: the earliest posts' mean is the best early guess.
        start = np.where(end == 0, 0, start)
        end = np.where(end == 0, first, end)
        return (cumsum[end] - cumsum[start]) / (end - start)
