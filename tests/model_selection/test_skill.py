import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from spe.model_selection import pairwise_accuracy, picture_skill


def _account(seed, n=400):
    """Likes that wander, a jumpy trend of the posts before, and a smooth prediction blind to pictures."""
    rng = np.random.default_rng(seed)
    likes = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, n)) + rng.normal(0, 0.4, n))
    before = pd.Series(likes).shift(1)
    trend = before.ewm(alpha=0.5).mean().bfill().to_numpy()  # overshoots after every strong post
    blind = before.expanding().mean().bfill().to_numpy()  # the mean of all earlier likes
    return likes, trend, blind


def test_a_model_blind_to_pictures_is_not_credited_for_a_jumpy_trend():
    fooled, skill = [], []
    for seed in range(5):
        likes, trend, blind = _account(seed)
        # The old measure (Spearman of the ratios to the trend) credits the smooth blind model.
        fooled.append(spearmanr(likes / trend, blind / trend).statistic)
        skill.append(picture_skill(likes, blind, trend, n_resamples=300)[0])
    assert min(fooled) > 0.25, fooled
    assert max(np.abs(skill)) < 0.15, skill


def test_picture_skill_finds_a_picture_ranking_through_the_trend():
    rng = np.random.default_rng(1)
    likes, trend, _ = _account(1)
    picture = rng.normal(size=len(likes))
    likes = likes * np.exp(0.3 * picture)
    tau, low, high = picture_skill(likes, trend * np.exp(0.3 * picture), trend, n_resamples=300)
    assert 0.1 < low <= tau <= high
    accuracy, acc_low, acc_high = pairwise_accuracy(
        likes, trend * np.exp(0.3 * picture), trend, n_resamples=300
    )
    np.testing.assert_allclose([accuracy, acc_low, acc_high], (1 + np.array([tau, low, high])) / 2)
    assert accuracy > 0.55


def test_pairs_are_only_formed_within_a_stretch():
    trend = np.full(20, 100.0)
    actual = 100.0 + np.arange(20)
    # Right inside every stretch of 10, wrong across them: only the inside counts.
    predicted = 100.0 + np.r_[np.arange(10, 20), np.arange(10)]
    assert pairwise_accuracy(actual, predicted, trend)[0] == 1.0
    assert pairwise_accuracy(actual, predicted[::-1], trend)[0] == 0.0
    assert np.isnan(picture_skill(actual, trend, trend)[0])  # the trend itself: no picture part


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same length"):
        picture_skill([1, 2, 3], [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="stretch"):
        picture_skill([1, 2, 3], [1, 2, 3], [1, 2, 3], stretch=1)
    with pytest.raises(ValueError, match="confidence_level"):
        picture_skill([1, 2, 3], [1, 2, 3], [1, 2, 3], confidence_level=1.5)


def test_too_few_stretches_give_no_interval():
    trend, actual = np.full(25, 100.0), 100.0 + np.arange(25)
    tau, low, high = picture_skill(actual[:20], actual[:20], trend[:20])  # two stretches
    assert tau == 1.0 and np.isnan(low) and np.isnan(high)
    assert picture_skill(actual, actual, trend)[1] == 1.0  # three


def test_skill_against_another_model_is_paired_over_the_same_pairs():
    rng = np.random.default_rng(1)
    trend = np.linspace(80, 120, 120)
    z = rng.normal(size=120)
    actual = trend * np.exp(0.3 * z + 0.1 * rng.normal(size=120))
    good, poor = trend * np.exp(0.3 * z), trend * np.exp(0.3 * rng.normal(size=120))
    assert picture_skill(actual, good, trend, against=good) == (0.0, 0.0, 0.0)
    tau, low, high = picture_skill(actual, good, trend, against=poor)
    alone = picture_skill(actual, good, trend)[0] - picture_skill(actual, poor, trend)[0]
    assert tau == pytest.approx(alone) and low > 0
    assert np.isnan(picture_skill(actual, good, trend, against=trend)).all()  # the trend ranks nothing
