"""Picture skill: how well a model ranks posts once the trend is taken out, with a block bootstrap.

A model that never sees a picture can still correlate with the actual
likes-to-trend ratio: when the reference trend overshoots after a viral
post, any smoother prediction (the mean of all likes, a longer average)
divided by that trend is low exactly when the actual ratio is low. So the
picture part is measured against a control that keeps everything but the
pictures:

- the predicted and actual log likes-to-trend ratios are compared only
  between posts of the same stretch (``stretch`` consecutive walked
  posts), where the account's level barely moves;
- within the stretches, both ratios are first cleared of what the trend
  itself explains (a partial correlation given the log trend, with one
  slope for the whole account), so that a prediction that is a function
  of the trend alone scores zero;
- the intervals resample whole stretches (a non-overlapping block
  bootstrap), since neighbouring posts are correlated and resampling
  single posts gives too narrow an interval; with the few stretches of a
  personal account the percentiles are widened by the small-sample
  factor of cluster-robust intervals (``sqrt(B / (B - 1))``, and Student's
  t with ``B - 1`` degrees of freedom in place of the normal).

:func:`pairwise_accuracy` is the same count read as a person would: of
two posts of the same stretch, how often the one the model preferred got
more likes relative to the trend (chance is 50%). :func:`picture_skill`
is ``2 * accuracy - 1`` (Kendall's tau over those pairs), with the same
interval.

Predictions alone cannot tell a picture from any other knowledge: the
history of likes can predict where the trend errs, and a model that
reads only that history can still score above 0 (far less often than
with the ratios' Spearman correlation). So the callers give models that
never see a picture no skill at all (``n/a``; see
:func:`spe.evaluation.evaluate`).
"""

from numbers import Integral, Real

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t
from sklearn.utils import check_random_state, check_scalar

__all__ = ["pairwise_accuracy", "picture_skill"]

#: Walked posts per stretch: pairs are only formed inside one.
STRETCH = 10
#: Stretches needed for an interval (fewer: the bootstrap has nothing to vary).
MIN_STRETCHES = 3


def _clear_of_trend(values, log_trend, group):
    """``values`` minus their stretch mean and what the log trend explains inside stretches."""
    sums = np.bincount(group, weights=values) / np.bincount(group)
    centred = values - sums[group]
    spread = np.sum(log_trend**2)
    if spread <= 1e-12:
        return centred
    return centred - (np.sum(centred * log_trend) / spread) * log_trend


def _stretch_counts(actual, predicted, trend, stretch):
    """Per stretch: concordant minus discordant pairs, and pairs; None when nothing can be ranked."""
    actual, predicted, trend = (np.asarray(v, dtype=np.float64).ravel() for v in (actual, predicted, trend))
    if not len(actual) == len(predicted) == len(trend):
        raise ValueError(
            f"actual, predicted and trend must have the same length, got {len(actual)}, "
            f"{len(predicted)} and {len(trend)}"
        )
    check_scalar(stretch, "stretch", Integral, min_val=2)
    keep = np.isfinite(actual) & np.isfinite(predicted) & np.isfinite(trend)
    actual, predicted, trend = actual[keep], predicted[keep], trend[keep]
    if len(actual) < 3:
        return None
    base = np.log1p(np.maximum(trend, 0.0))
    a = np.log1p(np.maximum(actual, 0.0)) - base
    x = np.log1p(np.maximum(predicted, 0.0)) - base
    group = np.arange(len(a)) // stretch
    means = np.bincount(group, weights=base) / np.bincount(group)
    log_trend = base - means[group]
    ra = _clear_of_trend(a, log_trend, group)
    rx = _clear_of_trend(x, log_trend, group)
    # A prediction the trend explains entirely has no picture part to rank with.
    if np.ptp(rx) <= 1e-9 * max(1.0, np.abs(x).max()) or np.ptp(ra) == 0:
        return None
    i, j = np.triu_indices(stretch, k=1)
    n_groups = group[-1] + 1
    padded = n_groups * stretch
    px, pa = np.full(padded, np.nan), np.full(padded, np.nan)
    px[: len(rx)], pa[: len(ra)] = rx, ra
    px, pa = px.reshape(n_groups, stretch), pa.reshape(n_groups, stretch)
    sign = np.sign(px[:, i] - px[:, j]) * np.sign(pa[:, i] - pa[:, j])
    valid = ~np.isnan(sign)
    score = np.where(valid, sign, 0.0).sum(axis=1)  # ties count half a pair either way
    return score, valid.sum(axis=1).astype(np.float64)


def _skill_interval(counts, n_resamples, confidence_level, random_state):
    score, pairs = counts
    if pairs.sum() == 0:
        return np.nan, np.nan, np.nan
    tau = score.sum() / pairs.sum()
    if np.count_nonzero(pairs) < MIN_STRETCHES:
        return float(tau), np.nan, np.nan  # too few blocks to resample: no interval, so no skill claimed
    rng = check_random_state(random_state)
    n_blocks = len(score)
    draws = rng.randint(0, n_blocks, size=(n_resamples, n_blocks))
    taus = score[draws].sum(axis=1) / np.maximum(pairs[draws].sum(axis=1), 1.0)
    tail = (1 - confidence_level) / 2
    # Few blocks (10 to 20 on a personal account): the bootstrap's spread is (B - 1) / B of the
    # variance's usual estimate, and its percentiles ignore that the spread itself is estimated
    # from B blocks. Widened as cluster-robust intervals are (Cameron and Miller 2015: the
    # CR1 factor and a t reference with B - 1 degrees of freedom); plain percentiles excluded
    # 0 on 3 of 20 null accounts at a nominal 1 in 20.
    widen = np.sqrt(n_blocks / (n_blocks - 1)) * student_t.ppf(1 - tail, n_blocks - 1) / norm.ppf(1 - tail)
    low, high = tau + widen * (np.percentile(taus, [100 * tail, 100 * (1 - tail)]) - tau)
    return float(tau), float(max(low, -1.0)), float(min(high, 1.0))


def _check(n_resamples, confidence_level):
    check_scalar(n_resamples, "n_resamples", Integral, min_val=1)
    check_scalar(
        confidence_level, "confidence_level", Real, min_val=0, max_val=1, include_boundaries="neither"
    )


def picture_skill(
    actual,
    predicted,
    trend,
    *,
    against=None,
    stretch=STRETCH,
    n_resamples=1000,
    confidence_level=0.95,
    random_state=0,
):
    """How well a model ranks posts against their trend, beyond what the trend explains.

    Kendall's tau between the predicted and the actual log likes-to-trend
    ratios over pairs of posts of the same stretch, both ratios cleared
    of the log trend first, with a block bootstrap interval over
    stretches (see the module notes). Near zero: the model's picture part
    knows nothing the trend does not. A smooth prediction (the mean of all
    likes) no longer earns skill from a jumpy trend's overshoots; what
    history alone predicts beyond the trend can still show, so a model
    that never sees a picture is best given none (as
    :func:`~spe.evaluation.evaluate` does).

    Parameters
    ----------
    actual, predicted, trend : array-like of shape (n_samples,)
        Held-out likes in posting order, a model's predictions and the
        trend's predictions of the same posts.
    against : array-like of shape (n_samples,), default=None
        Another model's predictions of the same posts: the result is then
        how much better ``predicted`` ranks them than ``against`` does
        (the difference of their taus over the very same pairs), with a
        paired interval (the same stretches drawn for both), as
        :class:`~spe.AutoLikesRegressor` compares two picture models.
    stretch : int, default=10
        Consecutive posts whose pairs are compared; also the bootstrap's block.
    n_resamples : int, default=1000
    confidence_level : float, default=0.95
    random_state : int, default=0

    Returns
    -------
    tau, low, high : float
        NaN when the prediction is the trend's (no picture part) or fewer
        than 3 posts are given; ``low`` and ``high`` NaN with fewer than 3
        stretches holding pairs.

    See Also
    --------
    pairwise_accuracy : The same pairs, as the share ranked right.

    Examples
    --------
    >>> import numpy as np
    >>> from spe.model_selection import picture_skill
    >>> rng = np.random.default_rng(0)
    >>> trend, picture = np.linspace(50, 150, 100), rng.normal(size=100)
    >>> actual = trend * np.exp(0.3 * picture + rng.normal(0, 0.1, 100))
    >>> tau, low, high = picture_skill(actual, trend * np.exp(0.3 * picture), trend)
    >>> bool(low > 0.5)
    True
    >>> bool(np.isnan(picture_skill(actual, trend, trend)[0]))
    True
    >>> tau, low, high = picture_skill(actual, trend * np.exp(0.3 * picture), trend, against=actual)
    >>> bool(high < 0)  # the actual likes themselves rank better
    True
    """
    _check(n_resamples, confidence_level)
    counts = _stretch_counts(actual, predicted, trend, stretch)
    if against is not None:
        other = _stretch_counts(actual, against, trend, stretch)
        if counts is None or other is None:
            return np.nan, np.nan, np.nan
        # The same posts and stretches, so the same pairs: the difference is a count per stretch too.
        counts = (counts[0] - other[0], counts[1])
    if counts is None:
        return np.nan, np.nan, np.nan
    return _skill_interval(counts, n_resamples, confidence_level, random_state)


def pairwise_accuracy(
    actual, predicted, trend, *, stretch=STRETCH, n_resamples=1000, confidence_level=0.95, random_state=0
):
    """Of two posts of the same stretch, how often the one the model preferred did better.

    "Better" is more likes relative to the trend (the ratios cleared of
    the trend as in :func:`picture_skill`); ties count half. Chance is 0.5;
    the literature's reference for a network trained on millions of posts
    is about 0.77 on same-user Instagram pairs.

    Parameters
    ----------
    actual, predicted, trend : array-like of shape (n_samples,)
    stretch, n_resamples, confidence_level, random_state
        As in :func:`picture_skill`.

    Returns
    -------
    accuracy, low, high : float
        Shares in [0, 1]; NaN where :func:`picture_skill` is.

    Examples
    --------
    >>> import numpy as np
    >>> from spe.model_selection import pairwise_accuracy
    >>> trend, actual = np.full(20, 100.0), 100.0 + np.arange(20)
    >>> pairwise_accuracy(actual, actual, trend)[0]
    1.0
    """
    skill = picture_skill(
        actual,
        predicted,
        trend,
        stretch=stretch,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        random_state=random_state,
    )
    return accuracy_of(skill)


def accuracy_of(skill):
    """``(tau, low, high)`` of :func:`picture_skill` as pairwise accuracies (NaN stays NaN)."""
    return tuple(float((1 + v) / 2) for v in skill)
