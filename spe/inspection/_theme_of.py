"""New pictures among an account's themes: which theme each joins, what the backbone sees, its closest posts.

What ``spe predict`` says of each candidate beside its predicted likes:
the theme it joins (nearest centroid in the themes' space) and that
theme's walked effect, the ImageNet classes the backbone is most sure of
for the picture itself, and the account's past posts it is closest to,
with their likes and how they did against the trend. Where the model
reads the picture as a whole (embeddings, no feature named), that is the
only "why" there is to give, so :func:`with_themes` says it in the
reasons in place of "the picture as a whole".
"""

import numpy as np
import pandas as pd

from ._explain import WHOLE_PICTURE
from ._themes import _embedder, _eyes, backbone_pass, effect_words, theme_title

__all__ = ["theme_of", "with_themes"]


def theme_of(themes, pictures, *, embeddings=None, probabilities=None, n_closest=3, model=None):
    """Which of the account's themes new pictures belong to (nearest centroid), and what the backbone sees.

    Parameters
    ----------
    themes : PictureThemes
        From :func:`~spe.inspection.picture_themes`, or read back from a
        model folder (:func:`~spe.persistence.load_themes`).
    pictures : list of path-like or DataFrame with an ``image`` column
    embeddings, probabilities : ndarray, default=None
        The pictures' backbone outputs, computed before (same backbone).
    n_closest : int, default=3
        Past posts returned per picture, closest first, in the themes' space.
    model : estimator, default=None
        A fitted model whose Lite embedder, where it is the one the themes
        were found with, embeds the pictures (else the offline backbone
        the themes name, read from its installed wheel: no network).

    Returns
    -------
    DataFrame
        One row per picture: ``picture`` (position), ``theme``, ``name``,
        ``effect``, ``low``, ``high``, ``stands_out``, ``words`` (the
        effect said plainly) and ``top_classes`` (the picture's own three,
        with probability). ``attrs["closest"]``: ``picture``, ``rank``,
        ``past post`` (row position in the account), ``image``, ``likes``,
        ``vs trend`` and ``distance``.

    Raises
    ------
    ValueError
        If ``themes`` holds no themes (too few posts: its note says so).

    Examples
    --------
    >>> found = theme_of(themes, ["new.jpg"])  # doctest: +SKIP
    >>> found[["theme", "name", "words"]]  # doctest: +SKIP
    """
    if themes.centroids is None:
        raise ValueError(f"No themes to assign pictures to: {themes.note}")
    paths = (
        pictures["image"].astype(str).tolist()
        if isinstance(pictures, pd.DataFrame)
        else list(map(str, pictures))
    )
    if embeddings is None or probabilities is None:
        embeddings, probabilities = backbone_pass(_eyes_of(themes, model), paths)
    space = themes.projection.transform(np.asarray(embeddings, dtype=np.float64))
    nearest = ((space[:, None, :] - themes.centroids[None]) ** 2).sum(-1).argmin(axis=1)
    columns = ["theme", "name", "effect", "low", "high", "stands_out"]
    out = themes.themes.set_index("theme").loc[nearest].reset_index()[columns]
    out.insert(0, "picture", np.arange(len(out)))
    out["words"] = [effect_words(row) for row in out.itertuples()]
    names, top = _eyes().imagenet_class_names(), np.argsort(-probabilities, axis=1, kind="stable")[:, :3]
    out["top_classes"] = [[(names[c], round(float(p[c]), 3)) for c in t] for p, t in zip(probabilities, top)]
    out.attrs["closest"] = _closest(themes, space, n_closest)
    return out


def _eyes_of(themes, model):
    """The embedder the themes were found with: theirs, the model's own where the same, else offline."""
    from ..features import PretrainedEmbedder

    if themes.embedder is not None:
        return themes.embedder
    own = _embedder(model)
    settings = themes.settings or {}
    wanted = (settings.get("backbone", own.backbone), tuple(settings.get("size", own.size)))
    wanted += (bool(settings.get("flip", own.flip)),)
    if (own.backbone, tuple(own.size), bool(own.flip)) == wanted:
        return own
    backbone, size, flip = wanted
    return PretrainedEmbedder(backbone, weights="imagenet", size=size, flip=flip).fit()


def _closest(themes, space, n):
    """The account's posts nearest each new picture in the themes' space."""
    table = themes.posts
    known = np.flatnonzero(table["theme"].to_numpy() >= 0)
    members = themes.positions[known]
    distance = np.sqrt(((space[:, None, :] - members[None]) ** 2).sum(-1))
    order = np.argsort(distance, axis=1, kind="stable")[:, :n]
    past = table.iloc[known[order.ravel()]]
    return pd.DataFrame(
        {
            "picture": np.repeat(np.arange(len(space)), order.shape[1]),
            "rank": np.tile(np.arange(1, order.shape[1] + 1), len(space)),
            "past post": known[order.ravel()],
            "image": past["image"].to_numpy(),
            "likes": past["likes"].to_numpy(),
            "vs trend": past["vs_trend"].to_numpy(),
            "distance": np.take_along_axis(distance, order, axis=1).ravel(),
        }
    )


def closest_words(closest):
    """``post 212 (1,210 likes, 1.31x its trend); post 45 (...)``: one picture's closest posts."""
    said = []
    for post, likes, ratio in zip(closest["past post"], closest["likes"], closest["vs trend"]):
        against = f", {ratio:.2f}x its trend" if np.isfinite(ratio) else ""
        said.append(f"post {int(post) + 1} ({likes:,.0f} likes{against})")
    return "; ".join(said)


def with_themes(table, themes, *, model=None, n_closest=3, embeddings=None, probabilities=None):
    """:func:`spe.predict_next`'s ranking with each candidate's theme, what it shows and its closest posts.

    Adds ``theme`` (its number), ``theme name``, ``theme effect`` (the
    theme's walked effect against the account's other posts, in words),
    ``shows`` (the picture's own top ImageNet classes with probability)
    and ``closest posts`` (past posts, numbered from 1 in posting order,
    with their likes and likes over the trend); ``attrs["closest"]`` holds
    them as a table. In ``reasons``, "the picture as a whole" becomes
    "looks like theme N": the model's number for the picture is unchanged,
    and the theme and closest posts say what it resembles.

    Parameters
    ----------
    table : DataFrame
        From :func:`spe.predict_next`.
    themes : PictureThemes
    model : estimator, default=None
        The fitted model whose embedder sees the pictures (see :func:`theme_of`).
    n_closest : int, default=3
    embeddings, probabilities : ndarray, default=None
        The candidates' backbone outputs in ``table``'s order, computed before.

    Returns
    -------
    DataFrame
        A copy of ``table`` with the columns above (``table`` itself when ``themes`` has none).
    """
    if themes is None or themes.centroids is None:
        return table
    pictures = table["image"].astype(str).tolist()
    found = theme_of(
        themes, pictures, embeddings=embeddings, probabilities=probabilities, n_closest=n_closest, model=model
    )
    out = table.copy()
    out["theme"] = found["theme"].to_numpy()
    out["theme name"] = [theme_title(row) for row in found.itertuples()]
    out["theme effect"] = found["words"].to_numpy()
    out["shows"] = [", ".join(f"{name} {p:.0%}" for name, p in classes) for classes in found["top_classes"]]
    closest = found.attrs["closest"]
    out["closest posts"] = [closest_words(closest[closest["picture"] == i]) for i in range(len(out))]
    out["reasons"] = [
        str(reason).replace(WHOLE_PICTURE, f"looks like theme {k}")
        for reason, k in zip(out["reasons"], out["theme"])
    ]
    out.attrs = {**table.attrs, "closest": closest, "themes": themes.themes}
    return out
