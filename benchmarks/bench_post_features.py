"""What PostFeatures add to the account's own model, with and without a time-of-day effect, in one run.

Run by hand: ``python benchmarks/bench_post_features.py [--seeds 3]`` (about
20 minutes on 2 shared cores). make_posts(200) at 16x16, both presets,
``time_effect`` 0.3 and 0, walk-forward evaluation (``evaluate(cv="walk")``,
refitted every 10 posts).

Models, all from :func:`spe.evaluation.candidates`:

- picture: ``trend x picture``;
- joint: ``trend x picture + post``, one ridge over the picture's and the post's features;
- own without: ``account's own model`` choosing between the trend and trend x picture;
- own with: ``account's own model`` also offered trend x picture + post.

Prints each model's MAE change against the one without the post's features
(joint against picture, own with against own without), per seed and on
average. Goal: "own with" beats "own without" when there is a time effect,
and is no more than 2% worse when there is none.

Measured (November 2026, 2 shared cores, seeds 0-2), MAE change:

=============  ======  ==================  =======================================
preset         effect  joint vs picture    own with vs own without
=============  ======  ==================  =======================================
default        0.3     -19.0%              -19.3% (-18.4, -27.2, -12.3)
default        0       -0.2%               -1.4% (-4.0, +0.0, -0.1)
realistic      0.3     -10.3%              -10.6% (-17.4, -9.4, -4.9)
realistic      0       +2.1% (+5.4 worst)  -0.1% (+0.0, -0.2, +0.0)
=============  ======  ==================  =======================================
"""

import argparse
import tempfile
import warnings

import pandas as pd

from spe.datasets import make_posts
from spe.evaluation import candidates, evaluate


def models():
    with_post = candidates(size=16, cnn=False, embeddings=False, post_features=True)
    without = candidates(size=16, cnn=False, embeddings=False)
    return {
        "picture": with_post["trend x picture"],
        "joint": with_post["trend x picture + post"],
        "own without": without["account's own model"].set_params(refit_every=10),
        "own with": with_post["account's own model"].set_params(refit_every=10),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    for realistic in (False, True):
        for effect in (0.3, 0.0):
            rows = []
            for seed in range(args.seeds):
                posts = make_posts(
                    args.posts,
                    directory=tempfile.mkdtemp(),
                    image_size=(16, 16),
                    realistic=realistic,
                    time_effect=effect,
                    random_state=seed,
                )
                rows.append(evaluate(models(), posts, refit_every=10).scores["MAE"])
            mae = pd.DataFrame(rows).reset_index(drop=True)
            change = {
                "joint vs picture": mae["joint"] / mae["picture"] * 100 - 100,
                "own with vs own without": mae["own with"] / mae["own without"] * 100 - 100,
            }
            print(
                f"realistic={realistic} time_effect={effect}: MAE picture {mae['picture'].mean():.2f}, "
                f"own without {mae['own without'].mean():.2f}, "
                f"recent average {mae['recent average (k=10)'].mean():.2f}",
                flush=True,
            )
            for name, values in change.items():
                per_seed = " ".join(f"{v:+.1f}" for v in values)
                print(f"  {name:>24}: {values.mean():+.1f}% on average; per seed {per_seed}", flush=True)


if __name__ == "__main__":
    main()
