"""Pretrained eyes: the offline backbone's speed, its cost in a walk, and what it adds to the own model.

Run by hand::

    python benchmarks/bench_embed.py [--n 200] [--seed 0 | --seeds 10] [--part speed,cost,accounts]

- speed: pictures per second at 224x224, EfficientNet-Lite0 (the offline
  ImageNet weights) against ``keras.applications.MobileNetV3Small`` with
  random weights, the same 64 pictures, batches of 32, after one warm-up
  call each (the same run, side by side);
- cost: one fit of the account's own model with the embeddings candidate
  on ``--n`` scenes posts: pictures decoded and pictures through the
  backbone, per picture (goal: 1 and 1, the walk's refits reuse them), and
  the fit's time against the same fit without the embeddings candidate;
- accounts: on the scenes account (``make_posts(n, content="scenes",
  image_size=(224, 224))``), the realistic one (``realistic=True``) and the
  null one (``realistic=True, pixel_effect=0``), all seed ``--seed`` (0), every model
  walks forward (refit every 10 posts, the trend updated in between;
  models with a choice inside make it on the training posts only) and is
  scored on the same walked posts: MAE, the Spearman correlation and the
  pairwise accuracy of its predicted likes-to-trend ratio against the
  actual one (the trend: the walked ``trend`` row), for the own models
  which candidate they chose when fitted on all posts, and whether the own
  model with the embeddings candidate is worse than without it by more
  than one or two standard errors of the per-post paired difference; and
  the own model with embeddings averaging the candidates it cannot tell
  apart (the default) against the same choosing one (``average=False``).
"""

import argparse
import tempfile
import time

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from spe import AutoLikesRegressor, AutoTrendRegressor, LikesRegressor, PretrainedEmbedder
from spe._keras._backend import keras
from spe.datasets import make_posts
from spe.evaluation import WalkForwardSplit, precompute_pictures, walk_forward_predict
from spe.features import ImageLoader
from spe.models._base import picture_model
from spe.models._embeddings import embedding_model

ACCOUNTS = {
    "scenes": {"content": "scenes", "image_size": (224, 224)},
    "realistic": {"realistic": True},
    "null": {"realistic": True, "pixel_effect": 0.0},
}


def speed():
    X = np.random.RandomState(0).rand(64, 224, 224, 3).astype("float32")
    lite = PretrainedEmbedder(backbone="efficientnet-lite0", size=(224, 224)).fit()
    small = keras.applications.MobileNetV3Small(input_shape=(224, 224, 3), include_top=False, weights=None)
    rates = {}
    for name, run in (
        ("EfficientNet-Lite0 (offline ImageNet)", lambda: lite.transform(X)),
        ("MobileNetV3Small (random weights)", lambda: small.predict(X * 255.0, batch_size=32, verbose=0)),
    ):
        run()  # warm-up: traces the graph
        start = time.perf_counter()
        run()
        rates[name] = len(X) / (time.perf_counter() - start)
    for name, rate in rates.items():
        print(f"  {name:40s} {rate:7.1f} pictures/s")
    values = list(rates.values())
    print(f"  ratio Lite0 / MobileNetV3Small: {values[0] / values[1]:.2f}")


def pairwise_accuracy(actual, predicted):
    """Of all pairs of posts whose actual ratios differ, the share ranked the same way (ties: half)."""
    i, j = np.triu_indices(len(actual), 1)
    da, dp = np.sign(actual[i] - actual[j]), np.sign(predicted[i] - predicted[j])
    keep = da != 0
    return float(np.mean(np.where(dp[keep] == 0, 0.5, dp[keep] == da[keep])))


def own(embeddings, average=True):
    candidates = {
        "trend": AutoTrendRegressor(),
        "trend x image features": LikesRegressor(image_model=picture_model()),
    }
    if embeddings:
        candidates["trend x embeddings"] = LikesRegressor(image_model=embedding_model(), target="log_ratio")
    return AutoLikesRegressor(candidates, average=average)


def cost(n, seed=0):
    counts = {"decoded": 0, "backbone": 0}
    decode, predict = ImageLoader._decode, PretrainedEmbedder._predict

    def counting_decode(self, paths, size):
        counts["decoded"] += len(paths)
        return decode(self, paths, size)

    def counting_predict(self, X):
        counts["backbone"] += len(X)
        return predict(self, X)

    with tempfile.TemporaryDirectory() as tmp:
        posts = make_posts(n, directory=tmp, random_state=seed, **ACCOUNTS["scenes"])
        X, y = posts.drop(columns="likes"), posts["likes"]
        times = {}
        for embeddings in (False, True):
            ImageLoader._decode, PretrainedEmbedder._predict = counting_decode, counting_predict
            try:
                counts.update(decoded=0, backbone=0)
                start = time.perf_counter()
                own(embeddings).fit(X, y)
                times[embeddings] = time.perf_counter() - start
            finally:
                ImageLoader._decode, PretrainedEmbedder._predict = decode, predict
        print(
            f"  own model with embeddings on {n} posts: {counts['decoded'] / n:.2f} decodes and "
            f"{counts['backbone'] / n:.2f} backbone passes per picture (the embedder's own decodes included)"
        )
        print(
            f"  fit time: {times[True]:.1f} s with the embeddings candidate, {times[False]:.1f} s without "
            f"(ratio {times[True] / times[False]:.1f})"
        )


def account(name, n, seed=0):
    models = {
        "trend": AutoTrendRegressor(),
        "trend x image features": LikesRegressor(image_model=picture_model()),
        "trend x embeddings": LikesRegressor(image_model=embedding_model(), target="log_ratio"),
        "own model without embeddings": own(False),
        "own model with embeddings": own(True),
        "own model with embeddings, one chosen": own(True, average=False),
    }
    with tempfile.TemporaryDirectory() as tmp:
        posts = make_posts(n, directory=tmp, random_state=seed, **ACCOUNTS[name])
        X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
        cv = WalkForwardSplit(n_splits=5, test_size=10)
        walked = np.arange(cv.first_train_size(n), n)
        cache, preds = {}, {}
        start = time.perf_counter()
        for model_name, model in models.items():
            preds[model_name] = walk_forward_predict(precompute_pictures(model, X, cache), X, y, cv)[walked]
        elapsed = time.perf_counter() - start
        trend = np.maximum(preds["trend"], 1.0)
        actual = y[walked] / trend
        rows = {}
        for model_name, pred in preds.items():
            ratio = pred / trend
            rows[model_name] = {
                "MAE": np.mean(np.abs(pred - y[walked])),
                "Spearman": spearmanr(actual, ratio).statistic if np.ptp(ratio) else np.nan,
                "pairwise": pairwise_accuracy(actual, ratio),
            }
        chosen = {
            model_name: precompute_pictures(models[model_name], X, cache).fit(X, y).selected_
            for model_name in ("own model without embeddings", "own model with embeddings")
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    print(f"\n{name} account, {n} posts, seed {seed}, {len(walked)} walked ({elapsed:.0f} s):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    for model_name, selected in chosen.items():
        print(f"  {model_name}, fitted on all posts, chose: {selected}")
    best_trend = table.loc["trend", "MAE"]
    with_, without = (
        table.loc["own model with embeddings", "MAE"],
        table.loc["own model without embeddings", "MAE"],
    )
    gain = table.loc["trend x embeddings", "pairwise"] - table.loc["trend x image features", "pairwise"]
    # Per post, the with-embeddings model's absolute error less the without's: is the gap beyond noise?
    diff = np.abs(preds["own model with embeddings"] - y[walked]) - np.abs(
        preds["own model without embeddings"] - y[walked]
    )
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    print(
        f"  own model MAE with / without embeddings: {with_ / without:.3f} ({diff.mean():+.2f} likes per "
        f"post, standard error {se:.2f}); with / trend: {with_ / best_trend:.3f}; pairwise, embeddings - "
        f"image features: {100 * gain:+.1f} points"
    )
    one = table.loc["own model with embeddings, one chosen", "MAE"]
    print(f"  own model with embeddings, averaging / one chosen (average=False): {with_ / one:.3f}")
    return with_ / without, with_ / best_trend, diff.mean() / se if se > 0 else 0.0, with_ / one


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--part", default="speed,cost,accounts")
    parser.add_argument("--accounts", default="scenes,realistic,null")
    parser.add_argument("--seed", type=int, default=0, help="make_posts' random_state")
    parser.add_argument("--seeds", type=int, default=None, help="accounts: seeds 0 to SEEDS - 1, summed up")
    args = parser.parse_args()
    parts = args.part.split(",")
    if "speed" in parts:
        print("Pictures per second at 224x224, batches of 32:")
        speed()
    if "cost" in parts:
        print(f"\nWalk-forward cost of the embeddings candidate ({args.n} posts):")
        cost(args.n, args.seed)
    if "accounts" in parts:
        seeds = range(args.seeds) if args.seeds else [args.seed]
        ratios = {name: [account(name, args.n, seed) for seed in seeds] for name in args.accounts.split(",")}
        if len(seeds) > 1:
            print(f"\nOwn model, {args.n} posts, seeds 0-{len(seeds) - 1}: MAE with / without embeddings")
            for name, values in ratios.items():
                values = np.array(values)
                print(
                    f"  {name:9s} "
                    + " ".join(f"{v:.3f}" for v in values[:, 0])
                    + f"  mean {values[:, 0].mean():.3f}, worst {values[:, 0].max():.3f}; "
                    f"with / trend worst {values[:, 1].max():.3f}; with worse by more than 1 / 2 "
                    f"standard errors of the paired difference on {(values[:, 2] > 1).sum()} / "
                    f"{(values[:, 2] > 2).sum()} of {len(values)}"
                )
                print(
                    f"  {'':9s} averaging / one chosen: "
                    + " ".join(f"{v:.3f}" for v in values[:, 3])
                    + f"  mean {values[:, 3].mean():.3f}, worst {values[:, 3].max():.3f}"
                )


if __name__ == "__main__":
    main()
