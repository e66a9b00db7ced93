"""Walking forward through an account: the splitter, the engine, the picture cache, the grid search.

:class:`WalkForwardSplit` owns the refit policy (how often a model is
refitted as it walks); :func:`walk_forward_predict` predicts every post
from the posts before it; :func:`precompute_pictures` decodes and measures
the pictures once for every fold; :func:`fast_grid_search` tunes a CNN's
epochs and learning rate (also importable as :mod:`spe.tuning`).
"""

from ._search import TuningResult, check_posting_order, fast_grid_search, limit_threads
from ._walk import WalkForwardSplit, picture_skill, precompute_pictures, walk_forward_predict

__all__ = [
    "TuningResult",
    "WalkForwardSplit",
    "check_posting_order",
    "fast_grid_search",
    "limit_threads",
    "picture_skill",
    "precompute_pictures",
    "walk_forward_predict",
]
