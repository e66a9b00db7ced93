"""The conformal arithmetic of spe's intervals: crepes' calibration, read at a level that adapts.

Split-conformal prediction (through :class:`crepes.ConformalRegressor`)
turns the residuals of earlier posts into an interval for the next one.
Accounts drift: a level shift, a run of spikes or a noisier spell makes the
errors of the posts before a post a poor guide to its own. The level the
calibration is read at therefore adapts, after every post, to whether the
post fell outside its interval: adaptive conformal inference (Gibbs and
Candes, "Adaptive conformal inference under distribution shift", NeurIPS
2021), ``alpha_{t+1} = alpha_t + aci_step * (alpha - missed_t)`` with
``alpha = 1 - confidence``. A miss widens the next intervals, a hit narrows
them a little, and over the long run the share of misses is ``alpha`` even
when the errors drift. The residuals and their quantiles stay crepes'; the
update, a few lines, is written here: crepes' online calibration keeps one
fixed level, and MAPIE's ``TimeSeriesRegressor`` (``method="aci"``)
computes its scores by calling its own fitted estimator on ``X``, where spe
has walk-forward residuals of models refitted along the walk, scaled by a
separate trend.
"""

import math
from numbers import Real

import numpy as np

__all__ = [
    "ACI_STEP",
    "adapt",
    "calibrate",
    "check_aci_step",
    "check_confidence",
    "half_width",
    "interval",
    "posts_needed",
    "sigmas",
]


def check_confidence(confidence, name="confidence"):
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < confidence < 1:
        raise ValueError(f"Parameter {name!r} must be a float in (0, 1), e.g. 0.8; got {confidence!r}.")
    return float(confidence)


def posts_needed(confidence):
    """Fewest calibration residuals for which crepes gives a finite ``confidence`` interval.

    crepes takes the ``int((1 - confidence) * (n + 1))``-th largest
    residual, so below this count the interval is unbounded.

    Parameters
    ----------
    confidence : float in (0, 1)

    Returns
    -------
    int

    Examples
    --------
    >>> from spe.models._conformal import posts_needed
    >>> posts_needed(0.8), posts_needed(0.95)
    (5, 19)
    """
    n = max(1, math.ceil(1 / (1 - confidence)) - 1)
    while int((1 - confidence) * (n + 1)) < 1:  # crepes' own float arithmetic
        n += 1
    return n


def sigmas(scale):
    # Difficulty of a post: the account's level (errors grow with the account).
    return np.maximum(np.asarray(scale, dtype=np.float64), 1.0)


def calibrate(residuals, scale=None):
    from crepes import ConformalRegressor  # imported on use: crepes takes a second to import

    return ConformalRegressor().fit(residuals, sigmas=None if scale is None else sigmas(scale))


def half_width(conformal, scale, confidence):
    """Half the interval's width at ``confidence``, per post: crepes' score, kept finite.

    crepes reads the ``int((1 - confidence) * (n + 1))``-th largest of its
    ``n`` scores: above the highest level they support it gives unbounded
    intervals, below the lowest it has no score to read. An adapted level
    can wander there; it then gets the largest (or the smallest) score.
    """
    scores = conformal.alphas  # descending
    index = int((1 - confidence) * (len(scores) + 1)) - 1  # crepes' own arithmetic (predict_int)
    score = scores[min(max(index, 0), len(scores) - 1)]
    return score * sigmas(scale) if conformal.normalized else np.full(len(scale), score)


def interval(conformal, predicted, scale, confidence):
    predicted = np.asarray(predicted, dtype=np.float64)
    half = half_width(conformal, predicted if scale is None else scale, confidence)
    return np.column_stack([np.maximum(predicted - half, 0.0), predicted + half])


#: Default step size of adaptive conformal inference (see :func:`spe.walk_forward_intervals`).
ACI_STEP = 0.05


def check_aci_step(aci_step):
    if aci_step is None:
        return None
    if isinstance(aci_step, bool) or not isinstance(aci_step, Real) or not 0 < aci_step <= 1:
        raise ValueError(
            f"Parameter 'aci_step' must be a float in (0, 1], e.g. {ACI_STEP}, or None (no adaptation); "
            f"got {aci_step!r}."
        )
    return float(aci_step)


def adapt(residuals, scale, confidence, aci_step, start, level=None):
    """Walk adaptive conformal inference over posts ``start ..``, each calibrated on the posts before it.

    Returns the intervals' half-widths in likes (NaN before ``start``), the
    level each was read at, and the level for the next post (``level``:
    where the walk starts; ``None``, ``confidence``). ``aci_step=None``
    keeps ``confidence`` throughout: plain split-conformal intervals.
    """
    level = confidence if level is None else level
    half, levels = np.full(len(residuals), np.nan), np.full(len(residuals), np.nan)
    for i in range(start, len(residuals)):
        conformal = calibrate(residuals[:i], None if scale is None else scale[:i])
        half[i] = half_width(conformal, np.ones(1) if scale is None else scale[i : i + 1], level)[0]
        levels[i] = level
        if aci_step is not None:
            # Gibbs and Candes (2021), alpha_{t+1} = alpha_t + step * (alpha - missed_t), on 1 - alpha.
            # Likes are never negative, so the floor at 0 never turns a miss into a hit.
            level += aci_step * ((abs(residuals[i]) > half[i]) - (1 - confidence))
    return half, levels, level
