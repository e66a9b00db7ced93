"""The command line's disk cache: pictures decoded, cache files written and peak memory.

Run by hand: ``python benchmarks/bench_cache.py`` (about 2 minutes on 2
cores). It writes ``--posts`` pictures of 256x256 (``make_posts``), then,
as ``spe evaluate DATA --cache-dir CACHE --folds 5 --epochs 1`` does:

- validation: the command line's check that every picture decodes
  (``spe.cli._shared.load_checked``), without and with ``--cache-dir``; peak
  ``RssAnon`` above the start (``/proc/self/status``, sampled every 10 ms);
- the cross-validated run: ``spe.cli.main(["evaluate", ...])`` with a fresh
  cache folder: pictures decoded (calls of ``spe.features._loader._load_one``),
  ``.npy`` files in the cache and their bytes.

The same script measures any version of spe: put it first on ``PYTHONPATH``.
Linux only.
"""

import argparse
import contextlib
import io
import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_scale import PeakMemory, _status  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    import spe.features._loader
    from spe.cli import _shared as cli
    from spe.datasets import make_posts

    tmp = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    make_posts(args.posts, directory=tmp / "data", image_size=(256, 256), random_state=0)
    counter = itertools.count()
    decode = spe.features._loader._load_one

    def counting(*a, **k):
        next(counter)
        return decode(*a, **k)

    spe.features._loader._load_one = counting
    print(f"spe from {Path(spe.__file__).parent}; {args.posts} posts, {args.size}x{args.size}")
    for label, cache in (("validate, no cache", None), ("validate, --cache-dir", tmp / "cache-validate")):
        base = _status()["RssAnon"]
        t0 = time.perf_counter()
        with PeakMemory() as peak:
            cli.load_checked(tmp / "data", args.size, cache)
        print(
            f"{label}: peak RssAnon +{(peak.peak['RssAnon'] - base) / 2**20:.0f} MiB, "
            f"{time.perf_counter() - t0:.1f} s"
        )

    cache = tmp / "cache"
    start = next(counter)
    t0 = time.perf_counter()
    argv = ["--quiet", "evaluate", str(tmp / "data"), "--size", str(args.size), "--folds", "5"]
    with contextlib.redirect_stdout(io.StringIO()):  # the report
        assert cli.main([*argv, "--epochs", "1", "--cache-dir", str(cache)]) == 0
    decoded = next(counter) - start - 1
    files = sorted(cache.glob("*.npy"))
    print(
        f"evaluate --cache-dir (5 time-ordered folds): {decoded} pictures decoded for {args.posts} posts, "
        f"{len(files)} .npy files, {sum(f.stat().st_size for f in files) / 2**20:.0f} MiB written, "
        f"{time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
