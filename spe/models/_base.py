"""What spe's models share: the default picture model and the delegation to a fitted ``estimator_``."""

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..features import ImageFeatures

__all__ = ["DelegatesToEstimator", "UpdatesFittedParts", "default_alphas", "picture_model"]


def default_alphas():
    """The ridge penalties the default picture model chooses from (a new array each call)."""
    return np.logspace(-2, 3, 12)


def picture_model(size=(128, 128), alphas=None):
    """The default picture model: named picture features, standardized, into a ridge that picks its penalty.

    ``ImageFeatures(size) -> StandardScaler -> RidgeCV(alphas)``: what
    :class:`~spe.LikesRegressor` learns the picture factor with unless told
    otherwise, and what :func:`~spe.evaluation.candidates` calls "image features".

    Parameters
    ----------
    size : (int, int), default=(128, 128)
        Picture size the features are measured at.
    alphas : array-like, default=None
        The ridge's penalties; None: :func:`default_alphas`.

    Returns
    -------
    Pipeline
    """
    alphas = default_alphas() if alphas is None else alphas
    return make_pipeline(ImageFeatures(size=size), StandardScaler(), RidgeCV(alphas=alphas))


def _updates(self):
    return self._can_update()


class UpdatesFittedParts:
    """``partial_fit`` of a meta-estimator: the new posts go to each of its fitted parts.

    A subclass says whether it can learn new posts (:meth:`_can_update`)
    and which fitted parts learn them (:meth:`_updated_parts`).
    """

    @available_if(_updates)
    def partial_fit(self, X, y):
        """Pass the posts observed since the last fit to the fitted models (their trends).

        Parameters
        ----------
        X : DataFrame
            The new posts, none older than the latest post seen.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        check_is_fitted(self)
        for part in self._updated_parts():
            part.partial_fit(X, y)
        return self


class DelegatesToEstimator(UpdatesFittedParts):
    """``predict`` and ``partial_fit`` of a meta-estimator that predicts with its fitted ``estimator_``.

    A subclass says which estimator ``partial_fit`` depends on before and
    after fitting (:meth:`_updatable`) and which fitted parts it updates
    (:meth:`_updated_parts`).
    """

    def _updatable(self):
        return getattr(self, "estimator_", None)

    def _can_update(self):
        return hasattr(self._updatable(), "partial_fit")

    def _updated_parts(self):
        return [self.estimator_]

    @property
    def _predicts_from_earlier_posts(self):
        return getattr(getattr(self, "estimator_", None), "_predicts_from_earlier_posts", False)

    def predict(self, X):
        """Predict likes with the fitted model.

        Parameters
        ----------
        X : DataFrame
            Posts.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return np.asarray(self.estimator_.predict(X), dtype=np.float64).ravel()
