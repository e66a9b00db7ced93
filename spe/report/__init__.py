"""Report pages: the sections and pages of an evaluation, a grid search and a ranking.

:func:`evaluation_page`, :func:`tuning_page` and :func:`prediction_page`
write the page of one report; :func:`render_page` puts several sections on
one page, as ``spe demo`` does. A new page kind is one more ``*_section``
function in ``_pages`` and one more ``templates/_<kind>.html``; the page
primitives (:class:`Section`, :func:`render_page`, :func:`text_section`,
:func:`figure_uri`, :func:`thumbnail_uri`) live in ``_html``.
"""

from ._pages import (
    Section,
    evaluation_page,
    evaluation_section,
    figure_uri,
    prediction_page,
    prediction_section,
    render_page,
    text_section,
    thumbnail_uri,
    tuning_page,
    tuning_section,
)

__all__ = [
    "Section",
    "evaluation_page",
    "evaluation_section",
    "figure_uri",
    "prediction_page",
    "prediction_section",
    "render_page",
    "text_section",
    "thumbnail_uri",
    "tuning_page",
    "tuning_section",
]
