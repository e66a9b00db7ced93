"""Coverage and width of walk-forward conformal intervals: absolute against normalized residuals.

Run by hand: ``python benchmarks/bench_intervals.py [--n 200] [--seeds 0 1 2] [--refit-every 5]``.
For a realistic account (``make_posts(n, realistic=True)``) and a null one
(``pixel_effect=0``) per seed, at 16x16 pixels, walks four cheap models
forward with :func:`spe.evaluation.evaluate` and gives every walked post
after a warm-up of 20 the interval calibrated on the posts before it
(:func:`spe.walk_forward_intervals`), three ways, side by side:

- ``absolute``: crepes on plain residuals (one width for every post);
- ``by prediction``: residuals divided by the model's predicted likes;
- ``by trend``: residuals divided by the trend's prediction (what spe uses).

Prints, per model, account and seed, the share of posts inside the
interval (goal: 0.75 to 0.85 at 80%) and its mean width in likes, then the
means over seeds.

``--forward``: instead, fits :class:`spe.ConformalLikesRegressor` on the
first half of ``make_posts(n)`` and asks it about each later post in turn
(its trend updated with ``partial_fit`` after each), for the account's own
model (whose calibration residuals also chose it: slightly optimistic) and
for the picture model alone (no choice), side by side.
"""

import argparse
import tempfile

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    ConformalLikesRegressor,
    ImageFeatures,
    LikesRegressor,
    RecentAverageRegressor,
    walk_forward_intervals,
)
from spe.datasets import make_posts
from spe.evaluation import evaluate

TREND = "trend chosen on training posts"


def _models():
    def picture():
        features = make_pipeline(
            ImageFeatures(size=(16, 16), faces=False), StandardScaler(), RidgeCV(np.logspace(-2, 3, 12))
        )
        return LikesRegressor(image_model=features)

    return {
        "recent average (k=10)": RecentAverageRegressor(k=10),
        "trend": AutoTrendRegressor(),
        "trend x picture": picture(),
        "auto": AutoLikesRegressor({"trend": AutoTrendRegressor(), "trend x picture": picture()}),
    }


def _forward(args):
    rows = []
    for account, pixel_effect in (("realistic", None), ("null", 0.0)):
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                posts = make_posts(
                    args.n,
                    directory=tmp,
                    image_size=(16, 16),
                    realistic=True,
                    pixel_effect=pixel_effect,
                    random_state=seed,
                )
                X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
                half = args.n // 2
                models = _models()
                for name in ("trend x picture", "auto"):
                    model = ConformalLikesRegressor(models[name], confidence=args.confidence).fit(
                        X[:half], y[:half]
                    )
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
                            "model": name,
                            "posts": len(inside),
                            "coverage": inside.mean(),
                            "width": (high - low).mean(),
                        }
                    )
            print(f"{account} seed {seed} done", flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nMeans over seeds:")
    print(
        table.groupby(["account", "model"], sort=False)[["coverage", "width"]]
        .mean()
        .to_string(float_format=lambda v: f"{v:.3f}")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--refit-every", type=int, default=5)
    parser.add_argument("--confidence", type=float, default=0.8)
    parser.add_argument("--forward", action="store_true")
    args = parser.parse_args()
    if args.forward:
        return _forward(args)
    rows = []
    for account, pixel_effect in (("realistic", None), ("null", 0.0)):
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                posts = make_posts(
                    args.n,
                    directory=tmp,
                    image_size=(16, 16),
                    realistic=True,
                    pixel_effect=pixel_effect,
                    random_state=seed,
                )
                models = _models()
                report = evaluate(models, posts, refit_every=args.refit_every)
            pred = report.predictions
            actual, trend = pred["actual"].to_numpy(), pred[TREND].to_numpy()
            for name in models:
                predicted = pred[name].to_numpy()
                ways = {
                    "absolute": walk_forward_intervals(
                        actual, predicted, confidence=args.confidence, normalize=False
                    ),
                    "by prediction": walk_forward_intervals(actual, predicted, confidence=args.confidence),
                    "by trend": walk_forward_intervals(
                        actual, predicted, trend=trend, confidence=args.confidence
                    ),
                }
                for way, (low, high) in ways.items():
                    kept = ~np.isnan(low)
                    inside = (actual[kept] >= low[kept]) & (actual[kept] <= high[kept])
                    rows.append(
                        {
                            "account": account,
                            "seed": seed,
                            "model": name,
                            "residuals": way,
                            "posts": int(kept.sum()),
                            "coverage": inside.mean(),
                            "width": (high - low)[kept].mean(),
                            "MAE": np.abs(actual - predicted)[kept].mean(),
                        }
                    )
            print(f"{account} seed {seed} done", flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        means = table.groupby(["account", "model", "residuals"], sort=False)[
            ["coverage", "width", "MAE"]
        ].mean()
        print("\nMeans over seeds:")
        print(means.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
