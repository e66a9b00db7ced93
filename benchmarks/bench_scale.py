"""Large accounts: load time, time per epoch and peak memory from 200 to 20,000 pictures.

Run by hand: ``python benchmarks/bench_scale.py`` (about 10 minutes on 2
cores). For each n it writes n pictures of 256x256 (``make_posts``), then,
in a fresh process per n and path so each peak is its own, loads them at
64x64 and trains the seed network for two epochs (batch 32):

- streamed: ``ImageLoader(dtype="uint8", cache_dir=...)``: pictures decoded
  in chunks of 512 into a uint8 ``.npy`` file, memory-mapped; the regressor
  reads one batch at a time;
- in memory: ``ImageLoader()``: every picture as float32 in memory at once
  (the default, fine for a few hundred posts).

Memory is read from ``/proc/self/status`` every 10 ms: ``RssAnon`` is the
process's own memory (what cannot be paged out), ``RssFile`` the pages of
mapped files it has touched (the memory map and the libraries, which the
kernel drops when memory is short). Both are shown above the baseline taken
after TensorFlow has started and one tiny fit has run. Time per epoch is
the second epoch (the first includes tracing). Linux only.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _status():
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


class PeakMemory:
    """Highest RssAnon and RssFile seen by a sampling thread."""

    def __init__(self, interval=0.01):
        self.interval, self.peak, self._stop = interval, {"RssAnon": 0, "RssFile": 0}, threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            for key, value in _status().items():
                self.peak[key] = max(self.peak[key], value)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        for key, value in _status().items():
            self.peak[key] = max(self.peak[key], value)


def child(paths_file, mode, cache_dir):
    """One n, one path: load, fit two epochs, predict; print JSON."""
    import numpy as np

    from spe import CNNLikesRegressor, ImageLoader
    from spe._keras._backend import keras

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.t0

    posts = json.loads(Path(paths_file).read_text())
    paths, y = posts["image"], np.asarray(posts["likes"], dtype=np.float64)
    rng = np.random.RandomState(0)
    CNNLikesRegressor(epochs=1).fit(rng.rand(8, 64, 64, 3).astype("float32"), rng.rand(8))  # warm-up
    baseline = _status()
    loader = ImageLoader(dtype="uint8", cache_dir=cache_dir) if mode == "streamed" else ImageLoader()
    epochs = EpochTimes()
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        X = loader.fit_transform(paths)
        load = time.perf_counter() - t0
        reg = CNNLikesRegressor(epochs=2, random_state=0, callbacks=[epochs]).fit(X, y)
        t0 = time.perf_counter()
        reg.predict(X)
        predict = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "load": load,
                "epoch": epochs.seconds,
                "predict": predict,
                "anon": memory.peak["RssAnon"] - baseline["RssAnon"],
                "file": memory.peak["RssFile"] - baseline["RssFile"],
                "baseline_anon": baseline["RssAnon"],
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000, 20000])
    parser.add_argument("--modes", nargs="+", default=["streamed", "in memory"])
    args = parser.parse_args()
    from spe.datasets import make_posts

    print(
        f"{'n':>6s} {'path':10s} {'load s':>7s} {'epoch s':>8s} {'predict s':>9s} "
        f"{'ms/picture/epoch':>16s} {'peak anon MB':>12s} {'peak file MB':>12s}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            posts = make_posts(n, directory=f"{tmp}/posts{n}", image_size=(256, 256), random_state=0)
            paths_file = Path(tmp, f"posts{n}.json")
            paths_file.write_text(
                json.dumps({"image": list(posts["image"]), "likes": posts["likes"].tolist()})
            )
            for mode in args.modes:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(paths_file), mode, f"{tmp}/cache{n}"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                print(
                    f"{n:6d} {mode:10s} {r['load']:7.1f} {r['epoch']:8.2f} {r['predict']:9.2f} "
                    f"{1000 * r['epoch'] / n:16.2f} {r['anon'] / 2**20:12.0f} {r['file'] / 2**20:12.0f}",
                    flush=True,
                )
    print(f"(baseline RssAnon after start-up: {r['baseline_anon'] / 2**20:.0f} MB)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
