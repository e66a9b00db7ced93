"""The ``spe`` command: evaluate, tune, fit, predict and demo.

Every command that writes files writes them to a temporary folder first and
moves them into ``--out`` only when it has finished, so an error or Ctrl-C
never leaves half-written output.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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
        p.add_argument(
            "data", metavar="DATA", help="a seed-format folder, a CSV file or an instaloader profile folder"
        )
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
    p.add_argument("data", metavar="DATA")
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


def cmd_fit(args):
    from ._next import next_post_model, what_was_chosen
    from ._staging import reserve
    from .persistence import _is_model_folder, save_model

    network = args.epochs is not None or args.learning_rate is not None
    if network and "cnn" not in args.model.lower():
        raise ValueError(
            f"--epochs and --learning-rate set the CNN's training, and --model {args.model!r} trains no "
            "network; add --model 'CNN on pixels' to fit the CNN"
        )
    data = _load_checked(args.data, args.size, args.cache_dir)
    post_features = {"timestamp", "caption"} <= set(data.columns)
    model = next_post_model(
        args.model,
        size=args.size,
        epochs=50 if args.epochs is None else args.epochs,
        learning_rate=args.learning_rate,
        post_features=post_features,
        n_posts=len(data),
        cache_dir=args.cache_dir,
    )
    t0 = time.perf_counter()
    # Claimed before training: a folder spe may not replace, or a second
    # `spe fit` to the same folder, fails now rather than after the fit.
    with reserve(args.out, is_own=_is_model_folder, what="model folder", advice="Give --out a new folder."):
        model.fit(data.drop(columns="likes"), data["likes"].to_numpy())
        chosen = what_was_chosen(model, args.model)
        path = save_model(model, args.out, data=data, scores=chosen)
    walked = f"walking forward over {chosen['posts walked']} posts"
    if chosen["chosen"] == "trend":
        _say(
            f"Chose the account's trend: no picture model beat it {walked} (it missed by "
            f"{chosen['walk-forward MAE']:.1f} likes on average). Every picture will get the same prediction."
        )
    else:
        _say(
            f"Chose {chosen['chosen']}: {walked} it missed by {chosen['walk-forward MAE']:.1f} likes on "
            f"average (the trend alone: {chosen['trend MAE']:.1f})."
        )
    _say(f"Fitted in {time.perf_counter() - t0:.0f} s; model saved to {path}")
    return 0


def _prediction_lines(images, predicted, actual):
    lines = []
    for i, (image, pred) in enumerate(zip(images, predicted)):
        line = f"{image}: predicted {pred:.1f} likes"
        if actual is not None:
            diff = (pred - actual[i]) / max(actual[i], 1) * 100
            line += f", actual {actual[i]:g} ({diff:+.0f}%)"
        lines.append(line)
    return lines


def _percent(factor):
    return "" if not np.isfinite(factor) else f"{(factor - 1) * 100:+.0f}%"


def _ranked_lines(table, actual):
    interval = table.attrs.get("confidence")
    head = ["rank", "picture", "predicted", f"{interval:.0%} interval" if interval else "interval"]
    head += ["trend", "picture"] + (["actual"] if actual is not None else []) + ["why"]
    rows = []
    for rank, row in table.iterrows():
        cells = [str(rank), Path(row["image"]).name, f"{row['predicted']:.0f}"]
        low, high = row["low"], row["high"]
        cells.append(f"{low:.0f}-{high:.0f}" if np.isfinite(low) else "n/a")
        trend = f"{row['trend']:.0f}" if np.isfinite(row["trend"]) else "n/a"
        cells += [trend, _percent(row["picture factor"])]
        if actual is not None:
            cells.append(f"{row['actual']:g}")
        cells.append(row["reasons"])
        rows.append(cells)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]


def cmd_predict(args):
    import pandas as pd

    from ._next import predict_next
    from .persistence import load_model
    from .report import prediction_page

    if args.actual is not None and len(args.actual) != len(args.images):
        raise ValueError(f"--actual has {len(args.actual)} counts for {len(args.images)} images")
    model = load_model(args.model)
    table = predict_next(model, list(args.images), when=args.when, caption=args.caption)
    if args.actual is not None:
        given = {}
        for image, count in zip(args.images, args.actual):
            given.setdefault(image, []).append(count)
        # The same file twice gets the same prediction; the stable ranking keeps their order.
        table["actual"] = [given[image].pop(0) for image in table["image"]]
    when = pd.Timestamp(table.attrs["when"])
    _say(f"If posted next ({when:%Y-%m-%d %H:%M} UTC), best first:")
    for line in _ranked_lines(table, args.actual):
        _say(line)
    _say(table.attrs["skill"])
    if args.actual is not None and len(args.images) == 1:
        _say("One picture's error proves nothing; `spe evaluate` gives the cross-validated picture.")
    with _staged_output(args.out, args.command) as out:
        if out is not None:
            table.to_csv(out / "predictions.csv")
            prediction_page(table, path=out / "report.html")
    if args.out:
        _say(f"Predictions and report.html written to {args.out}")
    return 0


def cmd_demo(args):
    from .datasets import make_posts
    from .persistence import load_model
    from .plotting import plot_loss_curve

    t0 = time.perf_counter()
    with _staged_output(args.out, args.command) as out:
        _say(f"Making a sample account of {args.posts} posts (spe.datasets.make_posts) ...")
        data = make_posts(args.posts, directory=out / "data", random_state=0)
        _say(_summary(data))
        _say("\n== 1. How well can likes be predicted? ==")
        ns = argparse.Namespace(
            size=64,
            epochs=args.epochs,
            learning_rate=None,
            cv="time",
            folds=5,
            quiet=args.quiet,
            cache_dir=None,
        )
        report = _evaluate(data, ns, out)
        _say("\n== 2. Which settings work best? ==")
        grid_epochs = sorted({max(1, args.epochs // 5), max(1, args.epochs * 3 // 5)})
        ns = argparse.Namespace(
            size=64,
            epochs=grid_epochs,
            learning_rate=[1e-3, 1e-4],
            cv="time",
            folds=3,
            quiet=args.quiet,
            cache_dir=None,
        )
        search = _tune(data, ns, out)
        _save_fig(plot_loss_curve(search.best_estimator_), out / "loss_curve.png")
        _say("\n== 3. What will a new picture get? ==")
        new = make_posts(1, directory=out / "new_picture", random_state=2024)
        model = load_model(out / "model")
        predicted = model.predict(new["image"])
        for line in _prediction_lines(["new picture"], predicted, new["likes"].tolist()):
            _say(line)
        _say("One picture's error proves nothing: the cross-validated table above is the honest answer.")
        _say("\n== 4. On a realistic account, does anything beat the recent average? ==")
        _say("Real accounts drift over time and pictures matter less (make_posts(realistic=True)).")
        real = make_posts(args.posts, directory=out / "realistic_data", realistic=True, random_state=0)
        ns = argparse.Namespace(
            size=64,
            epochs=args.epochs,
            cv="time",
            folds=5,
            quiet=args.quiet,
            compare=True,
            embedding_weights="auto",
            cache_dir=None,
        )
        (out / "realistic").mkdir()
        real_report = _evaluate(real, ns, out / "realistic")
        _demo_page(out, (data, report), search, (new, predicted), (real, real_report))
    _say(f"\nDone in {time.perf_counter() - t0:.0f} s. Report, plots and model in {args.out}/")
    return 0


def _demo_page(out, evaluated, search, new, realistic):
    """All four parts of the demo on one page, out/report.html (each part's own files stay beside it)."""
    from .evaluation import PROTOCOLS
    from .report import evaluation_section, render_page, text_section, tuning_section

    def figures(folder, label):
        return {
            "Likes over time": folder / "likes.png",
            f"{label}: predicted vs actual": folder / "predicted_vs_actual.png",
        }

    (data, report), (new_posts, predicted), (real, real_report) = evaluated, new, realistic
    new_lines = _prediction_lines(["The new picture"], predicted, new_posts["likes"].tolist())
    sections = [
        evaluation_section(report, figures=figures(out, "CNN"), posts=data, intro=_summary(data)),
        tuning_section(
            search,
            protocol=f"3 folds, {PROTOCOLS['time']}",
            figures={
                "Grid search": out / "grid_heatmap.png",
                "Best setting, loss per epoch": out / "loss_curve.png",
            },
        ),
        text_section(
            "What will a new picture get?",
            [
                *new_lines,
                "One picture's error proves nothing: the cross-validated table above is the honest answer.",
            ],
            pictures={"the new picture": new_posts["image"].iloc[0]},
        ),
        evaluation_section(
            real_report,
            heading="On a realistic account, does anything beat the recent average?",
            intro="Real accounts drift over time and pictures matter less (make_posts(realistic=True)). "
            + _summary(real),
            figures=figures(out / "realistic", "trend x picture"),
            posts=real,
        ),
    ]
    render_page(
        sections, title="spe demo", subtitle="the whole job on a sample account", path=out / "report.html"
    )


COMMANDS = {
    "evaluate": cmd_evaluate,
    "tune": cmd_tune,
    "fit": cmd_fit,
    "predict": cmd_predict,
    "demo": cmd_demo,
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
