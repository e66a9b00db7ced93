"""The spiky preset of make_posts, and the other presets left as they were."""

import hashlib

import numpy as np
import pytest

from spe.datasets import make_posts
from spe.datasets._spiky import CHANGE_RANGE

#: sha256 (first 16 hex digits) of 30-post accounts, seeds 0, 1 and 7, computed with make_posts as it
#: was before the spiky preset (commit 182d16b): likes, hidden truth, timestamps and captions.
BEFORE = {
    "default": ["284f9000b1e3cfcd", "71221f5d58198cd9", "d37254b00819ee7b"],
    "realistic": ["589b5e0acd343820", "6a6687742956e6de", "61fa902c0ebe2941"],
    "null": ["8e8cadf9748469e4", "475a551e5df202b3", "2f7be67c77793e0f"],
}
PRESETS = {"default": {}, "realistic": {"realistic": True}, "null": {"realistic": True, "pixel_effect": 0.0}}


def _digest(posts, truth):
    h = hashlib.sha256()
    h.update(posts["likes"].to_numpy(np.int64).tobytes())
    h.update(truth[["radius", "pixel_score"]].to_numpy(np.float64).tobytes())
    h.update(truth["red"].to_numpy(bool).tobytes())
    h.update("|".join(posts["timestamp"].astype(str)).encode())
    h.update("|".join(posts["caption"]).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_other_presets_are_what_they_were_for_every_seed(tmp_path, preset):
    got = [
        _digest(
            *make_posts(
                30,
                directory=tmp_path / str(seed),
                image_size=(8, 8),
                random_state=seed,
                return_truth=True,
                **PRESETS[preset],
            )
        )
        for seed in (0, 1, 7)
    ]
    assert got == BEFORE[preset]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The realistic and the spiky account of one seed, 400 posts, with their truth."""
    folder = tmp_path_factory.mktemp("spiky")
    options = {"image_size": (8, 8), "random_state": 3, "return_truth": True}
    realistic = make_posts(400, directory=folder / "realistic", realistic=True, **options)
    spiky = make_posts(400, directory=folder / "spiky", spiky=True, **options)
    return realistic, spiky


def test_spiky_keeps_the_pictures_times_and_captions_of_the_realistic_account(pair):
    (realistic, truth), (spiky, spiky_truth) = pair
    assert list(spiky.columns) == list(realistic.columns)
    for column in ("timestamp", "caption", "post_index"):
        assert (spiky[column] == realistic[column]).all()
    assert spiky_truth.drop(columns="spike").equals(truth)
    assert not (spiky["likes"] == realistic["likes"]).all()


def test_spikes_get_two_to_three_times_the_likes_around_them(pair):
    (realistic, _), (spiky, truth) = pair
    spike = truth["spike"].to_numpy()
    assert 6 <= spike.sum() <= 30  # about 4% of 400
    # Before the change of regime (at 40% of the posts or later) the spiky account is the realistic
    # one times a level that moves only at the shifts: a spike is 2 to 3 times its neighbour's ratio.
    ratio = spiky["likes"].to_numpy() / realistic["likes"].to_numpy()
    early = np.flatnonzero(spike[1:] & ~spike[:-1]) + 1
    early = early[early < CHANGE_RANGE[0] * len(spike)]
    jumps = ratio[early] / ratio[early - 1]
    assert len(jumps) >= 3
    # Most lie in 2..3 (likes are rounded; a level shift can fall on a spike's post).
    assert np.mean((jumps > 1.9) & (jumps < 3.2)) >= 0.75, jumps


def test_spiky_likes_are_heavier_tailed_and_less_predictable_late(pair):
    (realistic, _), (spiky, _) = pair
    tail = {name: np.max(p["likes"]) / np.median(p["likes"]) for name, p in (("r", realistic), ("s", spiky))}
    assert tail["s"] > tail["r"]

    # The change of regime makes the last posts noisier than the first ones: post-to-post changes
    # of log-likes spread wider in the last quarter than in the first (median absolute deviation,
    # which the spikes barely move). The realistic account's spread stays.
    def spread(likes):
        steps = np.diff(np.log(likes.to_numpy(dtype=float)))
        return [np.median(np.abs(part - np.median(part))) for part in (steps[:100], steps[-100:])]

    first, last = spread(spiky["likes"])
    assert last > 1.2 * first
    first, last = spread(realistic["likes"])
    assert last < 1.2 * first


def test_spiky_likes_stay_positive_counts(tmp_path):
    posts = make_posts(50, directory=tmp_path, image_size=(8, 8), spiky=True, random_state=0)
    assert posts["likes"].dtype == np.int64 and (posts["likes"] >= 0).all()
