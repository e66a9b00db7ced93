"""What the benchmarks share: the seed's data split and network, as a Keras user writes it."""

import tempfile

import numpy as np

from spe import ImageLoader
from spe._keras._backend import keras
from spe.datasets import make_posts


def seed_data():
    """The seed's training set: 148 pictures of 64x64 (80% of 185 posts) and their likes."""
    with tempfile.TemporaryDirectory() as tmp:
        posts = make_posts(185, directory=tmp, random_state=0)
        X = ImageLoader().transform(posts["image"])[:148]
    return X, posts["likes"].to_numpy(dtype=np.float64)[:148]


def seed_network(input_shape):
    """The student project's CNN, built with plain Keras."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(1),
        ]
    )
