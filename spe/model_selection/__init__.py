"""Walking forward through an account: the splitter, the engine, the picture cache, the grid search.

:class:`WalkForwardSplit` owns the refit policy (how often a model is
refitted as it walks); :func:`walk_forward_predict` predicts every post
from the posts before it; :func:`precompute_pictures` decodes and measures
the pictures once for every fold; :func:`shared_walks` lets a walk nested in
another predict each post once; :func:`picture_skill` and
:func:`pairwise_accuracy` measure how well a model ranks posts against
their trend; :func:`fast_grid_search` tunes a CNN's
epochs and learning rate (also importable as :mod:`spe.tuning`).
"""

from ._pictures import _PictureCache, _Table, known_pictures, precompute_pictures
from ._search import TuningResult, check_posting_order, fast_grid_search, limit_threads
from ._skill import pairwise_accuracy, picture_skill
from ._walk import WalkForwardSplit, shared_walks, walk_forward_predict

__all__ = [
    "TuningResult",
    "WalkForwardSplit",
    "check_posting_order",
    "fast_grid_search",
    "known_pictures",
    "limit_threads",
    "pairwise_accuracy",
    "picture_skill",
    "precompute_pictures",
    "shared_walks",
    "walk_forward_predict",
]

# Saved model files name each class by its public home (``spe.model_selection._PictureCache``), not the
# private module defining it, so that moving code never breaks a saved model.
# The picture cache and its table are saved inside the models that precompute pictures.
for _cls in (_PictureCache, _Table):
    _cls.__module__ = __name__
del _cls
