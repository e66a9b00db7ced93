"""What works on this account: its pictures grouped by what the backbone sees, each group's honest effect.

:func:`picture_themes` groups an account's pictures by their
EfficientNet-Lite0 embeddings, names each group only by what can be
measured offline (a face and how much of the picture it fills, and the
ImageNet classes the backbone is confident of), and measures how far its
posts landed above or below the trend, walking forward, against the
account's other posts, with a family-wise interval. :func:`~spe.inspection.theme_of` puts
new pictures in those groups.

The pictures are embedded once by EfficientNet-Lite0 (the model's own
Lite embedder, else the offline one at 224 px), put on the unit sphere,
reduced to 32 principal components and grouped by Ward's clustering,
the number of groups chosen by silhouette among the cuts whose every
group holds ``min_size`` posts. The groups are found without looking
at likes, so testing their effects afterwards is fair. A group is named
only by what is measured: the framing of the face OpenCV finds where
most of its pictures agree, and the ImageNet classes of high mean
probability over its pictures (0.15 for the first, 0.10 for two more);
without either it has no name and is shown by its pictures.

Its effect: the geometric mean of its posts' likes over the trend
walked forward to each (:class:`~spe.models.AutoTrendRegressor` fitted
on the posts before), against that of the account's other posts: a
trend of mean likes sits above the typical post (log-normal likes) and
would make every group look worse. The interval bootstraps posts, or
stretches of ``n ** (1/3)`` posts where the trend's misses run
together (lag-1 autocorrelation beyond ``2 / sqrt(n)``), Bonferroni-
corrected: all the intervals hold together with ``confidence``, so on
an account where pictures do not matter no group stands out, but for
one chance in ten.
"""

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from .._tree import parts
from ..exceptions import ImageLoadError
from ._theme_data import THEME_COLUMNS, PictureThemes, Projection, effect_words, theme_title
from ._theme_effects import theme_effects

__all__ = ["PictureThemes", "Projection", "backbone_pass", "effect_words", "picture_themes", "theme_title"]


def _eyes():
    """The backbone's constants and helpers, imported on first use: they import Keras."""
    from types import SimpleNamespace

    from ..features._embedder import MIN_SIDE, OFFLINE, WHEELS, check_picture_sides, imagenet_class_names

    return SimpleNamespace(
        MIN_SIDE=MIN_SIDE,
        OFFLINE=OFFLINE,
        WHEELS=WHEELS,
        check_picture_sides=check_picture_sides,
        imagenet_class_names=imagenet_class_names,
    )


MIN_POSTS = 30  # fewer: a handful of groups of 8 says nothing
#: Naming: the first class must hold this mean probability over the theme's posts, the others
#: ``NEXT_CLASS``; on a real account the backbone's top class had a median probability of 0.16 and
#: named close-up selfies "lipstick, ice lolly", which a person must not be shown.
FIRST_CLASS, NEXT_CLASS = 0.15, 0.10
#: Face share of the picture (largest face box over picture area) -> how the person is framed.
FRAMING = ((0.12, "close-up"), (0.03, "half body"), (0.0, "full body"))
FACES_SIZE = (224, 224)  # OpenCV's cascade finds faces of 20 px and up: 2% of the side here
FACES_PER_THEME = 25


def picture_themes(
    model,
    posts,
    *,
    embeddings=None,
    probabilities=None,
    trend=None,
    n_themes=None,
    min_size=8,
    confidence=0.9,
    n_boot=4000,
    block=None,
    faces=True,
    random_state=0,
):
    """Group the account's pictures by what the backbone sees, name each group plainly, measure its effect.

    How and why: the notes of :mod:`spe.inspection`'s ``_themes`` module.

    Parameters
    ----------
    model : estimator, PretrainedEmbedder or None
        A fitted model holding a Lite ``PretrainedEmbedder`` (used as it is),
        or one; else the offline ``efficientnet-lite0`` at 224 px (no network).
    posts : DataFrame
        In posting order: ``image``, ``likes`` and what the trend reads (``post_index``).
    embeddings, probabilities : ndarray, default=None
        The backbone's outputs for ``posts``, computed before (no backbone pass then).
    trend : array-like, default=None
        Each post's walked trend (NaN: none); None walks ``AutoTrendRegressor``.
    n_themes : int, default=None
        Number of groups; None chooses it (2 to 12) by silhouette.
    min_size : int, default=8
    confidence : float, default=0.9
        Family-wise confidence of the intervals.
    n_boot : int, default=4000
    block : int, default=None
        Posts per bootstrap stretch; None chooses 1 or ``n ** (1/3)``.
    faces : bool, default=True
        Name the framing by the faces OpenCV's Haar cascade finds.
    random_state : int, default=0

    Returns
    -------
    PictureThemes
        With no theme and a one-line ``note`` when fewer than 30 posts have pictures.

    Examples
    --------
    >>> import tempfile
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(120, directory=tempfile.mkdtemp(), image_size=(224, 224), content="scenes")
    >>> print(picture_themes(None, posts))  # doctest: +SKIP
    theme 3: no face found; Egyptian cat, tabby, tiger cat, 21 posts: +75% against the other posts ...
    """
    posts = _check_posts(posts)
    usable, note = _usable(posts)
    if usable.sum() < MIN_POSTS:
        line = f"Themes need at least {MIN_POSTS} posts with pictures; this account has {int(usable.sum())}."
        return PictureThemes(_empty_themes(), _post_table(posts, None, trend), confidence, line)
    embedder = None
    if embeddings is None or probabilities is None:
        embedder = _embedder(model)
        embeddings, probabilities = backbone_pass(embedder, posts["image"][usable].tolist())
    embeddings, probabilities = _rows(embeddings, usable), _rows(probabilities, usable)
    projection, space = _space(embeddings[usable], random_state)
    labels, centroids = _cluster(space, n_themes, min_size)
    theme = np.full(len(posts), -1)
    theme[usable] = labels
    trend = _walked_trend(posts) if trend is None else np.asarray(trend, dtype=np.float64)
    table = _post_table(posts, theme, trend, probabilities)
    framing = _framing(posts["image"][usable].tolist(), labels) if faces else [None] * len(centroids)
    effects = theme_effects(table["vs_trend"].to_numpy(), theme, confidence, n_boot, block, random_state)
    themes = pd.concat([_names(probabilities[usable], labels, framing), effects], axis=1)
    themes["members"] = [np.flatnonzero(theme == k).tolist() for k in range(len(centroids))]
    themes = themes.sort_values("effect", ascending=False, na_position="last", kind="stable")
    positions = np.full((len(posts), space.shape[1]), np.nan)
    positions[usable] = space
    found = (themes.reset_index(drop=True), table, confidence, note)
    settings = _settings(embedder, model)
    return PictureThemes(*found, embedder, projection, centroids, positions, settings)


def _settings(embedder, model):
    """The backbone the themes were found with (``backbone``, ``size``, ``flip``), or None if unknown."""
    from ..features import PretrainedEmbedder

    eyes = embedder if embedder is not None else model if isinstance(model, PretrainedEmbedder) else None
    if eyes is None:
        return None
    return {"backbone": eyes.backbone, "size": [int(v) for v in eyes.size], "flip": bool(eyes.flip)}


def _check_posts(posts):
    if not isinstance(posts, pd.DataFrame) or not {"image", "likes"} <= set(posts.columns):
        raise ValueError(
            "picture_themes parameter 'posts' must be a DataFrame with 'image' and 'likes' columns."
        )
    return posts.reset_index(drop=True)


def _usable(posts):
    """Which posts' pictures a backbone can see (32 px and up), and the one line about the others."""
    small = []
    for i, path in enumerate(posts["image"].astype(str)):
        try:
            _eyes().check_picture_sides([path])
        except ImageLoadError:
            small.append(i)
    usable = np.ones(len(posts), dtype=bool)
    usable[small] = False
    if not small:
        return usable, None
    first = posts["image"].iloc[small[0]]
    return usable, (
        f"{len(small)} picture(s) under {_eyes().MIN_SIDE} px on a side left out of the themes, "
        f"too small for the backbone to see anything (first: {first})."
    )


def _rows(values, usable):
    """``values`` for every post: given for all posts, or for the usable ones only."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == len(usable):
        return values
    out = np.full((len(usable), values.shape[1]), np.nan)
    out[usable] = values
    return out


def _embedder(model):
    """The model's EfficientNet-Lite embedder (fitted), else the offline Lite0 at 224 px."""
    from ..features import PretrainedEmbedder

    found = (
        [p for p in parts(model, fitted=True) if isinstance(p, PretrainedEmbedder)]
        if model is not None
        else []
    )
    found = [p for p in found if p.backbone in _eyes().WHEELS and p.weights == "imagenet"]
    embedder = found[0] if found else PretrainedEmbedder(_eyes().OFFLINE, weights="imagenet", size=(224, 224))
    return embedder if hasattr(embedder, "model_") else embedder.fit()


def backbone_pass(embedder, pictures):
    """Pooled features and ImageNet probabilities of pictures, in one pass of a Lite embedder's network.

    Parameters
    ----------
    embedder : PretrainedEmbedder
        Fitted, with an EfficientNet-Lite backbone (two outputs).
    pictures : list of path-like

    Returns
    -------
    embeddings : ndarray of shape (n, n_features)
    probabilities : ndarray of shape (n, 1000)
    """
    from ..features import ImageLoader

    _eyes().check_picture_sides(pictures)
    images = ImageLoader(size=embedder.size).transform(pictures)
    views = [images, images[:, :, ::-1]] if embedder.flip else [images]
    pooled, logits = 0.0, 0.0
    for view in views:  # as PretrainedEmbedder.transform: a flip averages both views
        out = embedder.model_.predict(view, batch_size=embedder.batch_size, verbose=0)
        pooled, logits = pooled + np.asarray(out[0]) / len(views), logits + np.asarray(out[1]) / len(views)
    logits = np.asarray(logits, dtype=np.float64)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(pooled, dtype=np.float64), probabilities / probabilities.sum(axis=1, keepdims=True)


def _space(embeddings, random_state):
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    pca = PCA(min(32, len(unit) - 1, unit.shape[1]), random_state=random_state).fit(unit)
    projection = Projection(pca.mean_, pca.components_)
    return projection, projection.transform(embeddings)


def _cluster(space, n_themes, min_size):
    """Ward's groups and their centroids; k by silhouette among the cuts whose every group has ``min_size``.

    One Ward tree cut at every k (deterministic, and for 1,000 posts a
    tenth of the time of k-means refitted per k, which gave the same
    groups on the scenes accounts), the silhouettes from one distance matrix.
    """
    tree = linkage(space, method="ward")
    distances = squareform(pdist(space))
    largest = min(12, len(space) // min_size)
    best = None
    for k in [n_themes] if n_themes is not None else range(2, largest + 1):
        labels = fcluster(tree, k, criterion="maxclust") - 1
        if n_themes is None and np.bincount(labels).min() < min_size:
            continue
        score = silhouette_score(distances, labels, metric="precomputed") if labels.max() > 0 else -1.0
        if best is None or score > best[0]:
            best = (score, labels)
    labels = np.zeros(len(space), dtype=int) if best is None else best[1]  # none big enough: one theme
    return labels, np.array([space[labels == k].mean(axis=0) for k in range(labels.max() + 1)])


def _walked_trend(posts):
    """Each post's trend predicted from the posts before it (NaN for the first stretch)."""
    from ..model_selection import WalkForwardSplit, walk_forward_predict
    from ..models import AutoTrendRegressor

    cv = WalkForwardSplit(min_train_size=min(10, len(posts) - 1)).refitting(len(posts))
    X = posts.drop(columns="likes")
    return walk_forward_predict(AutoTrendRegressor(), X, posts["likes"].to_numpy(dtype=np.float64), cv)


def _post_table(posts, theme, trend, probabilities=None):
    n = len(posts)
    likes = posts["likes"].to_numpy(dtype=np.float64)
    trend = np.full(n, np.nan) if trend is None else np.asarray(trend, dtype=np.float64)
    table = pd.DataFrame({"image": posts["image"].astype(str), "likes": likes})
    table["theme"] = np.full(n, -1) if theme is None else theme
    table["trend"] = trend
    with np.errstate(divide="ignore", invalid="ignore"):
        table["vs_trend"] = np.where(trend > 0, np.maximum(likes, 0.5) / trend, np.nan)
    if probabilities is not None:
        top = np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1)
        names = _eyes().imagenet_class_names()
        table["top_class"] = [names[c] if theme[i] >= 0 else None for i, c in enumerate(top)]
        table["top_probability"] = np.where(theme >= 0, probabilities[np.arange(n), top], np.nan)
    return table


def _framing(pictures, labels, per_theme=FACES_PER_THEME, random_state=0):
    """Each theme's face label: how most of its pictures frame a face, or None where they disagree.

    Faces are looked for in at most ``per_theme`` pictures of each theme,
    drawn at random: the label is a majority, which 25 pictures settle as
    well as 200 (OpenCV's cascade takes about 18 ms a picture, 12 s for
    674 pictures on one core, more than the rest of the themes together).
    """
    from ..features import ImageFeatures

    rng = np.random.default_rng(random_state)
    picked = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == k))[:per_theme] for k in range(labels.max() + 1)]
    )
    picked.sort()
    chosen = [pictures[i] for i in picked]
    found = ImageFeatures(size=FACES_SIZE, faces=True).fit(chosen).transform(chosen)[:, -2:]
    kind = np.array([framing_of(count, share) for count, share in found], dtype=object)
    labels = labels[picked]
    out = []
    for k in range(labels.max() + 1):
        members = kind[labels == k]
        with_face = members[members != "no face found"]
        if len(with_face) >= 0.6 * len(members):
            values, counts = np.unique(with_face, return_counts=True)
            out.append(f"{values[counts.argmax()]} (a face in {len(with_face) / len(members):.0%})")
        elif len(with_face) <= 0.2 * len(members):
            out.append("no face found")
        else:
            out.append(None)  # a mix: saying either would invent a label
    return out


def framing_of(count, share):
    """``close-up``, ``half body``, ``full body`` or ``no face found`` from OpenCV's largest face."""
    if count < 1:
        return "no face found"
    return next(label for floor, label in FRAMING if share >= floor)


def _names(probabilities, labels, framing):
    """Each theme's confident classes (with mean probability), framing and name."""
    names = _eyes().imagenet_class_names()
    rows = []
    for k in range(labels.max() + 1):
        mean = probabilities[labels == k].mean(axis=0)
        order = np.argsort(-mean, kind="stable")[:3]
        classes = [(names[c], round(float(mean[c]), 3)) for c in order]
        said = [n for i, (n, p) in enumerate(classes) if p >= (FIRST_CLASS if i == 0 else NEXT_CLASS)]
        said = said if classes[0][1] >= FIRST_CLASS else []
        words = [w for w in (framing[k], ", ".join(said)) if w]
        rows.append({"theme": k, "name": "; ".join(words) or None, "framing": framing[k], "classes": classes})
    return pd.DataFrame(rows)


def _empty_themes():
    return pd.DataFrame(columns=THEME_COLUMNS)
