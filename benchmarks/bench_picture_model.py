"""The picture model behind the embeddings: which pipeline after the backbone, measured side by side.

Run by hand::

    python benchmarks/bench_picture_model.py --dev /work/devaccount/seed \\
        [--n 200] [--scenes 3] [--seeds 10] [--pipelines old,new] [--embedders lite0] \\
        [--own] [--store /tmp/spe-bench-pictures]

Accounts: the scenes preset (``make_posts(n, content="scenes",
image_size=(224, 224))``, seeds 0 to ``--scenes`` - 1: pictures matter by
what they show), the realistic one (``realistic=True``) and the null one
(``realistic=True, pixel_effect=0``: pictures do not matter), seeds 0 to
``--seeds`` - 1, and, with ``--dev``, a real account read with
:func:`spe.datasets.load_folder` (the seed's 185 selfies: pictures barely
matter there). Nothing of that account is written anywhere.

Every model walks forward (:class:`~spe.evaluation.WalkForwardSplit`
``(n_splits=5, test_size=10)``: refit every 10 posts, the trend updated in
between) and is scored on the same walked posts: MAE, and the pairwise
accuracy of its predicted likes-to-trend ratio against the actual one, the
trend being the walked ``EWMA(0.3)``. Each picture model is
``LikesRegressor(image_model=embedder -> pipeline, target="log_ratio")``
(``trend x embeddings``). Each account's pictures go through each backbone
once: the embeddings are computed once per account and embedder and shared
by every pipeline (and, with ``--store``, kept on disk between runs, by the
account's name and the embedder's settings).

With ``--together``, one ridge over the embeddings' components, the
named picture features and the post's own features (issue 37's "one
penalised model instead of choosing among them"), alone and as the own
model's only picture candidate, beside the own model as ``spe fit``
builds it.

With ``--own``, the account's own model (:class:`~spe.AutoLikesRegressor`
over ``trend``, ``trend x picture`` and ``trend x embeddings``, as
``spe.models._candidates`` builds it) walks forward twice, its ``trend x
embeddings`` learnt with the old pipeline and with the new one, and is
fitted on all posts to show which candidates it chooses.

The table at the end: per preset, the mean over its seeds of each row's
MAE relative to EWMA(0.3)'s (below 1: better than the trend) and its
pairwise accuracy.
"""

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spe import (
    AutoLikesRegressor,
    AutoTrendRegressor,
    EWMARegressor,
    ImageFeatures,
    LikesRegressor,
    PostFeatures,
    PretrainedEmbedder,
)
from spe.datasets import load_folder, make_posts
from spe.evaluation import WalkForwardSplit, precompute_pictures, walk_forward_predict
from spe.model_selection._pictures import _Table, fingerprint
from spe.models._base import default_alphas, picture_model
from spe.models._candidates import candidates
from spe.models._embeddings import EMBEDDING_ALPHAS, embedding_model

PRESETS = {
    "scenes": {"content": "scenes", "image_size": (224, 224)},
    "realistic": {"realistic": True},
    "null": {"realistic": True, "pixel_effect": 0.0},
}

WIDE = np.logspace(-2, 6, 17)


def _old():
    """spe before #37: components standardised after PCA (whitened) before the ridge."""
    return [PCA(n_components=0.9, svd_solver="full"), StandardScaler(), RidgeCV(alphas=default_alphas())]


def _new():
    """What :func:`embedding_model` builds now, after its backbone."""
    return list(embedding_model(weights=None).named_steps.values())[1:]


#: name -> the steps after the embedder (a new list each call)
PIPELINES = {
    "old": _old,
    "new": _new,
    "PCA(10)->scale->ridge": lambda: [
        PCA(10, svd_solver="full"),
        StandardScaler(),
        RidgeCV(alphas=default_alphas()),
    ],
    "scale->PCA(0.9)->ridge": lambda: [
        StandardScaler(),
        PCA(0.9, svd_solver="full"),
        RidgeCV(alphas=default_alphas()),
    ],
    "scale->PCA(10)->ridge": lambda: [
        StandardScaler(),
        PCA(10, svd_solver="full"),
        RidgeCV(alphas=default_alphas()),
    ],
    "scale->PCA(10)->ridge wide": lambda: [
        StandardScaler(),
        PCA(10, svd_solver="full"),
        RidgeCV(alphas=WIDE),
    ],
    "scale->PCA(0.9)->ridge wide": lambda: [
        StandardScaler(),
        PCA(0.9, svd_solver="full"),
        RidgeCV(alphas=WIDE),
    ],
    "scale->ridge wide": lambda: [StandardScaler(), RidgeCV(alphas=WIDE)],
    "PCA(10)->ridge wide": lambda: [PCA(10, svd_solver="full"), RidgeCV(alphas=WIDE)],
    "ridge wide": lambda: [RidgeCV(alphas=WIDE)],
    "PCA(0.9)->ridge": lambda: [PCA(0.9, svd_solver="full"), RidgeCV(alphas=default_alphas())],
    "PCA(0.9)->ridge wide": lambda: [PCA(0.9, svd_solver="full"), RidgeCV(alphas=WIDE)],
    "PCA(0.9)->scale->ridge wide": lambda: [
        PCA(0.9, svd_solver="full"),
        StandardScaler(),
        RidgeCV(alphas=WIDE),
    ],
}

#: name -> the backbone, its side and whether each picture is averaged with its mirror image
EMBEDDERS = {
    "lite0": ("efficientnet-lite0", 224, False),
    "lite0 flip": ("efficientnet-lite0", 224, True),
    "lite1": ("efficientnet-lite1", 240, False),
    "lite2": ("efficientnet-lite2", 260, False),
}


def embedder(name):
    backbone, side, flip = EMBEDDERS[name]
    params = {"flip": True} if flip else {}
    return PretrainedEmbedder(backbone=backbone, size=(side, side), random_state=0, **params)


def pairwise_accuracy(actual, predicted):
    """Of all pairs of posts whose actual ratios differ, the share ranked the same way (ties: half)."""
    i, j = np.triu_indices(len(actual), 1)
    da, dp = np.sign(actual[i] - actual[j]), np.sign(predicted[i] - predicted[j])
    keep = da != 0
    return float(np.mean(np.where(dp[keep] == 0, 0.5, dp[keep] == da[keep])))


def embeddings_cache(label, X, embedders, store):
    """A ``precompute_pictures`` cache of each embedder's rows for ``X``'s pictures, computed once."""
    cache = {}
    paths = X["image"].astype(str).tolist()
    for name in embedders:
        model = embedder(name)
        settings = json.dumps({k: str(v) for k, v in sorted(model.get_params().items())})
        file = None
        if store is not None:
            digest = hashlib.sha1(f"{label}|{len(paths)}|{settings}".encode()).hexdigest()[:16]
            file = Path(store) / f"{label.replace(' ', '-')}-{digest}.npy"
        if file is not None and file.is_file():
            rows = np.load(file)
        else:
            start = time.perf_counter()
            rows = np.asarray(model.fit(paths).transform(paths))
            print(
                f"    {label}: {name} embedded {len(paths)} pictures in {time.perf_counter() - start:.0f} s"
            )
            if file is not None:
                file.parent.mkdir(parents=True, exist_ok=True)
                np.save(file, rows)
        cache[fingerprint(model)] = _Table(paths, rows)
    return cache


def trend_x(embedder_name, steps):
    return LikesRegressor(image_model=make_pipeline(embedder(embedder_name), *steps), target="log_ratio")


def together(embedder_name, post):
    """One ridge over the embeddings' components, the named picture features and (``post``) the post's.

    The embeddings' components centred, not scaled (as the new pipeline), the
    named features and the post's standardised; one penalty chosen by RidgeCV.
    """
    blocks = [
        ("embeddings", make_pipeline(embedder(embedder_name), *_new()[:-1]), "image"),
        ("picture", make_pipeline(ImageFeatures(size=(64, 64)), StandardScaler()), "image"),
    ]
    if post:
        blocks.append(
            ("post", make_pipeline(PostFeatures(), StandardScaler()), make_column_selector("^(?!image$)"))
        )
    steps = make_pipeline(ColumnTransformer(blocks), RidgeCV(alphas=EMBEDDING_ALPHAS))
    return LikesRegressor(image_model=steps, target="log_ratio")


def own_model(embedder_name, steps):
    """The account's own model as ``_candidates`` builds it, its embeddings' image model swapped."""
    return AutoLikesRegressor(
        {
            "trend": AutoTrendRegressor(),
            "trend x picture": LikesRegressor(image_model=picture_model(size=(64, 64))),
            "trend x embeddings": trend_x(embedder_name, steps),
        }
    )


def account(label, posts, args):
    X, y = posts.drop(columns="likes"), posts["likes"].to_numpy(dtype=float)
    n = len(y)
    cv = WalkForwardSplit(n_splits=5, test_size=10)
    walked = np.arange(cv.first_train_size(n), n)
    embedders = args.embedders.split(",")
    cache = embeddings_cache(label, X, embedders, args.store)
    models = {"EWMA(0.3)": EWMARegressor(alpha=0.3)}
    for e in embedders:
        for p in args.pipelines.split(","):
            models[f"{p} [{e}]"] = trend_x(e, PIPELINES[p]())
    if args.own:
        models["own model, old"] = own_model(embedders[0], _old())
        models["own model, new"] = own_model(embedders[0], _new())
    if args.together:
        post = {"timestamp", "caption"} <= set(X.columns)
        models["together"] = together(embedders[0], post)
        # The own model as spe fit builds it (choosing among its candidates), and choosing
        # only between the trend and the one ridge over everything.
        models["own model, choosing"] = candidates(size=64, cnn=False, post_features=post)[
            "account's own model"
        ]
        models["own model, together"] = AutoLikesRegressor(
            {"trend": AutoTrendRegressor(), "trend x everything": together(embedders[0], post)}
        )
    start = time.perf_counter()
    preds = {
        name: walk_forward_predict(precompute_pictures(m, X, cache), X, y, cv)[walked]
        for name, m in models.items()
    }
    trend = np.maximum(preds["EWMA(0.3)"], 1.0)
    actual = y[walked] / trend
    rows = {}
    for name, pred in preds.items():
        err = np.abs(pred - y[walked])
        rows[name] = {"MAE": err.mean(), "pairwise": pairwise_accuracy(actual, pred / trend)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["vs EWMA"] = table["MAE"] / table.loc["EWMA(0.3)", "MAE"]
    chosen = {}
    owns = [m for m in models if m.startswith("own model")]
    if owns:
        for name in owns:
            fitted = precompute_pictures(models[name], X, cache).fit(X, y)
            chosen[name] = getattr(fitted, "selected_", None)
    print(f"\n{label}: {n} posts, {len(walked)} walked ({time.perf_counter() - start:.0f} s)")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    for name, selected in chosen.items():
        print(f"  {name}, fitted on all posts, chose: {selected}")
    return table, chosen


def accounts(args):
    """(preset, label, posts) for every account asked for; synthetic ones written to a temporary folder."""
    if args.dev:
        yield "dev", "dev", load_folder(args.dev)
    tmp = tempfile.mkdtemp(prefix="spe-bench-picture-")
    for preset, seeds in (("scenes", args.scenes), ("realistic", args.seeds), ("null", args.seeds)):
        if preset not in args.presets.split(","):
            continue
        for seed in range(seeds):
            label = f"{preset} {seed}"
            folder = Path(tmp) / f"{preset}-{seed}-{args.n}"
            yield preset, label, make_posts(args.n, directory=folder, random_state=seed, **PRESETS[preset])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dev", default=None, help="folder of a real account (numbered pictures, likes file)"
    )
    parser.add_argument("--n", type=int, default=200, help="posts per synthetic account")
    parser.add_argument("--scenes", type=int, default=3, help="scenes seeds 0 to SCENES - 1")
    parser.add_argument("--seeds", type=int, default=10, help="realistic and null seeds 0 to SEEDS - 1")
    parser.add_argument("--presets", default="scenes,realistic,null")
    parser.add_argument("--pipelines", default="old,new")
    parser.add_argument("--embedders", default="lite0")
    parser.add_argument(
        "--own", action="store_true", help="also the own model, with the old and new pipeline"
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="also one ridge over embeddings, named picture and post features, alone and in the own model",
    )
    parser.add_argument(
        "--store", default=None, help="folder keeping the embeddings between runs (by account and embedder)"
    )
    args = parser.parse_args()
    results = {}
    for preset, label, posts in accounts(args):
        results.setdefault(preset, []).append(account(label, posts, args))
    print("\nMean over each preset's accounts: MAE / EWMA(0.3)'s, pairwise accuracy (trend: EWMA(0.3))")
    summary = {}
    for preset, runs in results.items():
        tables = [t for t, _ in runs]
        summary[(preset, "MAE/EWMA")] = sum(t["vs EWMA"] for t in tables) / len(tables)
        summary[(preset, "pairwise")] = sum(t["pairwise"] for t in tables) / len(tables)
        summary[(preset, "MAE")] = sum(t["MAE"] for t in tables) / len(tables)
    table = pd.DataFrame(summary)
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"accounts per preset: { {p: len(r) for p, r in results.items()} }")
    for preset, runs in results.items():
        for name in sorted({k for _, c in runs for k in c}):
            picks = [str(c.get(name)) for _, c in runs if c]
            if picks:
                print(f"  {preset:9s} {name}: " + "; ".join(picks))


if __name__ == "__main__":
    main()
