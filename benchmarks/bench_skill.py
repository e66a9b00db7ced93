"""Picture skill, the ranking, the shrunk factor and the mixed trend, on synthetic accounts.

Reproduces the table of the issue "which picture, when the pictures can
tell" (rows chosen with ``--rows``; every figure is measured here, side
by side, in one run):

- ``null``: null accounts (``pixel_effect=0``): picture-blind models show
  no skill (n/a in :func:`~spe.evaluation.evaluate`, and the statistic of
  their predictions printed beside it); how many picture models' skill
  intervals exclude 0; on how many ``predict_next`` calls a tie (a
  :class:`~spe.ConformalLikesRegressor` around :class:`~spe.AutoLikesRegressor`,
  what ``spe fit`` saves).
- ``realistic``: realistic accounts: is the skill detected, and the pairwise
  accuracy with its interval.
- ``trend``: null accounts at 60, 120 and 200 posts: the trend's
  walk-forward MAE over min(recent average of 10, EWMA 0.3), and
  AutoLikesRegressor's over the best of those trends.
- ``faint``: ``make_posts(faint_pictures=True)``: the shrunk model's MAE
  over the trend's, its pairwise accuracy, and what the unshrunk model did.

Pictures are 16 px and the candidates are the trend and hand-made picture
features (no network), to fit on a laptop. Run e.g.::

    python benchmarks/bench_skill.py --rows trend --seeds 10
    python benchmarks/bench_skill.py --rows null --seeds 20 --posts 120
"""

import argparse
import tempfile
import time

import numpy as np

from spe import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    ConformalLikesRegressor,
    EWMARegressor,
    LikesRegressor,
    RecentAverageRegressor,
)
from spe.datasets import make_posts
from spe.evaluation import evaluate
from spe.model_selection import WalkForwardSplit, picture_skill
from spe.models._base import picture_model
from spe.models._next import has_skill

SIZE = 16


def _posts(n, seed, **options):
    return make_posts(n, directory=tempfile.mkdtemp(), image_size=(SIZE, SIZE), random_state=seed, **options)


def _picture(shrink=None):
    options = {} if shrink is None else {"shrink": shrink}
    return LikesRegressor(image_model=picture_model(size=(SIZE, SIZE)), **options)


def _own():
    return AutoLikesRegressor({"trend": AutoTrendRegressor(), "trend x picture": _picture()})


def _interval(scores, name, column):
    row = scores.loc[name]
    return f"{row[column]:.2f} [{row[column + ' low']:.2f}, {row[column + ' high']:.2f}]"


def null_rows(seeds, n, refit_every):
    """Skill on accounts where the pictures do nothing."""
    blind_skill, picture_excludes, ties = 0, 0, 0
    for seed in range(seeds):
        posts = _posts(n, seed, realistic=True, pixel_effect=0)
        report = evaluate({"trend x picture": _picture()}, posts, refit_every=refit_every)
        s, walked = report.scores, report.predictions
        trend = walked["trend chosen on training posts"]
        blind = {
            name: picture_skill(walked["actual"], walked[name], trend)
            for name in ("mean of training likes", "recent average (k=10)")
        }
        blind_skill += any(low > 0 for _, low, _ in blind.values())
        picture_excludes += not (
            s.loc["trend x picture", "picture skill low"]
            <= 0
            <= s.loc["trend x picture", "picture skill high"]
        )
        model = ConformalLikesRegressor(_own()).fit(posts.drop(columns="likes"), posts["likes"])
        ties += not has_skill(model)
        print(
            f"  seed {seed:2d}: blind n/a in evaluate ({s.loc['mean of training likes', 'picture skill']}); "
            f"statistic of their predictions: "
            + ", ".join(f"{name} {v[0]:+.2f} [{v[1]:+.2f}, {v[2]:+.2f}]" for name, v in blind.items())
            + f"; trend x picture {_interval(s, 'trend x picture', 'picture skill')}; "
            f"spe fit chose {model.estimator_.selected_!r}, "
            f"predict {'tie' if not has_skill(model) else 'ranks'}",
            flush=True,
        )
    print(
        f"null, {n} posts, {seeds} seeds: blind models with an interval above 0 (statistic on their "
        f"predictions): {blind_skill}; picture model's interval excludes 0: {picture_excludes}; "
        f"predict calls a tie: {ties} of {seeds}"
    )


def realistic_rows(seeds, n, refit_every):
    """Skill and pairwise accuracy on realistic accounts."""
    detected = 0
    for seed in range(seeds):
        posts = _posts(n, seed, realistic=True)
        s = evaluate({"trend x picture": _picture()}, posts, refit_every=refit_every).scores
        detected += s.loc["trend x picture", "picture skill low"] > 0
        row = s.loc["trend x picture"]
        print(
            f"  seed {seed}: skill {_interval(s, 'trend x picture', 'picture skill')}, pairwise "
            f"{row['pairwise %']:.1f}% [{row['pairwise % low']:.1f}, {row['pairwise % high']:.1f}], "
            f"MAE {row['MAE']:.1f} vs trend {s.loc['trend chosen on training posts', 'MAE']:.1f}",
            flush=True,
        )
    print(f"realistic, {n} posts: skill detected on {detected} of {seeds} seeds")


def _walked_mae(model, posts):
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    first = WalkForwardSplit().first_train_size(len(y))
    return np.abs(model.fit(X, y).predict(X)[first:] - y[first:]).mean()


def trend_rows(seeds, sizes, own_refit_every):
    """The mixed trend against the plain averages, and the account's own model against the trend."""
    for n in sizes:
        ratios, own, own_mixed = [], [], []
        for seed in range(seeds):
            posts = _posts(n, seed, realistic=True, pixel_effect=0)
            plain = min(
                _walked_mae(RecentAverageRegressor(k=10), posts), _walked_mae(EWMARegressor(0.3), posts)
            )
            mixed = _walked_mae(AutoTrendRegressor(), posts)
            ratios.append(mixed / plain)
            if own_refit_every:
                s = evaluate({"own": _own()}, posts, refit_every=own_refit_every).scores
                own.append(s.loc["own", "MAE"] / min(mixed, plain))
                own_mixed.append(s.loc["own", "MAE"] / s.loc["trend chosen on training posts", "MAE"])
        line = f"trend, null, {n} posts, seeds 0-{seeds - 1}: trend / min(recent-10, EWMA 0.3) median "
        line += f"{np.median(ratios):.3f}, worst {max(ratios):.3f}"
        if own:
            line += f"; AutoLikesRegressor / best trend median {np.median(own):.3f}, worst {max(own):.3f}"
            line += f" (refitted every {own_refit_every} posts); / its own trend (walked alike) median "
            line += f"{np.median(own_mixed):.3f}, worst {max(own_mixed):.3f}"
        print(line, flush=True)


def faint_rows(seeds, n, refit_every):
    """A picture effect on the ranking only: the shrunk factor keeps the trend's MAE and the ranking."""
    for seed in range(seeds):
        posts = _posts(n, seed, faint_pictures=True)
        s = evaluate(
            {"shrunk": _picture(), "whole": _picture(shrink=1.0)}, posts, refit_every=refit_every
        ).scores
        trend = s.loc["trend chosen on training posts", "MAE"]
        print(
            f"faint, {n} posts, seed {seed}: shrunk MAE / trend {s.loc['shrunk', 'MAE'] / trend:.3f}, "
            f"pairwise {s.loc['shrunk', 'pairwise %']:.1f}% [{s.loc['shrunk', 'pairwise % low']:.1f}, "
            f"{s.loc['shrunk', 'pairwise % high']:.1f}]; "
            f"unshrunk MAE / trend {s.loc['whole', 'MAE'] / trend:.3f} "
            f"(so an MAE-only choice keeps the trend and calls every picture a tie)",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", nargs="+", default=["trend"], choices=["null", "realistic", "trend", "faint"]
    )
    parser.add_argument("--seeds", type=int, default=None, help="seeds per row (default: the issue's)")
    parser.add_argument("--posts", type=int, default=None, help="posts per account for null/realistic/faint")
    parser.add_argument("--refit-every", type=int, default=5, help="posts between refits of picture models")
    parser.add_argument("--size", type=int, default=SIZE, help="picture side in px")
    parser.add_argument(
        "--own-refit-every", type=int, default=0, help="trend row: also walk AutoLikesRegressor"
    )
    args = parser.parse_args()
    globals()["SIZE"] = args.size  # every helper above reads it
    start = time.perf_counter()
    for row in args.rows:
        if row == "null":
            null_rows(args.seeds or 20, args.posts or 120, args.refit_every)
        elif row == "realistic":
            realistic_rows(args.seeds or 10, args.posts or 200, args.refit_every)
        elif row == "trend":
            trend_rows(args.seeds or 10, (60, 120, 200), args.own_refit_every)
        else:
            faint_rows(args.seeds or 5, args.posts or 200, args.refit_every)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
