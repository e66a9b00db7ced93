"""How training data reach Keras: a ``tf.data`` pipeline for float images in
memory on the TensorFlow backend (the fastest), a
:class:`keras.utils.PyDataset` that reads, converts and augments one batch
at a time for uint8 images (memory maps included) and other backends."""

from ._backend import keras  # first: it imports TensorFlow quietly

# isort: split
import numpy as np

from ..features._loader import float_images

__all__ = ["ImageBatches", "rotate", "tensorflow_batches"]


def rotate(X, degrees):
    """Rotate ``(n, height, width, channels)`` images counter-clockwise by a multiple of 90 degrees."""
    return np.rot90(X, k=degrees // 90, axes=(1, 2)) if degrees else X


def tensorflow_batches(X, y, sample_weight, batch_size, seed, initial_epoch=0):
    """Training data as a shuffled, batched, prefetched ``tf.data`` pipeline.

    On the TensorFlow backend, Keras' own adapter for NumPy arrays rebuilds
    its shuffling and batching every epoch; for a small network on a few
    hundred pictures that costs about a tenth of the fit
    (``benchmarks/bench_fit.py``: 12.7 s against 11.2 s, measured with
    tf.data's own reshuffling). This pipeline is built once per fit and
    reshuffles each epoch; the batches and the training are the same.
    Side by side with that earlier pipeline (148 pictures, 15 epochs, 2
    busy cores, median of 4-5 rounds): the seed network at 64x64 in the
    same time (8.7 s against 9.0 s), a small fit at 32x32 in 3.2 s against
    2.6 s (building the per-epoch orders).
    A fit continued from ``initial_epoch`` gets the orders a single fit
    would have used from that epoch on, not the first epochs' again.
    TensorFlow backend only.
    """
    import tensorflow as tf

    parts = tuple(tf.constant(p) for p in ((X, y) if sample_weight is None else (X, y, sample_weight)))
    n = len(X)
    # Each epoch's order is a stateless shuffle keyed by (seed, epoch number),
    # the epoch counted by a variable the pipeline advances as Keras starts
    # each epoch: a fit continued from ``initial_epoch`` gets the orders a
    # single fit would. (tf.data's own reshuffling cannot be advanced: Keras
    # iterates a copy of the dataset.)
    key = int(np.random.default_rng(seed).integers(2**31))
    epoch = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False)

    def order(_):
        seeds = tf.stack([tf.constant(key, tf.int64), epoch.assign_add(1) - 1])
        return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=seeds)

    rows = tf.data.Dataset.from_tensors(0).map(order).unbatch().batch(batch_size)
    rows = rows.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
    return rows.map(lambda idx: tuple(tf.gather(p, idx) for p in parts)).prefetch(tf.data.AUTOTUNE)


class ImageBatches(keras.utils.PyDataset):
    """Images, like counts and weights, a batch at a time, as float32 in ``[0, 1]``.

    Reads only the rows of each batch from ``X``, so a uint8 memory map
    (``ImageLoader(dtype="uint8", cache_dir=...)``) stays on disk and
    training never holds a float copy of every image. Rotation copies are
    made per batch: the augmented set is ``len(rotations)`` times the data
    without ever being stored. Works on every Keras backend.

    Parameters
    ----------
    X : array-like of shape (n, height, width, channels)
    y : ndarray of shape (n,) or (n, 1)
    sample_weight : ndarray of shape (n,) or None
    batch_size : int
    rotations : tuple of {0, 90, 180, 270}, default=(0,)
        Each image appears once per angle (90 and 270 need square images).
    shuffle : bool, default=False
        A new order every epoch, drawn from ``seed``.
    seed : int or None, default=None
    initial_epoch : int, default=0
        The epoch a continued fit starts at: its orders are the ones a
        single fit would have used from there on.
    """

    def __init__(
        self, X, y, sample_weight, batch_size, *, rotations=(0,), shuffle=False, seed=None, initial_epoch=0
    ):
        super().__init__()  # one worker thread, no processes: rows are cheap to read
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.batch_size = int(batch_size)
        self.rotations = tuple(rotations)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(X) * len(self.rotations))
        for _ in range(1 + initial_epoch):
            self.on_epoch_end()

    def __len__(self):
        return -(-len(self._order) // self.batch_size)

    def __getitem__(self, index):
        picked = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        turn, rows = np.divmod(picked, len(self.X))
        # Rows in ascending order read a memory map front to back.
        ascending = np.argsort(rows, kind="stable")
        x = np.empty((len(rows), *self.X.shape[1:]), dtype=np.float32)
        x[ascending] = float_images(self.X[rows[ascending]])
        for i, angle in enumerate(self.rotations):
            if angle and (turn == i).any():
                x[turn == i] = rotate(x[turn == i], angle)
        if self.sample_weight is None:
            return x, self.y[rows]
        return x, self.y[rows], self.sample_weight[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)
