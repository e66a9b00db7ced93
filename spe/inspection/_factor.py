"""Reasons that add up: each picture's factor, as predicted, shared out among what moved it.

:func:`~spe.models._next.predict_next` shows a picture factor (``predicted /
trend``: ``+11%``) beside its reasons. :func:`~spe.inspection.picture_contributions`
gives each feature's contribution to the image model's own output, before
:class:`~spe.LikesRegressor` shrinks it (``factor ** shrink_``) and relative
to the account's average picture: its ``+15%`` for "the picture as a whole"
sat beside a factor of ``+11%`` (issue 36). Here every contribution is put
on the log scale of the factor (as :mod:`spe.inspection._shares` does for a
mean of models), multiplied by the shrink, weighted ``1 / k`` in a mean of
``k`` models, and the average picture's own factor is one more part. The
parts then add up, on the log scale, to the log of the factor shown, up to
the ``+1`` in the models' ``log1p`` and the floor of the trend at 1 like,
which go to the average picture's part. Read as percents they are shares
of ``factor - 1`` in proportion to their logs, so they add up to the
picture column exactly (before each is rounded).
"""

import numpy as np
import pandas as pd

from ._explain import _contributions, _likes_regressor, _members, format_effect, phrase
from ._shares import log_shares

__all__ = ["AVERAGE_PICTURE", "OTHER_FEATURES", "factor_parts", "factor_reasons"]

#: The part of a picture's factor every picture gets: the model's factor for the account's average picture.
AVERAGE_PICTURE = "the average picture"
#: The features left out of the reasons shown, together.
OTHER_FEATURES = "other features"


def _log_parts(likes_model, X):
    """One LikesRegressor's contributions on the log scale of its shrunk factor (``factor ** shrink_``)."""
    frame = _contributions(likes_model, X)
    if frame.attrs["target"] == "residual":  # likes added to the trend: as fractions of the trend
        scale = np.maximum(np.asarray(likes_model.trend_.predict(X), dtype=np.float64), 1.0)
        shares = frame.div(scale, axis=0)
    else:
        shares, _ = log_shares(frame)
    return float(getattr(likes_model, "shrink_", 1.0)) * shares


def factor_parts(model, X, factor):
    """Each named feature's part of each post's picture factor, with the average picture's: they add up.

    Parameters
    ----------
    model : fitted estimator
        A :class:`~spe.LikesRegressor`, a model holding one as
        ``estimator_`` or a mean of such models
        (:class:`~spe.models.AveragedLikesRegressor`).
    X : DataFrame
        Posts, as the model predicts them.
    factor : array-like of shape (n_posts,)
        The factor shown for each post: its predicted likes over its trend.

    Returns
    -------
    DataFrame
        One column per feature (features without names summed into "the
        picture as a whole") and a last one, ``AVERAGE_PICTURE``; in
        fractions of the trend, each row adding up to ``factor - 1`` (NaN
        where the factor is not a positive number).

    Raises
    ------
    NotExplainableError
        As :func:`~spe.inspection.picture_contributions`.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from spe import ImageFeatures, LikesRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(30, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    >>> model = LikesRegressor(image_model=features, shrink=0.5).fit(posts, posts["likes"])
    >>> factor = model.predict(posts.tail(2)) / model.trend_.predict(posts.tail(2))
    >>> parts = factor_parts(model, posts.tail(2), factor)
    >>> bool(np.allclose(parts.sum(axis=1), factor - 1))
    True
    """
    members = _members(model)
    models = list(members.values()) if members is not None else [model]
    # A mean's log factor is the mean of its members'.
    shares = [_log_parts(_likes_regressor(member), X) / len(models) for member in models]
    # A feature two members read is one part: its shares add up.
    shares = pd.concat(shares, axis=1).T.groupby(level=0, sort=False).sum().T
    factor = np.asarray(factor, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_factor = np.where(factor > 0, np.log(factor), np.nan)
        # The rest of the log factor is the average picture's: its own factor (the image model's
        # intercept), and what the models' log1p and the trend's floor at 1 like add to it.
        base = log_factor - shares.sum(axis=1).to_numpy()
        per_log = np.where(np.abs(log_factor) > 1e-12, (factor - 1) / log_factor, 1.0)
    parts = shares.assign(**{AVERAGE_PICTURE: base})
    return parts.mul(per_log, axis=0).set_axis(getattr(X, "index", None), axis=0)


def factor_reasons(parts, n=3):
    """The ``n`` largest parts of each post's factor in words, then the rest: they add up to the factor.

    Parameters
    ----------
    parts : DataFrame
        From :func:`factor_parts`.
    n : int, default=3
        Features named per post; the others are summed into ``"other
        features"``. The average picture's part comes last.

    Returns
    -------
    Series of str
        One line per post, e.g. ``"brightness +6%, faces -3%, other
        features +1%, the average picture +2%"`` beside a ``+6%`` factor;
        a part under 0.05% is left out (``"no feature stands out"`` when
        all are); empty where the factor is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> parts = pd.DataFrame(
    ...     {"brightness": [0.06], "face_count": [-0.03], "hue_red": [0.01], AVERAGE_PICTURE: [0.02]}
    ... )
    >>> factor_reasons(parts, n=2).tolist()
    ['brightness +6%, faces -3%, other features +1%, the average picture +2%']
    """
    features = parts.drop(columns=AVERAGE_PICTURE)
    grouped = features.T.groupby([phrase(c) for c in features.columns], sort=False).sum().T
    lines = []
    for (_, row), base in zip(grouped.iterrows(), parts[AVERAGE_PICTURE]):
        if not np.isfinite(base):
            lines.append("")
            continue
        order = row.abs().sort_values(ascending=False, kind="stable").index
        shown = [(name, row[name]) for name in order[:n]]
        shown += [(OTHER_FEATURES, row[order[n:]].sum()), (AVERAGE_PICTURE, base)]
        words = [f"{name} {format_effect(value, 'fraction of the trend')}" for name, value in shown]
        kept = [word for word, (_, value) in zip(words, shown) if abs(value) >= 0.0005]
        lines.append(", ".join(kept) or "no feature stands out")
    return pd.Series(lines, index=parts.index, dtype=object)
