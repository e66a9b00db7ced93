"""Which of the account's own past posts a new picture resembles, as its picture model sees them."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .._tree import contains
from ..exceptions import NotExplainableError
from ._explain import _likes_regressor, _members, _unnamed

__all__ = ["closest_posts"]


def closest_posts(model, X, past, n=3):
    """The past posts each new picture is closest to, in the space the model's picture part sees.

    For a picture model on embeddings, whose features have no names, this
    is the fairest explanation there is: "it looks like these posts of
    yours, which did this well against the trend". Pictures are compared
    by Euclidean distance between their features as the picture model's
    last step receives them (for :func:`~spe.models._embeddings.embedding_model`'s
    ``embeddings -> PCA -> centring -> ridge``: the principal components of
    the backbone's view, each at its own variance, so the directions where
    the account's pictures differ most count most).

    Parameters
    ----------
    model : fitted estimator
        A :class:`~spe.LikesRegressor` or a model wrapping one as
        ``estimator_`` (:class:`~spe.AutoLikesRegressor`), whose image model
        is a pipeline. Of a mean of models
        (:class:`~spe.AveragedLikesRegressor`), the member whose features
        have no names (embeddings) is asked, else the first.
    X : DataFrame
        The new posts (``image`` and what the model reads).
    past : DataFrame
        The account's posts with their ``likes`` (and what the trend reads,
        such as ``post_index``), e.g. :func:`~spe.datasets.load_folder`'s.
        A post also in ``past`` is its own closest, at distance 0.
    n : int, default=3
        Past posts per new post.

    Returns
    -------
    DataFrame
        One row per new post and rank: ``post`` (``X``'s index), ``rank``
        (1 = closest), ``past post`` (``past``'s index), ``image``,
        ``likes``, ``vs trend`` (its likes over what the fitted trend
        expects for it: above 1, it beat the trend) and ``distance``.

    Raises
    ------
    NotExplainableError
        If the model has no picture factor, or its image model is no pipeline.
    ValueError
        If ``past`` has no ``likes`` column, or ``n`` is not a positive int.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from spe import ImageFeatures, LikesRegressor
    >>> from spe.datasets import make_posts
    >>> from spe.inspection import closest_posts
    >>> posts = make_posts(20, directory=tempfile.mkdtemp(), image_size=(16, 16), random_state=0)
    >>> features = make_pipeline(ImageFeatures(size=(16, 16), faces=False), StandardScaler(), Ridge())
    >>> model = LikesRegressor(image_model=features).fit(posts, posts["likes"])
    >>> close = closest_posts(model, posts.tail(1), posts, n=2)
    >>> close["past post"].tolist()[0] == posts.index[-1], list(close.columns)[:3]
    (True, ['post', 'rank', 'past post'])
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"closest_posts parameter 'n' must be a positive int, got {n!r}.")
    if not isinstance(past, pd.DataFrame) or "likes" not in past.columns or not len(past):
        raise ValueError("closest_posts parameter 'past' must be a DataFrame of posts with a 'likes' column.")
    likes_model = _likes_regressor(_asked(model))
    image_model = likes_model.image_model_
    if not isinstance(image_model, Pipeline) or len(image_model) < 2:
        raise NotExplainableError(
            f"No closest posts: the image model ({type(image_model).__name__}) is not a pipeline whose "
            "last step receives the pictures' features."
        )
    space = image_model[:-1]
    new = np.asarray(space.transform(X), dtype=np.float64)
    old = np.asarray(space.transform(past), dtype=np.float64)
    distance = np.sqrt(((new[:, None, :] - old[None, :, :]) ** 2).sum(axis=-1))
    trend = np.maximum(np.asarray(likes_model.trend_.predict(past), dtype=np.float64), 1.0)
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(new))
    return _table(distance, n, index, past, trend)


def _asked(model):
    """``model``, or of a mean of models the member that reads the picture as a whole (else the first)."""
    members = _members(model)
    if members is None:
        return model
    unnamed = [m for m in members.values() if contains(m, _unnamed, fitted=True)]
    return (unnamed or list(members.values()))[0]


def _table(distance, n, index, past, trend):
    """The ``n`` closest past posts of each new one (rows of ``distance``), as closest_posts returns them."""
    order = np.argsort(distance, axis=1, kind="stable")[:, :n]
    likes = past["likes"].to_numpy(dtype=np.float64)
    rows = [
        {
            "post": index[i],
            "rank": rank + 1,
            "past post": past.index[j],
            "image": str(past["image"].iloc[j]) if "image" in past.columns else None,
            "likes": likes[j],
            "vs trend": likes[j] / trend[j],
            "distance": float(distance[i, j]),
        }
        for i in range(len(order))
        for rank, j in enumerate(order[i])
    ]
    return pd.DataFrame(rows, columns=["post", "rank", "past post", "image", "likes", "vs trend", "distance"])
