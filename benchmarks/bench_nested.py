"""Nested walk forward: shared inner walks against walking every inner walk again.

Run by hand::

    python benchmarks/bench_nested.py [--n 100 200 400] [--size 16]
    python benchmarks/bench_nested.py --candidates [--n 185] [--size 64] [--today /path/to/old/checkout]

Default: ``evaluate(AutoLikesRegressor(candidates), make_posts(n, realistic=True,
random_state=0), cv="walk")``, refitted every post, for each ``n``, with the
own model's candidates of before the offline backbone (the trend and trend x
image features: the backbone refuses 16 px pictures, and its cost is
``bench_embed.py``'s to measure).
``--candidates``: ``evaluate(candidates(cnn=False, embeddings=False), ...)``
(its ``account's own model`` walks inside ``fit`` too).

Each measurement runs in a fresh Python process, one after the other in
this run, and prints the seconds of the whole ``evaluate``, the seconds per
walked post, the ratio, the largest difference between the two runs'
walked predictions, and the CPU seconds of each and their ratio (less
moved by other work on the machine than the wall-clock seconds):

- today: ``--today switch`` (the default) runs this checkout with sharing
  switched off (``with shared_walks(False):``: every inner walk refitted
  from scratch at every outer step, the pictures of a model made inside
  ``fit`` featurized at every step, as before sharing; the same refit
  schedule, so the same predictions bit for bit). ``--today PATH`` runs the
  code of another checkout instead (``PYTHONPATH=PATH``, e.g. a ``git
  worktree`` of the commit before sharing): that code refits at other
  posts (``ceil(walked / 20)`` from the first stretch, not a power of two
  aligned on its multiples), so its predictions differ a little.
- shared: this checkout as it is.

Goals (issue 27): at least 10x at 200 posts with the same predictions and a
per-post cost roughly flat as ``n`` doubles; ``--candidates`` at 185 posts
and 64 px at least 8x faster than the commit before sharing.
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent

CHILD = """
import pickle, sys, tempfile, time
from spe.datasets import make_posts
from spe.evaluation import evaluate
n, size, kind, share, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
with tempfile.TemporaryDirectory() as tmp:
    posts = make_posts(n, directory=tmp, image_size=(size, size), realistic=True, random_state=0)
    if kind == "candidates":
        from spe.evaluation import candidates
        model = candidates(size=size, cnn=False, embeddings=False)
    else:
        # The own model's candidates of before the offline backbone (issue 24): its 32 px floor and
        # 224 px forward passes are bench_embed's to measure, and 16 px pictures keep this quick.
        from spe import AutoLikesRegressor, AutoTrendRegressor, LikesRegressor
        from spe.models._base import picture_model
        pictures = LikesRegressor(image_model=picture_model())
        model = AutoLikesRegressor({"trend": AutoTrendRegressor(), "trend x image features": pictures})
    if share == "off":
        from spe.model_selection import shared_walks
        switch = shared_walks(False)
    else:
        import contextlib
        switch = contextlib.nullcontext()
    with switch:
        start, cpu = time.perf_counter(), time.process_time()
        report = evaluate(model, posts, cv="walk")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
with open(out, "wb") as file:
    pickle.dump({"seconds": seconds, "cpu": cpu, "predictions": report.predictions}, file)
"""


def measure(n, size, kind, share, pythonpath):
    """One evaluate in a fresh process: seconds and the walked predictions."""
    env = dict(os.environ, PYTHONPATH=str(pythonpath), TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.pkl"
        subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(size), kind, share, str(out)],
            check=True,
            env=env,
            cwd=tmp,
        )
        with open(out, "rb") as file:  # written by the child just now
            return pickle.load(file)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=None)
    parser.add_argument("--size", type=int, default=None, help="picture side (16, or 64 with --candidates)")
    parser.add_argument("--candidates", action="store_true")
    parser.add_argument("--today", default="switch", help="'switch' or the path of another checkout")
    parser.add_argument(
        "--today-up-to", type=int, default=None, help="measure today only up to this n (it grows as n**2)"
    )
    args = parser.parse_args()
    kind = "candidates" if args.candidates else "own"
    sizes = args.n or ([185] if args.candidates else [100, 200, 400])
    size = args.size or (64 if args.candidates else 16)
    today = ("off", HERE) if args.today == "switch" else ("on", Path(args.today).resolve())
    what = (
        "candidates(cnn=False, embeddings=False)"
        if args.candidates
        else "AutoLikesRegressor(trend, trend x image features)"
    )
    label = "sharing off" if args.today == "switch" else f"code at {today[1]}"
    print(f"evaluate({what}, make_posts(n, realistic=True), cv='walk') at {size} px; today = {label}")
    print(
        f"{'n':>5} {'walked':>6} {'today s':>9} {'shared s':>9} {'ratio':>6} {'today s/post':>13} "
        f"{'shared s/post':>14} {'max |diff|':>11} {'CPU s today/shared':>19} {'CPU ratio':>9}"
    )
    for n in sizes:
        new = measure(n, size, kind, "on", HERE)
        walked = len(new["predictions"])
        if args.today_up_to is not None and n > args.today_up_to:
            print(
                f"{n:>5} {walked:>6} {'-':>9} {new['seconds']:>9.1f} {'-':>6} {'-':>13} "
                f"{new['seconds'] / walked:>14.3f} {'-':>11}",
                flush=True,
            )
            continue
        old = measure(n, size, kind, today[0], today[1])
        columns = [c for c in new["predictions"].columns if c not in ("post_index", "fold", "actual")]
        diff = np.nanmax(
            np.abs(new["predictions"][columns].to_numpy() - old["predictions"][columns].to_numpy())
        )
        print(
            f"{n:>5} {walked:>6} {old['seconds']:>9.1f} {new['seconds']:>9.1f} "
            f"{old['seconds'] / new['seconds']:>5.1f}x {old['seconds'] / walked:>13.3f} "
            f"{new['seconds'] / walked:>14.3f} {diff:>11.3g} "
            f"{old['cpu']:>9.1f}/{new['cpu']:<9.1f} {old['cpu'] / new['cpu']:>8.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
