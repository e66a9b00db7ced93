"""The ``spe tune`` command: a grid search over a CNN's epochs and learning rate."""

import json
import tempfile

from ._shared import (
    Interrupted,
    cnn_pipeline,
    load_checked,
    progress,
    save_fig,
    say,
    staged_output,
    summary,
)

__all__ = ["cmd_tune", "run_tuning"]


def _grid_tune(data, *, size, epochs, learning_rate, cv, folds, quiet, cache_dir):
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import GridSearchCV

    from ..evaluation._evaluate import make_cv

    grid = {"cnn__epochs": epochs, "cnn__learning_rate": learning_rate}
    n_fits = len(epochs) * len(learning_rate) * folds
    with (
        tempfile.TemporaryDirectory(prefix="spe-cache-") as cache,
        progress(n_fits, "tuning", quiet) as bar,
    ):
        done = [0]

        def neg_mse(estimator, X, y):
            # Scored once per fit: a progress tick, and a count for Ctrl-C.
            score = -mean_squared_error(y, estimator.predict(X))
            done[0] += 1
            bar.update()
            return score

        # memory= (or the disk cache): each fold's images are decoded once,
        # not once per setting.
        search = GridSearchCV(
            cnn_pipeline(size, memory=None if cache_dir else cache, cache_dir=cache_dir),
            grid,
            cv=make_cv(cv, folds),
            scoring=neg_mse,
            refit=True,
            error_score="raise",
        )
        try:
            search.fit(data.drop(columns="likes"), data["likes"].to_numpy())
        except KeyboardInterrupt:
            raise Interrupted(
                f"tuning interrupted after {done[0]} of {n_fits} fits; nothing was written"
            ) from None
        search.best_estimator_.set_params(memory=None)
    return search


def _fast_tune(data, *, size, epochs, learning_rate, cv, folds, quiet, jobs, cache_dir):
    from ..evaluation._evaluate import make_cv
    from ..model_selection._search import fast_grid_search

    runs = [0]
    with progress(None, "tuning (fast: training runs)", quiet) as bar:

        def tick(done):
            bar.update(done - runs[0])
            runs[0] = done

        try:
            return fast_grid_search(
                cnn_pipeline(size, cache_dir=cache_dir),
                data.drop(columns="likes"),
                data["likes"].to_numpy(),
                epochs=epochs,
                learning_rate=learning_rate,
                cv=make_cv(cv, folds),
                halving=True,
                n_jobs=jobs,
                progress=tick,
            )
        except KeyboardInterrupt:
            raise Interrupted(
                f"tuning interrupted after {runs[0]} training runs; nothing was written"
            ) from None


def run_tuning(
    data,
    out,
    *,
    epochs,
    learning_rate,
    size=64,
    cv="time",
    folds=5,
    quiet=False,
    fast=False,
    jobs=1,
    cache_dir=None,
):
    """Grid-search a CNN's epochs and learning rate, print the table and, when ``out`` is a folder,
    write the results, heatmap, best model and page there; returns the search."""
    import pandas as pd

    from ..persistence._save_load import save_model
    from ..plotting import plot_grid_heatmap

    settings = dict(size=size, epochs=epochs, learning_rate=learning_rate, cv=cv, folds=folds, quiet=quiet)
    if fast:
        search = _fast_tune(data, jobs=jobs, cache_dir=cache_dir, **settings)
    else:
        search = _grid_tune(data, cache_dir=cache_dir, **settings)
    results = pd.DataFrame(search.cv_results_)
    best = search.best_params_
    say(
        f"Best of {len(results)} settings ({folds} folds, {cv} CV): epochs={best['cnn__epochs']}, "
        f"learning_rate={best['cnn__learning_rate']:g}, RMSE {(-search.best_score_) ** 0.5:.1f} likes"
    )
    table = results[["param_cnn__epochs", "param_cnn__learning_rate", "mean_test_score", "rank_test_score"]]
    say(table.assign(rmse=(-table["mean_test_score"]) ** 0.5).to_string(index=False))
    if out is not None:
        results.drop(columns="params").to_csv(out / "cv_results.csv", index=False)
        (out / "best.json").write_text(
            json.dumps({"params": best, "mean_test_neg_mse": search.best_score_}, indent=2), encoding="utf-8"
        )
        save_fig(plot_grid_heatmap(search.cv_results_), out / "grid_heatmap.png")
        save_model(
            search.best_estimator_,
            out / "model",
            data=data,
            scores={"grid_best_neg_mse": search.best_score_, "cv": cv, "folds": folds},
        )
        from ..evaluation._evaluate import PROTOCOLS
        from ..report._pages import tuning_page

        protocol, heatmap = (
            f"{folds} folds, {PROTOCOLS[cv]}",
            {"Grid search": out / "grid_heatmap.png"},
        )
        tuning_page(search, figures=heatmap, protocol=protocol, intro=summary(data), path=out / "report.html")
    return search


def cmd_tune(args):
    data = load_checked(args.data, args.size, args.cache_dir)
    with staged_output(args.out, args.command) as out:
        run_tuning(
            data,
            out,
            size=args.size,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            cv=args.cv,
            folds=args.folds,
            quiet=args.quiet,
            fast=args.fast,
            jobs=args.jobs,
            cache_dir=args.cache_dir,
        )
    if args.out:
        say(f"Results, heatmap and best model written to {args.out}")
    return 0
