"""How close does a fit of the seed network come to the machine's matrix-multiply rate?

Run by hand: ``python benchmarks/bench_fit.py`` (about 4 minutes). The seed
network, 50 epochs on 148 images of 64x64 (batch 32, Adam, MSE), fitted five
ways in one run, in three rounds (the median is shown):

- plain Keras: ``model.fit`` on NumPy arrays, Keras' defaults (what
  CNNLikesRegressor did at first);
- plain Keras fed by ``spe._keras._batches.tensorflow_batches``, the ``tf.data``
  pipeline CNNLikesRegressor uses for float images in memory on the
  TensorFlow backend (built once per fit);
- plain Keras fed by ``spe._keras._batches.ImageBatches``, the PyDataset it uses for
  uint8 images (one batch read and converted at a time, memory maps stay on
  disk);
- CNNLikesRegressor on float32 images, and on uint8 images.

It counts the floating-point operations of the training from the layer
shapes (forward pass, and twice that for the backward pass), and measures the
machine's float32 matrix-multiply rate with the same backend in the same
run, so the achieved rate can be read as a share of that ceiling.
"""

import argparse
import statistics
import time

from _seed_network import seed_data, seed_network

from spe import CNNLikesRegressor
from spe._keras._backend import keras
from spe._keras._batches import ImageBatches, tensorflow_batches


def training_flops(model, n_samples, epochs):
    """FLOPs of forward + backward passes, counted from the layer shapes."""
    forward = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, out_h, out_w, out_c = layer.output.shape
            k_h, k_w = layer.kernel_size
            in_c = layer.input.shape[-1]
            forward += 2 * out_h * out_w * out_c * k_h * k_w * in_c
        elif isinstance(layer, keras.layers.Dense):
            forward += 2 * layer.input.shape[-1] * layer.units
    return 3 * forward * n_samples * epochs  # backward ~ 2x forward


def matmul_rate(size=1024, repeats=20):
    a = keras.random.normal((size, size))
    b = keras.random.normal((size, size))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        c = keras.ops.matmul(a, b)
    keras.ops.convert_to_numpy(c)
    return 2 * size**3 * repeats / (time.perf_counter() - t0)


def plain_keras(X, y, epochs, feed=None):
    model = seed_network(X.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
    y = (y - y.mean()) / y.std()
    if feed == "tf.data":
        model.fit(tensorflow_batches(X, y, None, 32, seed=0), epochs=epochs, verbose=0, shuffle=False)
    elif feed == "ImageBatches":
        model.fit(ImageBatches(X, y, None, 32, shuffle=True, seed=0), epochs=epochs, verbose=0, shuffle=False)
    else:
        model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of all runs; the median is shown")
    args = parser.parse_args()
    X, y = seed_data()
    ceiling = matmul_rate()

    X8 = (X * 255).round().astype("uint8")
    runs = {
        "plain Keras fit (NumPy arrays)": lambda: plain_keras(X, y, args.epochs),
        "plain Keras fit (tf.data)": lambda: plain_keras(X, y, args.epochs, feed="tf.data"),
        "plain Keras fit (ImageBatches)": lambda: plain_keras(X, y, args.epochs, feed="ImageBatches"),
        "CNNLikesRegressor, float32 images": lambda: CNNLikesRegressor(epochs=args.epochs).fit(X, y).model_,
        "CNNLikesRegressor, uint8 images": lambda: CNNLikesRegressor(epochs=args.epochs).fit(X8, y).model_,
    }
    plain_keras(X[:32], y[:32], 1)  # warm-up: first-call costs of the backend
    CNNLikesRegressor(epochs=1).fit(X[:32], y[:32])
    print(
        f"backend {keras.backend.backend()}; float32 matmul 1024x1024: {ceiling / 1e9:6.1f} GFLOP/s (ceiling)"
    )
    print(f"148 images 64x64, {args.epochs} epochs, batch 32, median of {args.repeats} rounds")
    times = {name: [] for name in runs}
    for _ in range(args.repeats):  # rounds, so that a busy moment hits every run alike
        for name, fn in runs.items():
            t0 = time.perf_counter()
            model = fn()
            times[name].append(time.perf_counter() - t0)
    flops = training_flops(model, len(X), args.epochs)
    for name, seconds in times.items():
        rate = flops / statistics.median(seconds)
        print(
            f"{name:42s} {statistics.median(seconds):6.2f} s  {flops / 1e12:5.2f} TFLOP  "
            f"{rate / 1e9:6.1f} GFLOP/s  {rate / ceiling:5.0%} of matmul"
        )


if __name__ == "__main__":
    main()
