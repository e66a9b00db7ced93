"""The ``spe`` command: evaluate, tune, fit, predict and demo.

Every command that writes files writes them to a temporary folder first and
moves them into ``--out`` only when it has finished, so an error or Ctrl-C
never leaves half-written output.
"""

import importlib
import json
import os
import sys
import tempfile

from ._parser import build_parser as _build_parser
from ._parser import split_actual
from ._shared import (
    Interrupted,
    cnn_pipeline,
    load_checked,
    progress,
    save_fig,
    say,
    staged_output,
    stdout_gone,
    summary,
)

__all__ = ["main"]


# -- spe tune ---------------------------------------------------------------


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
    say(_settings_table(results))
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


def _settings_table(results):
    """The settings tried, best first, in words: epochs, learning rate, RMSE in likes, rank."""
    table = results.sort_values("rank_test_score", kind="stable", na_position="last")
    return (
        table.assign(rmse=(-table["mean_test_score"]) ** 0.5)[
            ["param_cnn__epochs", "param_cnn__learning_rate", "rmse", "rank_test_score"]
        ]
        .rename(
            columns={
                "param_cnn__epochs": "epochs",
                "param_cnn__learning_rate": "learning rate",
                "rmse": "RMSE (likes)",
                "rank_test_score": "rank",
            }
        )
        .to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="not trained")
    )


def cmd_tune(args):
    with staged_output(args.out, args.command) as out:  # --out refused, if at all, before any work
        data = load_checked(args.data, args.size, args.cache_dir)
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


def _lazy(module, name):
    """A command whose code is imported only when it runs."""

    def run(args):
        return getattr(importlib.import_module(module, __package__), name)(args)

    return run


COMMANDS = {
    "evaluate": _lazy("._evaluate", "cmd_evaluate"),
    "tune": cmd_tune,
    "fit": _lazy("._next", "cmd_fit"),
    "predict": _lazy("._next", "cmd_predict"),
    "demo": _lazy("._demo", "cmd_demo"),
}


def _quiet_tensorflow():
    """The command's own output only: TensorFlow's C++ log lines and retracing warnings off.

    Process-wide settings, which the command may make and the library never
    does; set before TensorFlow is imported, as its C++ logging reads the
    variable once.
    """
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def main(argv=None):
    """Run the ``spe`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success (also when the reader of the output stopped early,
        as ``head`` does), 1 on an error (one line on stderr), 130 when
        interrupted.

    Examples
    --------
    >>> main(["predict", "/no/such/model", "a.jpg"])
    1
    """
    try:
        return _main(argv)
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # `spe --help | head -1`: what is left goes nowhere
            stdout_gone()


def _main(argv):
    args = _build_parser().parse_args(split_actual(sys.argv[1:] if argv is None else argv))
    from .._text import visible
    from ..exceptions import DataError, ImageLoadError, ModelLoadError

    _quiet_tensorflow()
    try:
        return COMMANDS[args.command](args)
    except Interrupted as exc:
        print(f"spe: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("spe: interrupted; nothing was written", file=sys.stderr)
        return 130
    # Bad input only: spe's own errors, the ValueErrors of parameter and
    # data checks, and files that cannot be read or written. Anything else
    # (a TypeError, say) is a bug and keeps its traceback.
    except (DataError, ImageLoadError, ModelLoadError, ValueError, OSError) as exc:
        if args.debug:
            raise
        # visible: a file name in the message may hold escape sequences or bytes that are not UTF-8.
        print(f"spe: error: {visible(str(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
