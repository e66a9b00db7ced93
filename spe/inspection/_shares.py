"""Reasons of an average of models: each member's contributions as shares of the log likes.

:class:`~spe.models.AveragedLikesRegressor` predicts the geometric mean of
its members' likes, so its log picture factor is the mean of theirs, and
each member's contributions enter with weight ``1 / k``. A member that
learns a log ratio gives contributions that already add up on the log
scale. A member that learns a ratio adds its contributions to a baseline,
``factor = b + sum_j c_j``; its log factor ``log(factor) - log(b)`` is
shared out among the features in proportion to ``c_j`` (exact: the shares
add up to it), and for a factor that barely moves, the share tends to
``c_j / b``. The combined contributions are then read as any log ratio's:
``exp(share) - 1``, multiplying.
"""

import numpy as np
import pandas as pd

from ..exceptions import NotExplainableError

__all__ = ["combine_shares", "log_baseline", "log_effects", "log_shares"]

_TINY = 1e-9


def log_baseline(baseline, target):
    """The log factor of the account's average picture, from an image model's intercept on ``target``."""
    baseline = float(baseline)
    if target == "log_ratio":
        return baseline
    if target == "ratio":
        return float(np.log(max(baseline, _TINY)))
    raise NotExplainableError(
        "No picture reasons: an average of models is explained on the scale of likes multiplied, and a "
        f"member whose image model learns {target!r} (likes added to the trend) has no such share."
    )


def log_shares(frame):
    """One member's contributions (from ``picture_contributions``) as additive shares of its log factor.

    Returns
    -------
    shares : DataFrame
    log_baseline : float
    """
    log_base = log_baseline(frame.attrs["baseline"], frame.attrs.get("target"))
    values = frame.to_numpy(dtype=np.float64)
    if frame.attrs["target"] == "log_ratio":
        return pd.DataFrame(np.log1p(values), index=frame.index, columns=frame.columns), log_base
    base = max(float(frame.attrs["baseline"]), _TINY)
    total = values.sum(axis=1)
    moved = np.log(np.maximum(base + total, _TINY)) - np.log(base)
    safe = np.where(np.abs(total) > _TINY, total, 1.0)
    per_unit = np.where(np.abs(total) > _TINY, moved / safe, 1.0 / base)
    return pd.DataFrame(values * per_unit[:, None], index=frame.index, columns=frame.columns), log_base


def combine_shares(frames, unit):
    """The members' contributions, weighted ``1 / k`` on the log scale and summed by feature.

    Parameters
    ----------
    frames : list of DataFrame
        Each member's ``picture_contributions``, same rows.
    unit : str
        The unit the result is read in (fractions of the trend, multiplying).

    Returns
    -------
    DataFrame
        ``exp(mean share) - 1`` per feature, ``attrs`` as a log ratio's.
    """
    k = len(frames)
    shares, baseline = [], 0.0
    for frame in frames:
        share, log_base = log_shares(frame)
        shares.append(share / k)
        baseline += log_base / k
    # A feature two members read (image features in both) is one reason: its shares add up.
    total = pd.concat(shares, axis=1).T.groupby(level=0, sort=False).sum().T
    out = np.expm1(total)
    out.attrs.update(target="log_ratio", unit=unit, baseline=baseline)
    return out


def log_effects(importance, k):
    """One member's ``feature_importance`` rows with its effects as ``1 / k`` of the mean's log factor.

    A ratio member's coefficient ``c`` (per standard deviation, from the
    average picture's factor ``b``) moves its log factor by ``log1p(c / b)``.
    """
    log_base = log_baseline(importance.attrs["baseline"], importance.attrs.get("target"))
    coef = importance["coefficient"].to_numpy(dtype=np.float64)
    if importance.attrs["target"] == "ratio":
        coef = coef / max(float(importance.attrs["baseline"]), _TINY)
    out = importance.assign(coefficient=np.expm1(np.log1p(np.maximum(coef, -1 + _TINY)) / k))
    return out, log_base / k
