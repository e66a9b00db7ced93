"""An account's picture themes as data: what they are, in words, and as plain data for a model folder.

:class:`PictureThemes` is what :func:`~spe.inspection.picture_themes` finds
and what a model folder keeps of it (no picture paths).

``spe fit`` saves them beside the model (:func:`spe.persistence.save_model`'s
``themes``) so that ``spe predict`` can say which theme a candidate joins
and which past posts it is closest to without the account's pictures.
The data holds numbers, short strings and arrays only (a skops file of
builtin types and numpy arrays, nothing to construct): the projection's
mean and components, the themes' centres, each post's position, likes,
walked trend and top class, and each theme's name and effect. Pictures
are named by file name, never by folder. A folder is data from a
stranger, so :func:`themes_from_data` checks every key, type and shape
and says in one line what is wrong.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["PictureThemes", "Projection", "effect_words", "theme_title", "themes_from_data", "themes_to_data"]

#: The columns of :attr:`PictureThemes.themes`.
THEME_COLUMNS = (
    "theme name framing classes n_posts n_walked vs_trend effect low high stands_out members".split()
)


@dataclass
class PictureThemes:
    """An account's picture themes, as :func:`picture_themes` returns them.

    Attributes
    ----------
    themes : DataFrame
        One row per theme, best effect first: ``theme`` (its number),
        ``name`` (None where nothing can be said with confidence),
        ``framing`` (the face label, or None), ``classes`` (top ImageNet
        classes with their mean probability), ``n_posts``, ``n_walked``
        (posts with a walked trend), ``vs_trend`` (geometric mean of
        likes / walked trend, minus 1), ``effect``, ``low``, ``high``
        (against the account's other posts, see :func:`picture_themes`),
        ``stands_out`` and ``members`` (row positions in ``posts``).
    posts : DataFrame
        One row per post, in ``posts``' order: ``image``, ``likes``,
        ``theme`` (-1 for a picture that could not be embedded), ``trend``
        (walked, NaN for the first stretch), ``vs_trend`` (likes / trend),
        ``top_class`` and ``top_probability``.
    confidence : float
        Family-wise: all the themes' intervals hold together with it.
    note : str or None
        One line when something kept themes from being found or a picture out.
    embedder, projection, centroids, positions, settings
        What places new pictures among the themes (:func:`~spe.inspection.theme_of`):
        the backbone (None when read back from a model folder; ``settings``
        then names its ``backbone``, ``size`` and ``flip``), the
        :class:`Projection` into the themes' space, each theme's centre
        and each post's position there.
    """

    themes: pd.DataFrame
    posts: pd.DataFrame
    confidence: float = 0.9
    note: str | None = None
    embedder: object = field(default=None, repr=False)
    projection: object = field(default=None, repr=False)
    centroids: np.ndarray | None = field(default=None, repr=False)
    positions: np.ndarray | None = field(default=None, repr=False)
    settings: dict | None = field(default=None, repr=False)

    def lines(self):
        """The themes in words, best first, one line each (or the note alone).

        Returns
        -------
        list of str
        """
        out = [self.note] if self.note else []
        for row in self.themes.itertuples():
            out.append(f"theme {row.theme}: {theme_title(row)}, {row.n_posts} posts: {effect_words(row)}")
        return out

    def __str__(self):
        return "\n".join(self.lines())

    def to_data(self):
        """The themes as builtin values and arrays, for a model folder (None without themes).

        No picture's folder is kept, only its file name (:func:`themes_to_data`).
        """
        return themes_to_data(self)

    @classmethod
    def from_data(cls, data, source="themes"):
        """The themes :meth:`to_data` gave, each key, type and shape checked (errors name ``source``)."""
        return themes_from_data(data, source)


def theme_title(row):
    """A theme's name, or what it is shown by when it has none."""
    return row.name if isinstance(row.name, str) and row.name else "no confident name (see its pictures)"


def effect_words(row):
    """``+13% vs the other posts (90% interval +10% to +17%)``, or "no different from the rest"."""
    if not np.isfinite(row.effect):
        return "too few walked posts to measure"
    span = f"interval {row.low:+.0%} to {row.high:+.0%}"
    if not row.stands_out:
        return f"no different from the rest ({row.effect:+.0%}, {span})"
    return f"{row.effect:+.0%} against the other posts ({span})"


class Projection:
    """Unit length, then the principal components: the space the themes live in.

    Plain arrays (``mean``, ``components``: a fitted PCA's ``mean_`` and
    ``components_``), so a model folder can keep it as data.
    """

    def __init__(self, mean, components):
        self.mean, self.components = mean, components

    def transform(self, embeddings):
        """``embeddings`` (n, n_features) in the themes' space (n, n_components)."""
        # On the sphere: the pooled features' length follows contrast and size, not the subject.
        unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        return (unit - self.mean) @ self.components.T  # PCA.transform, not whitened


FORMAT = 1
_THEME_TEXT = ("name", "framing")
_THEME_NUMBERS = ("n_posts", "n_walked", "vs_trend", "effect", "low", "high")
_POST_NUMBERS = ("likes", "trend", "vs_trend", "top_probability")
_MAX_THEMES, _MAX_POSTS, _MAX_TEXT = 64, 1_000_000, 200


def themes_to_data(themes):
    """``themes`` as a dict of builtin values and numpy arrays (``None`` when it holds no themes).

    Parameters
    ----------
    themes : PictureThemes

    Returns
    -------
    dict or None
    """
    if themes.centroids is None or themes.settings is None:
        return None
    table, posts = themes.themes, themes.posts
    return {
        "format": FORMAT,
        "settings": dict(themes.settings),
        "confidence": float(themes.confidence),
        "mean": np.asarray(themes.projection.mean, dtype=np.float64),
        "components": np.asarray(themes.projection.components, dtype=np.float64),
        "centroids": np.asarray(themes.centroids, dtype=np.float64),
        "positions": np.asarray(themes.positions, dtype=np.float64),
        "themes": {
            "theme": table["theme"].to_numpy(dtype=np.int64),
            **{key: [v if isinstance(v, str) else None for v in table[key]] for key in _THEME_TEXT},
            "classes": [[[str(n), float(p)] for n, p in classes] for classes in table["classes"]],
            **{key: table[key].to_numpy(dtype=np.float64) for key in _THEME_NUMBERS},
            "stands_out": table["stands_out"].to_numpy(dtype=bool),
        },
        "posts": {
            # The file's name only: a model folder may be shared, the folders it came from are private.
            "image": [str(v).replace("\\", "/").rsplit("/", 1)[-1] for v in posts["image"]],
            "theme": posts["theme"].to_numpy(dtype=np.int64),
            "top_class": [
                v if isinstance(v, str) else None for v in posts.get("top_class", [None] * len(posts))
            ],
            **{key: posts[key].to_numpy(dtype=np.float64) for key in _POST_NUMBERS if key in posts},
        },
    }


def themes_from_data(data, source="themes"):
    """The :class:`PictureThemes` saved by :func:`themes_to_data`, every part checked.

    Parameters
    ----------
    data : dict
    source : str, default="themes"
        What to name in an error (the file).

    Returns
    -------
    PictureThemes
        Without its embedder: ``settings`` names the backbone.

    Raises
    ------
    ValueError
        One line naming ``source`` and what is wrong.
    """
    check = _Checker(source)
    check.that(isinstance(data, dict) and data.get("format") == FORMAT, f"not spe's themes (format {FORMAT})")
    settings = check.settings(data.get("settings"))
    mean = check.array(data, "mean", 1)
    components = check.array(data, "components", 2, columns=len(mean))
    centroids = check.array(data, "centroids", 2, columns=len(components), most=_MAX_THEMES)
    positions = check.array(data, "positions", 2, columns=len(components), most=_MAX_POSTS, nan=True)
    themes = check.table(data.get("themes"), "themes", len(centroids))
    posts = check.table(data.get("posts"), "posts", len(positions))
    check.that(sorted(themes["theme"]) == list(range(len(centroids))), "themes are not numbered 0 to k - 1")
    check.that(posts["theme"].between(-1, len(centroids) - 1).all(), "a post names a theme that is not there")
    themes["members"] = [np.flatnonzero(posts["theme"].to_numpy() == k).tolist() for k in themes["theme"]]
    confidence = data.get("confidence")
    check.that(isinstance(confidence, float) and 0 < confidence < 1, "'confidence' is not between 0 and 1")
    projection = Projection(mean, components)
    return PictureThemes(themes, posts, confidence, None, None, projection, centroids, positions, settings)


class _Checker:
    """One-line errors naming the file, for :func:`themes_from_data`."""

    def __init__(self, source):
        self.source = source

    def that(self, ok, what):
        if not ok:
            raise ValueError(f"{self.source}: {what}; fit the model again to save its themes")

    def settings(self, value):
        from ..features._embedder import WHEELS  # imports Keras: only when themes are read

        self.that(isinstance(value, dict), "no backbone settings")
        size = value.get("size")
        self.that(value.get("backbone") in WHEELS, f"unknown backbone {value.get('backbone')!r}")
        self.that(
            isinstance(size, list)
            and len(size) == 2
            and all(type(v) is int and 32 <= v <= 1024 for v in size),
            "the backbone's picture size is not two whole numbers from 32 to 1024",
        )
        self.that(isinstance(value.get("flip"), bool), "'flip' is not True or False")
        return {"backbone": value["backbone"], "size": size, "flip": value["flip"]}

    def array(self, data, key, ndim, *, columns=None, most=None, nan=False):
        value = data.get(key)
        self.that(
            isinstance(value, np.ndarray) and value.ndim == ndim and value.dtype == np.float64,
            f"{key!r} is not a {ndim}-d array of floats",
        )
        self.that(columns is None or value.shape[1] == columns, f"{key!r} has {value.shape[-1]} columns")
        self.that(most is None or 0 < len(value) <= most, f"{key!r} has {len(value)} rows")
        self.that(nan or np.isfinite(value).all(), f"{key!r} holds values that are not finite")
        return value

    def table(self, value, key, rows):
        self.that(isinstance(value, dict) and value, f"{key!r} is not a table")
        columns = {}
        for name, column in value.items():
            if isinstance(column, np.ndarray):
                self.that(column.ndim == 1 and column.dtype.kind in "biuf", f"{key}[{name!r}] is not numbers")
            else:
                self.that(isinstance(column, list), f"{key}[{name!r}] is not a list")
                self.that(all(_plain(v) for v in column), f"{key}[{name!r}] holds something else than text")
            self.that(len(column) == rows, f"{key}[{name!r}] has {len(column)} rows for {rows}")
            columns[name] = column
        needed = {"themes": {"theme", "classes", "stands_out", *_THEME_TEXT, *_THEME_NUMBERS}}.get(
            key, {"image", "theme", "likes", "vs_trend"}
        )
        self.that(needed <= set(columns), f"{key!r} lacks {sorted(needed - set(columns))}")
        table = pd.DataFrame(columns)
        if key == "themes":
            table["classes"] = [[(str(n), float(p)) for n, p in _pairs(self, c)] for c in table["classes"]]
        return table


def _plain(value):
    """None, a short text, or classes as [[name, probability], ...]."""
    if value is None:
        return True
    if isinstance(value, str):
        return len(value) <= _MAX_TEXT
    if isinstance(value, list):
        return len(value) <= 10 and all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], float)
            for p in value
        )
    return False


def _pairs(check, classes):
    check.that(isinstance(classes, list), "a theme's classes are not a list")
    return classes
