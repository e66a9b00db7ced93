"""Picture themes: what they find on a scenes account and on a realistic one, and what they cost.

Run by hand::

    python benchmarks/bench_themes.py [--n 200] [--seed 0] [--nulls 10]

- the themes of a scenes account (``make_posts(n, content="scenes",
  image_size=(224, 224))``) and of a realistic one (the same with
  ``realistic=True``), each with its effect and family-wise 90% interval,
  and how each scene's posts spread over the themes (the generator's
  scene scores beside them);
- cost: one backbone pass per picture, the trend walk, the faces, and the
  clustering of 1,000 posts' embeddings (goal: under a second);
- ``--nulls N``: N null accounts (``realistic=True, pixel_effect=0``,
  seeds 0..N-1): how many show any theme standing out (goal: at most 2 of 10).
"""

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

from spe.datasets import make_posts
from spe.datasets._scenes import SCENES
from spe.inspection import picture_themes
from spe.inspection._themes import _cluster, _embedder, _space, backbone_pass


def account(embedder, n, seed, **extra):
    posts, truth = make_posts(
        n,
        directory=tempfile.mkdtemp(),
        image_size=(224, 224),
        content="scenes",
        random_state=seed,
        return_truth=True,
        **extra,
    )
    start = time.perf_counter()
    embeddings, probabilities = backbone_pass(embedder, posts["image"].tolist())
    backbone = time.perf_counter() - start
    start = time.perf_counter()
    themes = picture_themes(None, posts, embeddings=embeddings, probabilities=probabilities)
    return themes, truth, backbone, time.perf_counter() - start


def show(title, themes, truth, backbone, rest):
    print(f"\n== {title}: backbone {backbone:.1f} s for {len(truth)} pictures, themes {rest:.1f} s")
    print(themes)
    spread = pd.crosstab(truth["scene"], themes.posts["theme"])
    spread.insert(0, "score", [SCENES[s][1] for s in spread.index])
    print(spread.to_string())


def clustering_time():
    rng = np.random.default_rng(0)
    centres = rng.gamma(1.0, 1.0, (8, 1280))
    embeddings = np.abs(centres[rng.integers(0, 8, 1000)] + rng.normal(0, 0.3, (1000, 1280)))
    start = time.perf_counter()
    _, space = _space(embeddings, 0)
    labels, _ = _cluster(space, None, 8)
    elapsed = time.perf_counter() - start
    print(f"\nclustering 1,000 posts (1280 features): {elapsed:.2f} s, {labels.max() + 1} themes")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nulls", type=int, default=0)
    args = parser.parse_args()
    embedder = _embedder(None)
    backbone_pass(
        embedder, make_posts(2, directory=tempfile.mkdtemp(), image_size=(224, 224))["image"].tolist()
    )
    show("scenes", *account(embedder, args.n, args.seed))
    show("realistic", *account(embedder, args.n, args.seed, realistic=True))
    clustering_time()
    alarms = 0
    for seed in range(args.nulls):
        themes, *_ = account(embedder, args.n, seed, realistic=True, pixel_effect=0)
        out = themes.themes[themes.themes["stands_out"]]
        alarms += len(out) > 0
        print(
            f"null seed {seed}: {len(themes.themes)} themes, standing out: {out['effect'].round(2).tolist()}"
        )
    if args.nulls:
        print(f"null accounts with a theme standing out: {alarms} of {args.nulls}")


if __name__ == "__main__":
    main()
