"""The ``spe`` command: evaluate, tune, fit, predict and demo.

Every command that writes files writes them to a temporary folder first and
moves them into ``--out`` only when it has finished, so an error or Ctrl-C
never leaves half-written output.
"""

import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["main"]


class _Interrupted(Exception):
    pass


def _floats(text):
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None


_DATA_HELP = (
    "a seed-format folder, a CSV file, an instaloader profile folder, or Instagram's own download "
    "(its .zip or the folder it unzips to; a zip's pictures are copied beside it, into NAME-pictures/)"
)


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="spe",
        description="Social Performance Estimator: predict likes on your own account's pictures.",
    )
    # The global flags, accepted before and after the command (spe --quiet demo,
    # spe demo --quiet); SUPPRESS lets a subcommand leave the main parser's value alone.
    common = argparse.ArgumentParser(add_help=False)
    for p, default in ((parser, False), (common, argparse.SUPPRESS)):
        p.add_argument("--quiet", action="store_true", default=default, help="no progress bars")
        p.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")
        p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def data_options(p, folds=5, walk=False):
        p.add_argument("data", metavar="DATA", help=_DATA_HELP)
        p.add_argument(
            "--cv",
            choices=("walk", "time", "kfold") if walk else ("time", "kfold"),
            default="walk" if walk else "time",
            help=("walk: every post predicted from all the posts before it (default); " if walk else "")
            + "time: train on earlier posts, test on later ones"
            + ("" if walk else " (default)")
            + "; kfold: shuffled",
        )
        if walk:
            p.add_argument(
                "--refit-every",
                type=int,
                default=None,
                help="walk: posts between refits (default: every post; the CNN as often as --folds)",
            )
        p.add_argument("--folds", type=int, default=folds, help=f"cross-validation folds (default {folds})")
        p.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
        cache_option(p)

    def cache_option(p):
        p.add_argument(
            "--cache-dir",
            type=Path,
            default=None,
            help="decode the pictures once into this folder (uint8, memory-mapped) and stream them "
            "to the network: flat memory for accounts of thousands of posts; later runs reuse it",
        )

    p = sub.add_parser("evaluate", parents=[common], help="cross-validated report against the baselines")
    data_options(p, walk=True)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument(
        "--compare",
        action="store_true",
        help="compare trend, CNN, image features, embeddings and trend x picture in one table",
    )
    p.add_argument(
        "--embedding-weights",
        default="auto",
        help="backbone weights for --compare: 'imagenet' (downloads once; Keras caches it) or a "
        "weights file saved with model.save_weights; default: ImageNet's when cached or downloadable, "
        "else the embeddings row is left out with a note",
    )
    p.add_argument("--out", type=Path, help="folder for report.json, report.csv and plots")

    p = sub.add_parser(
        "tune", parents=[common], help="cross-validated grid search over epochs and learning rate"
    )
    data_options(p)
    p.add_argument("--epochs", type=_ints, default=[10, 30, 50], help="e.g. 10,30,50")
    p.add_argument("--learning-rate", type=_floats, default=[1e-2, 1e-3, 1e-4], help="e.g. 1e-2,1e-3,1e-4")
    p.add_argument(
        "--fast",
        action="store_true",
        help="one run per learning rate and fold scored at each epoch count, with successive "
        "halving over learning rates (spe.tuning.fast_grid_search)",
    )
    p.add_argument("--jobs", type=int, default=1, help="processes for --fast (default 1)")
    p.add_argument("--out", type=Path, help="folder for results, heatmap and the best model")

    p = sub.add_parser("fit", parents=[common], help="fit on all posts and save the model")
    p.add_argument("data", metavar="DATA", help=_DATA_HELP)
    p.add_argument("--out", type=Path, required=True, metavar="MODEL_DIR")
    p.add_argument(
        "--model",
        default="auto",
        metavar="auto|NAME",
        help="auto (default): the model this account's own posts pick, walking forward; or a name "
        "from `spe evaluate --compare`, e.g. 'trend x picture', 'CNN on pixels'",
    )
    p.add_argument("--epochs", type=int, default=None, help="CNN training epochs (default 50)")
    p.add_argument("--learning-rate", type=float, default=None, help="CNN learning rate")
    p.add_argument("--size", type=int, default=64)
    cache_option(p)

    p = sub.add_parser("predict", parents=[common], help="predicted likes for new pictures")
    p.add_argument("model", metavar="MODEL_DIR", type=Path)
    p.add_argument("images", metavar="IMAGE", nargs="+")
    p.add_argument(
        "--when",
        metavar="TIME",
        help="planned posting time, e.g. 2026-12-01T18:00 or '2026-12-01 18:00+01:00' (default: now; "
        "no offset means UTC)",
    )
    p.add_argument("--caption", metavar="TEXT", help="planned caption, for models that read captions")
    p.add_argument("--actual", type=float, nargs="+", help="actual like counts, one per image")
    p.add_argument("--out", type=Path, help="folder for predictions.csv and report.html")

    p = sub.add_parser("demo", parents=[common], help="the whole job on built-in sample data")
    p.add_argument("--out", type=Path, default=Path("spe-demo"), help="output folder (default ./spe-demo)")
    p.add_argument("--posts", type=int, default=200, help="sample posts to make (default 200)")
    p.add_argument(
        "--epochs", type=int, default=50, help="CNN epochs (default 50; the grid tries 1/5 and 3/5 of it)"
    )
    return parser


def _version():
    from . import __version__

    return __version__


# -- helpers -----------------------------------------------------------------


def _say(*args):
    print(*args, flush=True)


def _progress(total, desc, quiet):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=quiet, file=sys.stderr, leave=False)


@contextlib.contextmanager
def _staged_output(out, command):
    """Yield a staging folder that replaces ``out`` as a whole on success (see spe._staging)."""
    if out is None:
        yield None
        return
    from ._staging import staged

    advice = f"Give --out a new or empty folder, e.g. --out {Path(out) / f'spe-{command}'}"
    with staged(out, advice=advice) as staging:
        yield staging


def _pipeline(size=64, epochs=50, learning_rate=None, memory=None, cache_dir=None, **cnn):
    from sklearn.pipeline import Pipeline

    from . import CNNLikesRegressor, ImageLoader
    from .evaluation import _cache_params

    if learning_rate is not None:
        cnn["learning_rate"] = learning_rate
    return Pipeline(
        [
            ("load", ImageLoader(size=(size, size), **_cache_params(cache_dir))),
            ("cnn", CNNLikesRegressor(epochs=epochs, random_state=0, **cnn)),
        ],
        memory=memory,
    )


def _save_fig(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)


def _load_checked(path, size, cache_dir=None):
    """Read the posts and decode every image once, before any training.

    A bad picture then fails in a second, naming the file, rather than
    minutes into a grid search. The check keeps no decoded set in memory;
    with a cache it fills the cache, from which every fold and ``fit``
    then read their pictures without decoding them again.
    """
    from . import ImageLoader
    from .datasets import load_data
    from .evaluation import _cache_params

    data = load_data(path)
    if "media_dir" in data.attrs:  # a zip's pictures, copied where the user can see them
        _say(f"Pictures of {path} are in {data.attrs['media_dir']}")
    ImageLoader(size=(size, size), n_jobs=-1, **_cache_params(cache_dir)).check(data)
    _say(_summary(data))
    return data


def _summary(data):
    likes = data["likes"]
    return (
        f"{len(data)} posts; likes mean {likes.mean():.1f}, sd {likes.std():.1f}, "
        f"min {likes.min()}, max {likes.max()}"
    )


# -- commands ----------------------------------------------------------------


def _evaluate(data, args, out):
    import warnings

    from .evaluation import candidates, evaluate
    from .plotting import plot_likes, plot_predicted_vs_actual

    notes = []
    if getattr(args, "compare", False):
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always", UserWarning)  # a left-out row, said once under the table
            models = candidates(
                size=args.size,
                epochs=args.epochs,
                embedding_weights=args.embedding_weights,
                cache_dir=args.cache_dir,
                # What the post says besides its pixels, where the data has it.
                post_features={"timestamp", "caption"} <= set(data.columns),
            )
        best_guess = "account's own model"
    else:
        models = {"CNN": _pipeline(args.size, args.epochs, args.learning_rate, cache_dir=args.cache_dir)}
        best_guess = "CNN"
    walk = args.cv == "walk"
    total = 3 + len(models) if walk else args.folds * (2 + len(models))
    extra = {"refit_every": getattr(args, "refit_every", None)} if walk else {}
    with _progress(total, "evaluating", args.quiet) as bar:
        report = evaluate(
            models, data, cv=args.cv, n_splits=args.folds, progress=lambda _: bar.update(), **extra
        )
    _say(report.to_string())
    for note in notes:
        _say(f"Note: {note.message}")
    if out is not None:
        report.to_json(out / "report.json")
        report.to_csv(out / "report.csv")
        report.predictions.to_csv(out / "predictions.csv", index=False)
        (out / "report.txt").write_text(report.to_string() + "\n", encoding="utf-8")
        _save_fig(plot_likes(data), out / "likes.png")
        _save_fig(plot_predicted_vs_actual(report, label=best_guess), out / "predicted_vs_actual.png")
        from .report import evaluation_page

        figures = {
            "Likes over time": out / "likes.png",
            f"{best_guess}: predicted vs actual": out / "predicted_vs_actual.png",
        }
        evaluation_page(report, figures=figures, posts=data, intro=_summary(data), path=out / "report.html")
    return report


def cmd_evaluate(args):
    data = _load_checked(args.data, args.size, args.cache_dir)
    with _staged_output(args.out, args.command) as out:
        _evaluate(data, args, out)
    if args.out:
        _say(f"Report and plots written to {args.out}")
    return 0


def _grid_tune(data, args):
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import GridSearchCV

    from .evaluation import make_cv

    grid = {"cnn__epochs": args.epochs, "cnn__learning_rate": args.learning_rate}
    n_fits = len(args.epochs) * len(args.learning_rate) * args.folds
    with (
        tempfile.TemporaryDirectory(prefix="spe-cache-") as cache,
        _progress(n_fits, "tuning", args.quiet) as bar,
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
            _pipeline(args.size, memory=None if args.cache_dir else cache, cache_dir=args.cache_dir),
            grid,
            cv=make_cv(args.cv, args.folds),
            scoring=neg_mse,
            refit=True,
            error_score="raise",
        )
        try:
            search.fit(data.drop(columns="likes"), data["likes"].to_numpy())
        except KeyboardInterrupt:
            raise _Interrupted(
                f"tuning interrupted after {done[0]} of {n_fits} fits; nothing was written"
            ) from None
        search.best_estimator_.set_params(memory=None)
    return search


def _fast_tune(data, args):
    from .evaluation import make_cv
    from .tuning import fast_grid_search

    runs = [0]
    with _progress(None, "tuning (fast: training runs)", args.quiet) as bar:

        def tick(done):
            bar.update(done - runs[0])
            runs[0] = done

        try:
            return fast_grid_search(
                _pipeline(args.size, cache_dir=args.cache_dir),
                data.drop(columns="likes"),
                data["likes"].to_numpy(),
                epochs=args.epochs,
                learning_rate=args.learning_rate,
                cv=make_cv(args.cv, args.folds),
                halving=True,
                n_jobs=args.jobs,
                progress=tick,
            )
        except KeyboardInterrupt:
            raise _Interrupted(
                f"tuning interrupted after {runs[0]} training runs; nothing was written"
            ) from None


def _tune(data, args, out):
    import pandas as pd

    from .persistence import save_model
    from .plotting import plot_grid_heatmap

    if getattr(args, "fast", False):
        search = _fast_tune(data, args)
    else:
        search = _grid_tune(data, args)
    results = pd.DataFrame(search.cv_results_)
    best = search.best_params_
    _say(
        f"Best of {len(results)} settings ({args.folds} folds, {args.cv} CV): epochs={best['cnn__epochs']}, "
        f"learning_rate={best['cnn__learning_rate']:g}, RMSE {(-search.best_score_) ** 0.5:.1f} likes"
    )
    table = results[["param_cnn__epochs", "param_cnn__learning_rate", "mean_test_score", "rank_test_score"]]
    _say(table.assign(rmse=(-table["mean_test_score"]) ** 0.5).to_string(index=False))
    if out is not None:
        results.drop(columns="params").to_csv(out / "cv_results.csv", index=False)
        (out / "best.json").write_text(
            json.dumps({"params": best, "mean_test_neg_mse": search.best_score_}, indent=2), encoding="utf-8"
        )
        _save_fig(plot_grid_heatmap(search.cv_results_), out / "grid_heatmap.png")
        save_model(
            search.best_estimator_,
            out / "model",
            data=data,
            scores={"grid_best_neg_mse": search.best_score_, "cv": args.cv, "folds": args.folds},
        )
        from .evaluation import PROTOCOLS
        from .report import tuning_page

        protocol, heatmap = (
            f"{args.folds} folds, {PROTOCOLS[args.cv]}",
            {"Grid search": out / "grid_heatmap.png"},
        )
        tuning_page(
            search, figures=heatmap, protocol=protocol, intro=_summary(data), path=out / "report.html"
        )
    return search


def cmd_tune(args):
    data = _load_checked(args.data, args.size, args.cache_dir)
    with _staged_output(args.out, args.command) as out:
        _tune(data, args, out)
    if args.out:
        _say(f"Results, heatmap and best model written to {args.out}")
    return 0


def _lazy(module, name):
    """A command whose code is imported only when it runs."""

    def run(args):
        return getattr(importlib.import_module(module, __package__), name)(args)

    return run


COMMANDS = {
    "evaluate": cmd_evaluate,
    "tune": cmd_tune,
    "fit": _lazy("._cli_next", "cmd_fit"),
    "predict": _lazy("._cli_next", "cmd_predict"),
    "demo": _lazy("._cli_demo", "cmd_demo"),
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
        0 on success, 1 on an error (one line on stderr), 130 when
        interrupted.

    Examples
    --------
    >>> main(["predict", "/no/such/model", "a.jpg"])
    1
    """
    args = _build_parser().parse_args(argv)
    from .exceptions import DataError, ImageLoadError, ModelLoadError

    _quiet_tensorflow()
    try:
        return COMMANDS[args.command](args)
    except _Interrupted as exc:
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
        print(f"spe: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
