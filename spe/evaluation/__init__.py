"""Honest evaluation: cross-validated scores beside the baselines a person has.

One picture's error proves nothing. :func:`evaluate` cross-validates a
model and two baselines on the same folds, by default walking forward
(every post predicted from all the posts before it), and reports six
metrics for each side by side in an :class:`EvaluationReport`.

The metrics, protocols and :func:`evaluate` live in ``_evaluate``, the
report object in ``_report``. The walk-forward machinery
(:class:`WalkForwardSplit`, :func:`walk_forward_predict`,
:func:`precompute_pictures`, :func:`picture_skill`) lives in
:mod:`spe.model_selection` and :func:`candidates` in :mod:`spe.models`;
both are re-exported here, as before.
"""

from ..model_selection import WalkForwardSplit, picture_skill, precompute_pictures, walk_forward_predict
from ..models import candidates
from ._evaluate import (
    METRICS,  # noqa: F401 (importable, as before)
    PROTOCOLS,  # noqa: F401
    evaluate,
    make_cv,
    median_absolute_percentage_error,
    spearman_score,
    spearman_scorer,
)
from ._progress import EvaluationProgress
from ._report import EvaluationReport

__all__ = [
    "EvaluationProgress",
    "EvaluationReport",
    "WalkForwardSplit",
    "candidates",
    "evaluate",
    "make_cv",
    "median_absolute_percentage_error",
    "picture_skill",
    "precompute_pictures",
    "spearman_score",
    "spearman_scorer",
    "walk_forward_predict",
]
