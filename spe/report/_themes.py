"""The "What works on this account" section: picture themes as rows of thumbnails, best first."""

from pathlib import Path

import numpy as np

from .._text import visible
from ..inspection._themes import effect_words, theme_title
from ._html import Section, thumbnail_uri

__all__ = ["themes_section"]


def _thumbnail(path, max_side, caption=""):
    """A picture's thumbnail and caption; a file that cannot be read is said, not fatal."""
    out = {"file": visible(Path(str(path)).name), "uri": None, "problem": None, "caption": caption}
    try:
        out["uri"] = thumbnail_uri(path, max_side=max_side)
    except ValueError as exc:  # ImageLoadError: missing or not a picture
        out["problem"] = visible(str(exc).replace(str(Path(str(path)).parent), "…"))
    return out


def _examples(themes, members, n, max_side):
    """Up to ``n`` of a theme's posts, spread over its walked ratios (best, middle, worst)."""
    posts = themes.posts.iloc[members]
    order = posts.sort_values("vs_trend", ascending=False, na_position="last", kind="stable")
    picks = order.iloc[np.unique(np.linspace(0, len(order) - 1, min(n, len(order))).round().astype(int))]
    return [_thumbnail(row.image, max_side, _ratio_words(row)) for row in picks.itertuples()]


def _ratio_words(row):
    likes = f"{row.likes:,.0f} likes"
    return likes if not np.isfinite(row.vs_trend) else f"{likes}, {row.vs_trend - 1:+.0%} vs trend"


def themes_section(
    themes, *, heading="What works on this account", n_pictures=4, n_extremes=3, thumbnail_size=96
):
    """The page section of :func:`~spe.inspection.picture_themes`: each theme's pictures, name and effect.

    Parameters
    ----------
    themes : PictureThemes
    heading : str, default="What works on this account"
    n_pictures : int, default=4
        Thumbnails per theme.
    n_extremes : int, default=3
        Posts shown that beat the trend most, and least.
    thumbnail_size : int, default=96

    Returns
    -------
    Section
        Of kind ``themes``, for :func:`~spe.report.render_page`.

    Examples
    --------
    >>> import tempfile
    >>> from spe.datasets import make_posts
    >>> from spe.inspection import picture_themes
    >>> posts = make_posts(12, directory=tempfile.mkdtemp(), image_size=(32, 32), random_state=0)
    >>> themes_section(picture_themes(None, posts)).context["note"]
    'Themes need at least 30 posts with pictures; this account has 12.'
    """
    rows = []
    for row in themes.themes.itertuples():
        rows.append(
            {
                "title": theme_title(row),
                "named": isinstance(row.name, str) and bool(row.name),
                "classes": ", ".join(f"{name} {p:.0%}" for name, p in row.classes),
                "effect": effect_words(row),
                "stands_out": bool(row.stands_out),
                "up": bool(row.effect > 0),
                "count": f"{row.n_posts} posts ({row.n_walked} measured against the trend)",
                "pictures": _examples(themes, row.members, n_pictures, thumbnail_size),
            }
        )
    walked = themes.posts[np.isfinite(themes.posts["vs_trend"])] if len(themes.posts) else themes.posts
    order = walked.sort_values("vs_trend", ascending=False, kind="stable") if len(walked) else walked
    extremes = {
        "most": [
            _thumbnail(r.image, thumbnail_size, _ratio_words(r)) for r in order.head(n_extremes).itertuples()
        ],
        "least": [
            _thumbnail(r.image, thumbnail_size, _ratio_words(r))
            for r in order.tail(n_extremes)[::-1].itertuples()
        ],
    }
    context = {
        "note": themes.note,
        "themes": rows,
        "confidence": f"{themes.confidence:.0%}",
        "extremes": extremes if len(walked) else None,
    }
    return Section("themes", heading, context)
