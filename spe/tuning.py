"""Fast tuning of epochs and learning rate (:func:`fast_grid_search`).

Kept for the imports of earlier releases; the code lives in
:mod:`spe.model_selection`.
"""

from .model_selection import TuningResult, fast_grid_search, limit_threads

__all__ = ["TuningResult", "fast_grid_search", "limit_threads"]
