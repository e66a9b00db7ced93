"""Choosing lambda, the exponent of the picture factor: folds whose fits a walk keeps.

:class:`~spe.LikesRegressor` chooses lambda from the image model walked
forward over the later half of its training posts. Its folds end at
multiples of a power-of-two step (as :meth:`~spe.model_selection.WalkForwardSplit.refitting`
places its refits), not at fractions of the posts: a walk that refits the
model at every post then meets the same folds again, fitted on the same
posts and the same targets, and the running walk's session keeps them
(:func:`~spe.model_selection.shared_walks`). A model fitted alone computes
every fold itself: the same predictions, bit for bit.
"""

import math
from functools import partial
from numbers import Real

import numpy as np

from .._tree import clone
from ..model_selection._pictures import precompute_pictures
from ..model_selection._shared import keep, take
from ..model_selection._walk import shared_key

__all__ = ["SHRINK", "check_shrink", "fold_starts", "walked_output"]

#: The default grid of ``shrink``: 0 (every picture the same) is left out, so the ranking is kept.
SHRINK = (0.1, 0.25, 0.5, 0.75, 1.0)


def check_shrink(shrink):
    """``shrink`` as a sorted array of values in [0, 1], or a clear error naming it."""
    values = np.atleast_1d(np.asarray(shrink, dtype=object))
    if values.size == 0:
        raise ValueError(
            "LikesRegressor parameter 'shrink' (the lambda grid) is empty; e.g. (0.25, 0.5, 1.0)."
        )
    if not all(isinstance(v, Real) and not isinstance(v, bool) and 0 <= v <= 1 for v in values):
        raise ValueError(
            f"LikesRegressor parameter 'shrink' (lambda) must be numbers in [0, 1], got {shrink!r}."
        )
    return np.sort(values.astype(np.float64))


def fold_starts(n_rows, n_splits):
    """Where each fold's predicted block starts (its training set ends), over the later half of ``n_rows``.

    The step is the power of two nearest ``n_rows / (2 * n_splits)``, so
    there are about ``n_splits`` folds, and the starts are its multiples
    from the last one at or before half the rows: one more row adds a start
    now and then and moves none until the step doubles (then every other
    one stays).

    Examples
    --------
    >>> fold_starts(150, 5)
    [64, 80, 96, 112, 128, 144]
    >>> fold_starts(151, 5)
    [64, 80, 96, 112, 128, 144]
    """
    spread = n_rows / (2 * n_splits)
    step = 2 ** round(math.log2(spread)) if spread > 1 else 1
    # From at or before the half (at most a step before): on 10 synthetic accounts of each kind
    # (bench_skill's faint and realistic rows) this shrank as well as the earlier folds of equal
    # size over at most the later half, where starting after the half did a little worse.
    first = max(step, step * (n_rows // (2 * step)))
    return list(range(first, n_rows, step))


def walked_output(image_model, X, y, rows, targets, n_splits):
    """The image model's output for the later half of ``rows``, each block from the posts before it.

    Parameters
    ----------
    image_model : regressor
        Unfitted; each fold fits a clone (its pictures featurized once).
    X : DataFrame
        The training posts.
    y : ndarray of shape (n_samples,)
        Their likes (with ``X``, what the walk's session checks its posts by).
    rows : ndarray of int
        The posts the image model learns from, in posting order.
    targets : ndarray of shape (len(rows),)
        What it learns for each of them.
    n_splits : int
        About how many folds.

    Returns
    -------
    walked : ndarray of int
        The predicted posts (rows of ``X``).
    output : ndarray of float
        The image model's output for them.
    """
    starts = fold_starts(len(rows), n_splits)
    # Kept by what makes them the same: the model, the posts it learned from and its targets
    # (a trend chosen again can change the targets of earlier posts: then nothing is shared).
    key = shared_key(image_model)
    prepared = {}
    output = []
    for start, stop in zip(starts, [*starts[1:], len(rows)]):
        fold = None if key is None else (key, rows[:start].tobytes(), targets[:start].tobytes())
        fit = partial(_fit_fold, prepared, image_model, X, rows[:start], targets[:start])
        model = partial(keep, fold, X, y, fit)
        block = None if fold is None else (*fold, rows[start:stop].tobytes())
        output.append(keep(block, X, y, partial(_predict_block, model, X, rows[start:stop])))
    return rows[starts[0] :], np.concatenate(output)


def _fit_fold(prepared, image_model, X, train, targets):
    if not prepared:  # featurized once per fit, and only when a fold is fitted at all
        prepared["model"] = precompute_pictures(image_model, X)
    return clone(prepared["model"]).fit(take(X, train), targets)


def _predict_block(model, X, block):
    # The whole block in one call, with or without a session (a batch can round differently from rows).
    return np.asarray(model().predict(take(X, block)), dtype=np.float64).ravel()
