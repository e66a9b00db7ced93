"""Page-rendering primitives: sections, embedded figures and thumbnails, the HTML page.

A page is a list of :class:`Section` rendered by the Jinja2 templates in
``spe/report/templates/`` (autoescaped, so file names, captions, model names and
notes from the data are shown as text, never run as HTML). Figures and
pictures are embedded as base64 data URIs: the page needs no network, no
other file and no JavaScript.

The page builders of each report live in :mod:`spe.report`, which
re-exports these names; this module never imports it.
"""

import base64
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .._text import visible


@dataclass
class Section:
    """One part of a page: a heading, what its template ``_<kind>.html`` shows, and figures.

    Attributes
    ----------
    kind : str
        The template, ``templates/_<kind>.html``.
    heading : str
    context : dict
        What the template reads.
    figures : list of dict
        ``{"caption": str, "uri": str}``, drawn after the section's text.

    Examples
    --------
    >>> Section("text", "Notes", {"paragraphs": ["a <b>"]}).kind
    'text'
    """

    kind: str
    heading: str
    context: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)


def figure_uri(figure):
    """A figure as a ``data:image/png;base64,...`` URI.

    Parameters
    ----------
    figure : matplotlib Figure, path-like or bytes
        A figure (saved as PNG at 100 dpi), or a picture file or its bytes
        (PNG kept as it is, anything else converted to PNG).

    Returns
    -------
    str

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> figure_uri(fig)[:22]
    'data:image/png;base64,'
    """
    if hasattr(figure, "savefig"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        data = buffer.getvalue()
    else:
        data = figure if isinstance(figure, bytes) else Path(figure).read_bytes()
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            from PIL import Image

            buffer = io.BytesIO()
            Image.open(io.BytesIO(data)).save(buffer, format="PNG")
            data = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def thumbnail_uri(path, max_side=128, quality=80):
    """A small JPEG of a picture as a ``data:image/jpeg;base64,...`` URI.

    The page carries the thumbnail itself, never a link to the user's file.

    Parameters
    ----------
    path : path-like
        A picture Pillow can read.
    max_side : int, default=128
        Longest side of the thumbnail in pixels (aspect ratio kept; never
        enlarged).
    quality : int, default=80
        JPEG quality.

    Returns
    -------
    str

    Raises
    ------
    ImageLoadError
        If the file is missing or not a picture; the message names it.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> path = tempfile.mkdtemp() + "/p.png"
    >>> Image.new("RGB", (640, 480), "teal").save(path)
    >>> thumbnail_uri(path)[:23]
    'data:image/jpeg;base64,'
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    from .._files import open_picture
    from ..exceptions import ImageLoadError

    try:
        # as spe decodes pictures: regular files, spe's formats, bounded size
        with open_picture(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((max_side, max_side))
    except FileNotFoundError:
        raise ImageLoadError(f"Image file not found: {path}") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise ImageLoadError(f"Cannot make a thumbnail of {path}: {exc}") from None
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(figures):
    items = figures.items() if isinstance(figures, dict) else (figures or [])
    return [{"caption": str(caption), "uri": figure_uri(figure)} for caption, figure in items]


def _number(value):
    if value is None or pd.isna(value):
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def _picture(posts, position, max_side):
    """File name, caption and thumbnail of one post; a missing picture is said, not fatal."""
    row = posts.iloc[position]
    image = row.get("image")
    caption = row.get("caption")
    # visible: a name's bytes that are not UTF-8 (or control characters) are shown, not written raw
    name = visible(Path(image).name) if isinstance(image, str) else ""
    out = {"file": name, "uri": None, "problem": None}
    out["caption"] = str(caption)[:140] if isinstance(caption, str) else ""
    if isinstance(image, str):
        try:
            out["uri"] = thumbnail_uri(image, max_side=max_side)
        except ValueError as exc:
            out["problem"] = visible(str(exc).replace(str(Path(image).parent), "…"))
    return out


def text_section(heading, paragraphs, *, pictures=None, figures=None, thumbnail_size=160):
    """A section of words, with pictures from the user's folder as thumbnails.

    Parameters
    ----------
    heading : str
    paragraphs : list of str
    pictures : dict of str to path-like, default=None
        Caption to picture file, embedded as thumbnails.
    figures : dict of str to figure, default=None
    thumbnail_size : int, default=160

    Returns
    -------
    Section

    Examples
    --------
    >>> text_section("Next post", ["Predicted 120 likes."]).context["paragraphs"]
    ['Predicted 120 likes.']
    """
    shown = [
        {"caption": str(c), "uri": thumbnail_uri(p, thumbnail_size)} for c, p in (pictures or {}).items()
    ]
    context = {"paragraphs": [str(p) for p in paragraphs], "pictures": shown}
    return Section("text", heading, context, _figures(figures))


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("spe.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(sections, *, title, subtitle=None, path=None):
    """Render sections as one self-contained HTML page.

    Parameters
    ----------
    sections : list of Section
        From :func:`~spe.report.evaluation_section`,
        :func:`~spe.report.tuning_section`, :func:`text_section`.
    title : str
    subtitle : str, default=None
    path : path-like, default=None
        Where to write the page (UTF-8).

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> html = render_page([text_section("Hello", ["<b> stays text"])], title="A page")
    >>> "&lt;b&gt; stays text" in html
    True
    """
    from .. import __version__

    anchors = [
        re.sub(r"[^a-z0-9]+", "-", f"part {i} {s.heading}".lower()).strip("-") for i, s in enumerate(sections)
    ]
    html = (
        _environment()
        .get_template("page.html")
        .render(
            title=title,
            subtitle=subtitle,
            sections=list(zip(anchors, sections)),
            version=__version__,
            generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    if path is not None:
        Path(path).write_text(html, encoding="utf-8")
    return html
