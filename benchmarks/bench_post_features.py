"""What PostFeatures add to "trend x picture", with and without a time-of-day effect, in one run.

Run by hand: ``python benchmarks/bench_post_features.py`` (about 10 minutes
on 2 shared cores). make_posts(200) at 16x16, both presets, ``time_effect`` 0.3 and 0,
seeds 0-5; time-ordered CV (``evaluate(cv="time")``, 5 folds).

Measured (November 2026, 2 shared cores), MAE change against "without":

=============  ======  =============  ======================
preset         effect  joint          staged
=============  ======  =============  ======================
default        0.3     -17.8%         -20.7%
default        0       +4.5%          -0.2%
realistic      0.3     -9.4%          -10.5%
realistic      0       +2.8%          +0.8% (+2.1% at worst)
=============  ======  =============  ======================

- without: ``LikesRegressor(image_model=ImageFeatures -> StandardScaler -> RidgeCV)``,
  candidates' ``trend x picture``;
- joint: the picture's and the post's features side by side in one ridge
  (``make_union(ImageFeatures, PostFeatures)``), one penalty for both;
- staged: candidates' ``trend x picture + post``, "without" adjusted by a
  ridge of its own on the post's features.

Prints the MAE of "without" and each model's MAE change against it, per
seed and on average. Goal: staged beats "without" with the effect on, and is
no more than 2% worse with it off.
"""

import argparse
import tempfile
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler

from spe import ImageFeatures, LikesRegressor, PostFeatures
from spe.datasets import make_posts
from spe.evaluation import candidates, evaluate


def models():
    pool = candidates(size=16, cnn=False, embeddings=False, post_features=True)
    joint = make_pipeline(
        make_union(ImageFeatures(size=(16, 16)), PostFeatures()),
        StandardScaler(),
        RidgeCV(alphas=np.logspace(-2, 3, 12)),
    )
    return {
        "without": pool["trend x picture"],
        "joint": LikesRegressor(image_model=joint),
        "staged": pool["trend x picture + post"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=6)
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
                rows.append(evaluate(models(), posts, cv="time").scores["MAE"])
            mae = pd.DataFrame(rows).reset_index(drop=True)
            change = mae[["joint", "staged"]].div(mae["without"], axis=0) * 100 - 100
            print(
                f"realistic={realistic} time_effect={effect}: MAE without {mae['without'].mean():.2f} "
                f"(recent average {mae['recent average (k=10)'].mean():.2f})"
            )
            for name in change:
                per_seed = " ".join(f"{v:+.1f}" for v in change[name])
                print(f"  {name:>6}: {change[name].mean():+.1f}% on average; per seed {per_seed}")


if __name__ == "__main__":
    main()
