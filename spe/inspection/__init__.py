"""Why a model predicts what it does: the picture factor, feature by feature.

Like :mod:`sklearn.inspection`, which holds scikit-learn's tools for
looking inside a fitted model, this module explains a fitted
:class:`~spe.LikesRegressor` (or a model holding one, such as
:class:`~spe.AutoLikesRegressor`): :func:`picture_contributions` gives each
named feature's share of each post's picture factor, :func:`top_reasons`
says the largest in words, and :func:`feature_importance` gives the
coefficients for the whole model. A picture model on embeddings has one
reason, "the picture as a whole"; :func:`closest_posts` says which of the
account's past posts a picture resembles. See :ref:`reasons`.
:func:`picture_themes` groups an account's pictures by what the backbone
sees and says how each group did against the trend, walking forward;
:func:`theme_of` places new pictures among them, and :func:`with_themes`
adds each candidate's theme and closest posts to a ranking.
"""

from ._closest import closest_posts
from ._explain import feature_importance, picture_contributions, top_reasons
from ._theme_of import theme_of, with_themes
from ._themes import PictureThemes, picture_themes

__all__ = [
    "PictureThemes",
    "closest_posts",
    "feature_importance",
    "picture_contributions",
    "picture_themes",
    "theme_of",
    "top_reasons",
    "with_themes",
]
