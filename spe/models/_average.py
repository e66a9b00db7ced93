"""AveragedLikesRegressor: the geometric mean of models' predicted likes (a forecast combination)."""

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from ..model_selection._walk import fit_shared
from ._base import UpdatesFittedParts

__all__ = ["AveragedLikesRegressor"]


class AveragedLikesRegressor(UpdatesFittedParts, MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Predict likes as the geometric mean of several models' predictions.

    Two models that predicted an account's past posts equally well are
    combined rather than chosen between: a choice between equals follows
    chance from one refit to the next, and each switch costs, where the
    average of two forecasts with partly independent errors is, as a rule,
    better than either (the forecast-combination result; Timmermann, 2006,
    "Forecast combinations", Handbook of Economic Forecasting).
    :class:`~spe.AutoLikesRegressor` builds one when the candidates it
    would keep cannot be told apart.

    The mean is taken of ``log1p(likes)``, the scale on which a picture
    factor multiplies the trend: two models that put a post at 1.2 and
    0.9 x the trend average to about 1.04 x, and the average of many
    ``trend x factor`` models is itself ``trend x factor``.

    Parameters
    ----------
    estimators : list of (str, regressor)
        The models, by name, as in :class:`~sklearn.ensemble.VotingRegressor`.
        Each is cloned and fitted on the same posts.

    Attributes
    ----------
    estimators_ : list of regressor
        The fitted models, in the order given.
    named_estimators_ : Bunch
        The same, by name.

    See Also
    --------
    sklearn.ensemble.VotingRegressor : The arithmetic mean of regressors.
    spe.AutoLikesRegressor : Averages the candidates it cannot tell apart.

    Examples
    --------
    >>> import tempfile
    >>> from spe import AutoTrendRegressor, AveragedLikesRegressor, EWMARegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> model = AveragedLikesRegressor([("auto", AutoTrendRegressor()), ("ewma", EWMARegressor(alpha=0.3))])
    >>> model.fit(posts.iloc[:25], posts["likes"].iloc[:25]).predict(posts.iloc[25:]).shape
    (5,)
    """

    def __init__(self, estimators):
        self.estimators = estimators

    def _validated(self):
        estimators = self.estimators
        ok = isinstance(estimators, (list, tuple)) and len(estimators) > 0
        ok = ok and all(isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], str) for e in estimators)
        if not ok:
            raise ValueError(
                "AveragedLikesRegressor parameter 'estimators' must be a non-empty list of "
                f"(name, regressor) pairs, got {estimators!r}."
            )
        names = [name for name, _ in estimators]
        if len(set(names)) != len(names):
            raise ValueError(f"AveragedLikesRegressor parameter 'estimators' names a model twice: {names}.")
        return estimators

    def fit(self, X, y):
        """Fit every model on the same posts.

        Parameters
        ----------
        X : DataFrame
            Posts in posting order, as the models read them.
        y : array-like of shape (n_samples,)
            Like counts.

        Returns
        -------
        self : AveragedLikesRegressor
        """
        # Inside a walk of spe.model_selection, a model fitted on these very posts is reused.
        self.estimators_ = [fit_shared(model, X, y) for _, model in self._validated()]
        return self

    @property
    def named_estimators_(self):
        """The fitted models by name (a Bunch; computed, so a saved model holds no Bunch type)."""
        check_is_fitted(self)
        return Bunch(**{name: model for (name, _), model in zip(self.estimators, self.estimators_)})

    def _can_update(self):
        return all(hasattr(model, "partial_fit") for model in getattr(self, "estimators_", [None]))

    def _updated_parts(self):
        return self.estimators_

    @property
    def _predicts_from_earlier_posts(self):
        # The walk may add a whole block at once only if every model predicts from earlier posts alone.
        fitted = getattr(self, "estimators_", None)
        return bool(fitted) and all(getattr(m, "_predicts_from_earlier_posts", False) for m in fitted)

    def transform(self, X):
        """Each model's predicted likes, one column per model (as VotingRegressor's ``transform``).

        Parameters
        ----------
        X : DataFrame
            Posts.

        Returns
        -------
        ndarray of shape (n_samples, n_estimators)
        """
        check_is_fitted(self)
        return np.column_stack([np.asarray(m.predict(X), dtype=np.float64).ravel() for m in self.estimators_])

    def predict(self, X):
        """The geometric mean of the models' ``likes + 1``, less 1.

        Parameters
        ----------
        X : DataFrame
            Posts.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return geometric_mean_likes(self.transform(X))


def geometric_mean_likes(predictions):
    """Row-wise geometric mean of ``predictions + 1``, less 1 (negative predictions count as 0).

    Examples
    --------
    >>> geometric_mean_likes(np.array([[99.0, 399.0]]))
    array([199.])
    """
    predictions = np.maximum(np.asarray(predictions, dtype=np.float64), 0.0)
    return np.expm1(np.log1p(predictions).mean(axis=1))
