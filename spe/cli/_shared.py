"""What several ``spe`` commands do: read and check the data, print, stage the output, evaluate.

The command modules (``_main``: evaluate; ``_tune``; ``_next``: fit and
predict; ``_demo``) import from here, and ``_main`` imports them only when
their command runs: no module of the package imports one that imports it.
"""

import contextlib
import sys
from pathlib import Path

__all__ = [
    "Interrupted",
    "cnn_pipeline",
    "compared_models",
    "load_checked",
    "progress",
    "run_evaluation",
    "save_fig",
    "say",
    "staged_output",
    "summary",
]


class Interrupted(Exception):
    """Ctrl-C in a long step: the message says how far it got (exit status 130)."""


def say(*args):
    print(*args, flush=True)


def progress(total, desc, quiet):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=quiet, file=sys.stderr, leave=False)


@contextlib.contextmanager
def staged_output(out, command):
    """Yield a staging folder that replaces ``out`` as a whole on success (see spe.persistence._staging)."""
    if out is None:
        yield None
        return
    from ..persistence._staging import staged

    advice = f"Give --out a new or empty folder, e.g. --out {Path(out) / f'spe-{command}'}"
    with staged(out, advice=advice) as staging:
        yield staging


def cnn_pipeline(size=64, epochs=50, learning_rate=None, memory=None, cache_dir=None, **cnn):
    """``Pipeline([("load", ImageLoader), ("cnn", CNNLikesRegressor)])`` as the commands train it."""
    from sklearn.pipeline import Pipeline

    from .. import CNNLikesRegressor, ImageLoader
    from ..models._candidates import cache_params as _cache_params

    if learning_rate is not None:
        cnn["learning_rate"] = learning_rate
    return Pipeline(
        [
            ("load", ImageLoader(size=(size, size), **_cache_params(cache_dir))),
            ("cnn", CNNLikesRegressor(epochs=epochs, random_state=0, **cnn)),
        ],
        memory=memory,
    )


def save_fig(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)


def load_checked(path, size, cache_dir=None):
    """Read the posts and decode every image once, before any training.

    A bad picture then fails in a second, naming the file, rather than
    minutes into a grid search. The check keeps no decoded set in memory;
    with a cache it fills the cache, from which every fold and ``fit``
    then read their pictures without decoding them again.
    """
    from .. import ImageLoader
    from ..datasets import load_data
    from ..models._candidates import cache_params as _cache_params

    data = load_data(path)
    ImageLoader(size=(size, size), n_jobs=-1, **_cache_params(cache_dir)).check(data)
    say(summary(data))
    return data


def summary(data):
    likes = data["likes"]
    return (
        f"{len(data)} posts; likes mean {likes.mean():.1f}, sd {likes.std():.1f}, "
        f"min {likes.min()}, max {likes.max()}"
    )


# -- commands ----------------------------------------------------------------


def compared_models(data, *, size=64, epochs=50, embedding_weights="auto", cache_dir=None):
    """The models ``spe evaluate --compare`` compares, and the notes on those left out (warnings' text)."""
    import warnings

    from ..models import candidates

    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", UserWarning)  # a left-out row, said once under the table
        models = candidates(
            size=size,
            epochs=epochs,
            embedding_weights=embedding_weights,
            cache_dir=cache_dir,
            # What the post says besides its pixels, where the data has it.
            post_features={"timestamp", "caption"} <= set(data.columns),
        )
    return models, [str(note.message) for note in notes]


def run_evaluation(data, models, out, *, label, cv="time", folds=5, refit_every=None, quiet=False, notes=()):
    """:func:`spe.evaluation.evaluate`, printed and, when ``out`` is a folder, written there with its page.

    ``label`` names the model whose predictions are plotted against the actual likes.
    """
    from ..evaluation import evaluate
    from ..plotting import plot_likes, plot_predicted_vs_actual

    walk = cv == "walk"
    total = 3 + len(models) if walk else folds * (2 + len(models))
    extra = {"refit_every": refit_every} if walk else {}
    with progress(total, "evaluating", quiet) as bar:
        report = evaluate(models, data, cv=cv, n_splits=folds, progress=lambda _: bar.update(), **extra)
    say(report.to_string())
    for note in notes:
        say(f"Note: {note}")
    if out is not None:
        report.to_json(out / "report.json")
        report.to_csv(out / "report.csv")
        report.predictions.to_csv(out / "predictions.csv", index=False)
        (out / "report.txt").write_text(report.to_string() + "\n", encoding="utf-8")
        save_fig(plot_likes(data), out / "likes.png")
        save_fig(plot_predicted_vs_actual(report, label=label), out / "predicted_vs_actual.png")
        from ..report import evaluation_page

        figures = {
            "Likes over time": out / "likes.png",
            f"{label}: predicted vs actual": out / "predicted_vs_actual.png",
        }
        evaluation_page(report, figures=figures, posts=data, intro=summary(data), path=out / "report.html")
    return report
