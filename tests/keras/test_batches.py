import numpy as np
import pytest

from spe._keras._batches import ImageBatches, rotate


def _images(n=10, side=4):
    rng = np.random.RandomState(0)
    return (rng.rand(n, side, side, 3) * 255).astype(np.uint8), np.arange(n, dtype=np.float32)


def _epoch(batches):
    parts = [batches[i] for i in range(len(batches))]
    batches.on_epoch_end()
    return [np.concatenate(p) for p in zip(*parts)]


def test_batches_cover_every_image_once_as_floats():
    X, y = _images(10)
    batches = ImageBatches(X, y, None, 4)
    assert len(batches) == 3
    assert [len(batches[i][0]) for i in range(3)] == [4, 4, 2]
    x, y_out = _epoch(batches)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, X.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y_out, y)


def test_shuffle_is_seeded_and_changes_every_epoch():
    X, y = _images(10)
    first = ImageBatches(X, y, None, 3, shuffle=True, seed=1)
    again = ImageBatches(X, y, None, 3, shuffle=True, seed=1)
    orders = [_epoch(first)[1] for _ in range(3)]
    np.testing.assert_array_equal(orders, [_epoch(again)[1] for _ in range(3)])
    assert not np.array_equal(orders[0], orders[1])
    for order in orders:
        assert sorted(order) == list(y)
    for x, y_out in [_epoch(first)]:
        # Each image still travels with its own like count.
        np.testing.assert_array_equal(x, X[y_out.astype(int)].astype(np.float32) / np.float32(255))


def test_rotations_add_each_image_once_per_angle():
    X, y = _images(5)
    x, y_out = _epoch(ImageBatches(X, y, None, 4, rotations=(0, 90, 270)))
    assert len(x) == 15
    expected = np.concatenate([rotate(X, a) for a in (0, 90, 270)]).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y_out, np.tile(y, 3))


def test_sample_weights_follow_their_images():
    X, y = _images(6)
    weights = y * 10
    x, y_out, w_out = _epoch(ImageBatches(X, y, weights, 4, shuffle=True, seed=0))
    np.testing.assert_array_equal(w_out, y_out * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_images_pass_through_as_float32(dtype):
    X, y = _images(3)
    X = X.astype(dtype) / 255
    x, _ = _epoch(ImageBatches(X, y, None, 2))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, X, rtol=1e-6)


def test_memory_map_gives_the_batches_memory_gives(tmp_path):
    X, y = _images(8)
    np.save(tmp_path / "x.npy", X)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    kwargs = dict(shuffle=True, seed=0, rotations=(0, 180))
    for a, b in zip(
        _epoch(ImageBatches(mapped, y, None, 3, **kwargs)), _epoch(ImageBatches(X, y, None, 3, **kwargs))
    ):
        np.testing.assert_array_equal(a, b)
