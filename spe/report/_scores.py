"""The score table of an evaluation page: the best cell of each column, and coverage far from its target.

"Best" depends on the column: the lowest error, the highest R2, Spearman or
picture skill, and the coverage closest to the level the intervals were
made for (0.70 is not the best 80% coverage, 0.80 is). A width has no best
of its own: a narrower interval is better only when it still covers.
"""

import math
import re

import numpy as np

from ._html import _number

__all__ = ["HIGHER_IS_BETTER", "coverage_target", "far_from_target", "score_table"]

#: Metrics where a higher value is better; every other column is an error, a coverage or a width.
HIGHER_IS_BETTER = (
    "R2",
    "Spearman",
    "Spearman (all folds)",
    "picture skill",
    "picture skill low",
    "picture skill high",
    "pairwise %",
    "pairwise % low",
    "pairwise % high",
)
_COVERAGE = re.compile(r"(\d+(?:\.\d+)?)% coverage$")
_WIDTH = re.compile(r"\d+(?:\.\d+)?% width$")


def coverage_target(name):
    """The level of an ``"80% coverage"`` column (0.8), or None for any other column.

    Examples
    --------
    >>> coverage_target("80% coverage"), coverage_target("MAE")
    (0.8, None)
    """
    found = _COVERAGE.match(str(name))
    return float(found.group(1)) / 100 if found else None


def far_from_target(coverage, target, n):
    """Is ``coverage`` of ``n`` posts further from ``target`` than chance explains?

    Further than two binomial standard errors, ``2 * sqrt(t (1 - t) / n)``,
    and at least 5 points: on 100 posts, an 80% interval covering 70% is
    off; covering 76% is not.

    Examples
    --------
    >>> far_from_target(0.70, 0.8, 100), far_from_target(0.76, 0.8, 100)
    (True, False)
    """
    if coverage is None or not np.isfinite(coverage) or n < 1:
        return False
    return abs(coverage - target) > max(0.05, 2 * math.sqrt(target * (1 - target) / n))


def _best_in_column(column):
    values = column.to_numpy(dtype=float)
    if np.isnan(values).all() or _WIDTH.match(str(column.name)):
        return None
    target = coverage_target(column.name)
    if target is not None:
        return column.index[np.nanargmin(np.abs(values - target))]
    return column.index[np.nanargmax(values) if column.name in HIGHER_IS_BETTER else np.nanargmin(values)]


def _cell(value, column, best, n):
    target = coverage_target(column)
    off = target is not None and far_from_target(float(value), target, n)
    return {"text": _number(value), "best": best, "off": off, "target": f"{target:.2f}" if off else None}


def score_table(scores, best_by, n_posts):
    """The rows and cells of the score table; ``n_posts``: the posts each coverage was measured on."""
    best_row = _best_in_column(scores[best_by]) if best_by in scores else None
    best_cells = {name: _best_in_column(scores[name]) for name in scores.columns}
    rows = [
        {
            "name": str(name),
            "best": name == best_row,
            "cells": [_cell(row[c], c, best_cells[c] == name, n_posts) for c in scores.columns],
        }
        for name, row in scores.iterrows()
    ]
    coverage = [str(c) for c in scores.columns if coverage_target(c) is not None]
    return {
        "columns": [str(c) for c in scores.columns],
        "rows": rows,
        "best_by": best_by,
        "best": best_row,
        "coverage": coverage,
    }
