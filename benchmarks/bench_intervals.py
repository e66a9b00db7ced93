"""Coverage and width of walk-forward 80% intervals: today's fixed level beside the adaptive one.

Run by hand: ``python benchmarks/bench_intervals.py [--n 400] [--seeds 0 1 2] [--small 200]``.
For three synthetic accounts per seed, at 16x16 pixels,

- ``realistic``: ``make_posts(n, realistic=True)``;
- ``null``: the same with ``pixel_effect=0``;
- ``spiky``: ``make_posts(n, spiky=True)``: spikes, level shifts, a change of regime;

walks cheap models forward with :func:`spe.evaluation.evaluate` (the trend
chosen on the training posts, an EWMA of log likes, the recent average;
``--picture`` adds a trend x picture model) and gives every walked post
after a warm-up of 20 the interval calibrated on the posts before it
(:func:`spe.walk_forward_intervals`, residuals relative to the trend), two
ways, side by side in one run:

- ``fixed``: split-conformal at the nominal level (``aci_step=None``, what
  spe did before);
- ``adaptive``: the level moved after each post by adaptive conformal
  inference (the library's default step, or ``--aci-step``).

Prints, per account, model and way, the coverage pooled over the seeds
(goal: 0.77 to 0.83 at 80%), each seed's, the mean width in likes and the
width's ratio to the fixed level's; then the same for single ``--small``-post
accounts, one row per seed.

``--forward``: instead, fits :class:`spe.ConformalLikesRegressor` around the
trend on the first half of each account and asks it about each later post in
turn, its trend and its calibration updated with ``partial_fit`` after each,
fixed level against adaptive (both calibrations grow with every post; before
the level adapted, ``partial_fit`` left the calibration as fitted).
"""

import argparse
import tempfile

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import (
    AutoTrendRegressor,
    ConformalLikesRegressor,
    EWMARegressor,
    ImageFeatures,
    LikesRegressor,
    walk_forward_intervals,
)
from spe.datasets import make_posts
from spe.evaluation import evaluate

TREND = "trend chosen on training posts"
ACCOUNTS = {
    "realistic": {"realistic": True},
    "null": {"realistic": True, "pixel_effect": 0.0},
    "spiky": {"spiky": True},
}


def _models(picture):
    models = {"EWMA of log likes": EWMARegressor(log=True)}
    if picture:
        features = make_pipeline(
            ImageFeatures(size=(16, 16), faces=False), StandardScaler(), RidgeCV(np.logspace(-2, 3, 12))
        )
        models["trend x picture"] = LikesRegressor(image_model=features)
    return models


def _ways(args):
    """Today's fixed level, and the adaptive one (the library's default step unless --aci-step)."""
    adaptive = {} if args.aci_step is None else {"aci_step": args.aci_step}
    return [("fixed", {"aci_step": None}), ("adaptive", adaptive)]


def _account(n, account, seed, tmp):
    return make_posts(n, directory=tmp, image_size=(16, 16), random_state=seed, **ACCOUNTS[account])


def _walk_rows(args, n, account, seed):
    """One row per model and way: posts inside and mean width, for one account."""
    with tempfile.TemporaryDirectory() as tmp:
        posts = _account(n, account, seed, tmp)
        report = evaluate(_models(args.picture), posts, refit_every=args.refit_every)
    pred = report.predictions
    actual, trend = pred["actual"].to_numpy(), pred[TREND].to_numpy()
    rows = []
    for name in [TREND, "EWMA of log likes", "recent average (k=10)"] + ["trend x picture"] * args.picture:
        for way, step in _ways(args):
            low, high = walk_forward_intervals(
                actual, pred[name].to_numpy(), trend=trend, confidence=args.confidence, **step
            )
            kept = ~np.isnan(low)
            inside = (actual[kept] >= low[kept]) & (actual[kept] <= high[kept])
            rows.append(
                {
                    "account": account,
                    "seed": seed,
                    "model": name,
                    "way": way,
                    "posts": int(kept.sum()),
                    "inside": int(inside.sum()),
                    "coverage": inside.mean(),
                    "width": (high - low)[kept].mean(),
                }
            )
    return rows


def _pooled(table):
    keys = ["account", "model", "way"]
    pooled = table.groupby(keys, sort=False).agg(
        posts=("posts", "sum"), inside=("inside", "sum"), width=("width", "mean")
    )
    pooled["coverage"] = pooled["inside"] / pooled["posts"]
    per_seed = table.pivot_table(index=keys, columns="seed", values="coverage", sort=False)
    per_seed.columns = [f"seed {seed}" for seed in per_seed.columns]
    pooled = pooled.join(per_seed)
    fixed = pooled.xs("fixed", level="way")["width"]
    pooled["width / fixed"] = pooled["width"] / fixed.reindex(pooled.index.droplevel("way")).to_numpy()
    return pooled.drop(columns="inside")


def _forward(args):
    rows = []
    for account in ACCOUNTS:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                posts = _account(args.n, account, seed, tmp)
            X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
            half = args.n // 2
            for way, step in _ways(args):
                model = ConformalLikesRegressor(AutoTrendRegressor(), confidence=args.confidence, **step)
                model.fit(X[:half], y[:half])
                bounds = []
                for i in range(half, args.n):
                    bounds.append(model.predict_interval(X[i : i + 1])[0])
                    model.partial_fit(X[i : i + 1], y[i : i + 1])
                low, high = np.array(bounds).T
                inside = (y[half:] >= low) & (y[half:] <= high)
                rows.append(
                    {
                        "account": account,
                        "seed": seed,
                        "model": "trend",
                        "way": way,
                        "posts": len(inside),
                        "inside": int(inside.sum()),
                        "coverage": inside.mean(),
                        "width": (high - low).mean(),
                    }
                )
            print(f"{account} seed {seed} done", flush=True)
    _print(
        f"Fitted on the first {args.n // 2} posts, asked about each later one", _pooled(pd.DataFrame(rows))
    )


def _print(title, frame):
    with pd.option_context("display.width", 220, "display.max_rows", 500, "display.max_columns", 20):
        print(f"\n{title}:")
        print(frame.to_string(float_format=lambda v: f"{v:.3f}"))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--small", type=int, default=200, help="posts of the single accounts (0: none)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--refit-every", type=int, default=10)
    parser.add_argument("--confidence", type=float, default=0.8)
    parser.add_argument("--aci-step", type=float, default=None, help="default: the library's")
    parser.add_argument("--picture", action="store_true", help="also a trend x picture model")
    parser.add_argument("--forward", action="store_true")
    args = parser.parse_args()
    if args.forward:
        return _forward(args)
    sizes = [args.n] + ([args.small] if args.small else [])
    for n in sizes:
        rows = []
        for account in ACCOUNTS:
            for seed in args.seeds:
                rows += _walk_rows(args, n, account, seed)
                print(f"{n} posts, {account}, seed {seed} done", flush=True)
        table = pd.DataFrame(rows)
        _print(f"{n}-post accounts, coverage pooled over seeds {args.seeds}", _pooled(table))


if __name__ == "__main__":
    main()
