"""Why a model predicts what it does: the picture factor, feature by feature.

Like :mod:`sklearn.inspection`, which holds scikit-learn's tools for
looking inside a fitted model, this module explains a fitted
:class:`~spe.LikesRegressor` (or a model holding one, such as
:class:`~spe.AutoLikesRegressor`): :func:`picture_contributions` gives each
named feature's share of each post's picture factor, :func:`top_reasons`
says the largest in words, and :func:`feature_importance` gives the
coefficients for the whole model. See :ref:`reasons`.
"""

from ._explain import feature_importance, picture_contributions, top_reasons

__all__ = ["feature_importance", "picture_contributions", "top_reasons"]
