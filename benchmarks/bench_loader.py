"""ImageLoader against the naive loop, on 100 phone-sized JPEGs.

Run by hand: ``python benchmarks/bench_loader.py [--n 100]``. Writes the
photos to a temporary folder, loads them once to warm the file cache, then
times each loader over several repeats (best of) in the same run and prints
the ratio. Goal: ImageLoader at least 4x faster, same output up to
resampling differences.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from spe import ImageLoader


def make_photos(folder, n, rng):
    # Smooth random content upscaled to 1080x1350, like a phone picture.
    paths = []
    for i in range(n):
        small = (rng.rand(27, 36, 3) * 255).astype(np.uint8)
        img = Image.fromarray(small).resize((1080, 1350), Image.Resampling.BICUBIC)
        path = Path(folder) / f"{i + 1}.jpg"
        img.save(path, quality=90)
        paths.append(str(path))
    return paths


def naive(paths, size=(64, 64)):
    """What the seed did: open, convert, resize, one by one."""
    return np.stack(
        [np.asarray(Image.open(p).convert("RGB").resize(size), dtype=np.float32) / 255 for p in paths]
    )


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(tmp, args.n, np.random.RandomState(0))
        naive(paths[:5])  # warm the file cache and Pillow
        t_naive, ref = best_of(lambda: naive(paths), args.repeats)
        loader = ImageLoader(size=(64, 64), crop="none")
        t_serial, out = best_of(lambda: loader.transform(paths), args.repeats)
        t_par, out_par = best_of(lambda: loader.set_params(n_jobs=-1).transform(paths), args.repeats)
    diff = float(np.abs(out - ref).mean())
    print(f"{args.n} JPEGs of 1080x1350 -> 64x64, best of {args.repeats}")
    print(f"naive loop              {t_naive:7.3f} s")
    print(f"ImageLoader n_jobs=None {t_serial:7.3f} s   {t_naive / t_serial:5.1f}x faster")
    print(f"ImageLoader n_jobs=-1   {t_par:7.3f} s   {t_naive / t_par:5.1f}x faster")
    print(f"mean absolute difference from the naive output: {diff:.4f} (pixel values in [0, 1])")
    assert np.array_equal(out, out_par)


if __name__ == "__main__":
    main()
