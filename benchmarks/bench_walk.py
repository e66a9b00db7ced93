"""Walk-forward refits: pictures featurized once (spe) against refitting from the pictures (naive).

Run by hand: ``python benchmarks/bench_walk.py [--n 200] [--size 64] [--embeddings]``.
Makes ``make_posts(n, realistic=True, random_state=0)`` and walks the
non-CNN candidates of :func:`spe.evaluation.candidates` forward with a
refit every post (every post after the first stretch predicted from all
the posts before it), twice in the same run:

- naive: each refit runs the whole pipeline again, decoding and
  featurizing every training picture;
- spe: :func:`spe.evaluation.precompute_pictures` featurizes each picture
  once, and every refit reads the stored rows (what ``evaluate(cv="walk")``
  does).

Prints the time of each, the ratio and the largest difference between the
two predictions. Goal: at least 10x, same predictions. ``--embeddings``
adds the embeddings candidate (random weights), whose naive walk rebuilds
the backbone at every refit and takes many minutes.
"""

import argparse
import tempfile
import time

import numpy as np

from spe.datasets import make_posts
from spe.evaluation import WalkForwardSplit, candidates, precompute_pictures, walk_forward_predict


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--embeddings", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        posts = make_posts(args.n, directory=tmp, realistic=True, random_state=0)
        X = posts[["image", "post_index"]]
        y = posts["likes"].to_numpy(dtype=float)
        models = candidates(size=args.size, cnn=False, embeddings=args.embeddings)
        models.pop("account's own model")  # its own walk inside every refit: see AutoLikesRegressor
        cv = WalkForwardSplit(test_size=1)
        print(f"{args.n} posts at {args.size} px, {cv.get_n_splits(X)} refits per model: {list(models)}")
        t0 = time.perf_counter()
        naive = {name: walk_forward_predict(model, X, y, cv) for name, model in models.items()}
        t_naive = time.perf_counter() - t0
        t0 = time.perf_counter()
        cache = {}
        fast = {
            name: walk_forward_predict(precompute_pictures(m, X, cache), X, y, cv)
            for name, m in models.items()
        }
        t_spe = time.perf_counter() - t0
        diff = max(np.nanmax(np.abs(naive[name] - fast[name])) for name in models)
        print(f"naive (refit from the pictures): {t_naive:8.1f} s")
        print(f"spe (pictures featurized once):  {t_spe:8.1f} s")
        print(f"speed-up: {t_naive / t_spe:.1f}x; largest prediction difference: {diff:.2e} likes")


if __name__ == "__main__":
    main()
