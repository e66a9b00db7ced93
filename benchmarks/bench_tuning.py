"""Plain GridSearchCV against spe's fast tuning path, on the same grid, in one run.

Run by hand: ``python benchmarks/bench_tuning.py`` (about 15 minutes on 2
cores). make_posts(200) at 64x64; grid epochs {10, 30, 50} x learning rate
{1e-2, 1e-3, 1e-4}; 5 folds (shuffled K-fold, seed 0) for both.

- naive: ``GridSearchCV`` over the Pipeline(ImageLoader, CNNLikesRegressor),
  pictures decoded for every cell, a fresh network per cell and fold;
- scikit-learn's ``HalvingGridSearchCV`` with epochs as the resource
  (``Pipeline(memory=...)``: pictures decoded once per fold), for reference:
  it trains the survivors afresh and never reaches 50 epochs;
- fast: :func:`spe.tuning.fast_grid_search`, pictures decoded once per fold,
  one run per learning rate and fold scored at 10, 30 and 50 epochs,
  successive halving over learning rates, 2 processes.

``--posts``, ``--size`` and ``--epochs`` (e.g. ``--posts 100 --size 32
--epochs 5,15,25``, about 5 minutes) give a reduced run for a busy machine.

Prints both wall times, the ratio, the epochs each trained and both best
cross-validated scores (negative MSE). Goal: at least 4x faster with an
equal or better best score. Each fast run starts its worker processes
afresh (TensorFlow imported in each), as one ``spe tune --fast`` call does.
"""

import argparse
import tempfile
import time

from joblib.executor import get_memmapping_executor
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, KFold
from sklearn.pipeline import Pipeline

from spe import CNNLikesRegressor, ImageLoader
from spe.datasets import make_posts
from spe.tuning import fast_grid_search


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--size", type=int, default=64, help="picture side (default 64)")
    parser.add_argument("--epochs", default="10,30,50", help="epoch grid (default 10,30,50)")
    args = parser.parse_args()
    epochs, rates = [int(e) for e in args.epochs.split(",")], [1e-2, 1e-3, 1e-4]
    cv = KFold(5, shuffle=True, random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        posts = make_posts(args.posts, directory=tmp, random_state=0)
        y = posts["likes"].to_numpy()
        pipe = Pipeline(
            [("load", ImageLoader(size=(args.size, args.size))), ("cnn", CNNLikesRegressor(random_state=0))]
        )
        rows = []

        def timed_search(name, search, n_epochs):
            t0 = time.perf_counter()
            search.fit(posts, y)
            rows.append(
                (name, time.perf_counter() - t0, search.best_score_, search.best_params_, n_epochs(search))
            )

        if not args.skip_naive:
            grid = GridSearchCV(
                pipe,
                {"cnn__epochs": epochs, "cnn__learning_rate": rates},
                cv=cv,
                scoring="neg_mean_squared_error",
                refit=False,
            )
            timed_search("naive GridSearchCV", grid, lambda _: 5 * len(rates) * sum(epochs))
        # scikit-learn's own successive halving, epochs as the resource: each
        # survivor trains afresh at the next level (10, then 30; 90 > 50).
        halving = HalvingGridSearchCV(
            clone(pipe).set_params(memory=f"{tmp}/joblib"),  # decode once per fold
            {"cnn__learning_rate": rates},
            resource="cnn__epochs",
            min_resources=epochs[0],
            max_resources=epochs[-1],
            factor=3,
            cv=cv,
            scoring="neg_mean_squared_error",
            refit=False,
        )
        timed_search(
            "HalvingGridSearchCV (epochs resource)",
            halving,
            lambda h: 5 * sum(r * c for r, c in zip(h.n_resources_, h.n_candidates_)),
        )
        for name, kwargs in [
            ("snapshots, 1 process", dict(halving=False, n_jobs=None)),
            ("snapshots, 2 processes", dict(halving=False, n_jobs=2)),
            ("snapshots + halving, 2 processes", dict(halving=True, n_jobs=2)),
        ]:
            get_memmapping_executor(2).shutdown(wait=True)  # no warm workers from the run before
            t0 = time.perf_counter()
            res = fast_grid_search(
                pipe, posts, y, epochs=epochs, learning_rate=rates, cv=cv, refit=False, **kwargs
            )
            rows.append(
                (name, time.perf_counter() - t0, res.best_score_, res.best_params_, res.n_epochs_trained_)
            )
    base = rows[0][1]
    print(f"make_posts({args.posts}), {args.size}x{args.size}, grid {epochs} x {rates}, 5-fold CV")
    for name, seconds, score, params, n_epochs in rows:
        print(
            f"{name:40s} {seconds:7.1f} s  {base / seconds:5.2f}x  epochs trained {n_epochs:5d}  "
            f"best {score:9.1f} (RMSE {(-score) ** 0.5:5.1f}) at {params}"
        )


if __name__ == "__main__":
    main()
