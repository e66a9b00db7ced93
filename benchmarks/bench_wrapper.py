"""CNNLikesRegressor's fit time against a plain Keras fit of the same network.

Run by hand: ``python benchmarks/bench_wrapper.py [--repeats 3]``. The seed's
setting: 148 images of 64x64 (80% of 185 posts), 50 epochs, batch size 32,
Adam, MSE. Both fits build and compile a fresh network each time; runs
alternate (plain, wrapper, plain, ...) so that machine noise hits both, and
the medians are compared. Goal: ratio at most 1.05.
"""

import argparse
import statistics
import time

import numpy as np
from _seed_network import seed_data, seed_network

from spe import CNNLikesRegressor
from spe._keras._backend import keras


def plain_keras_fit(X, y, epochs, learning_rate):
    # The seed's script, as a Keras user writes it.
    model = seed_network(X.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    y_scaled = ((y - y.mean()) / y.std()).astype(np.float32)
    model.fit(X, y_scaled, epochs=epochs, batch_size=32, verbose=0)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    X, y = seed_data()

    plain_keras_fit(X, y, 1, 1e-4)  # warm-up: first-call costs of TensorFlow
    CNNLikesRegressor(epochs=1).fit(X, y)
    plain, wrapped = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        plain_keras_fit(X, y, args.epochs, 1e-4)
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        CNNLikesRegressor(epochs=args.epochs).fit(X, y)
        wrapped.append(time.perf_counter() - t0)
    p, w = statistics.median(plain), statistics.median(wrapped)
    print(f"148 images 64x64, {args.epochs} epochs, batch 32; median of {args.repeats} alternating runs")
    print(f"plain Keras fit        {p:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in plain)})")
    print(f"CNNLikesRegressor.fit  {w:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in wrapped)})")
    print(f"ratio wrapper / plain  {w / p:7.3f}   (goal <= 1.05)")


if __name__ == "__main__":
    main()
