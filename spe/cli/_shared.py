"""What every ``spe`` command does: read and check the data, print, stage the output.

``_main`` (the parser, ``evaluate`` and ``tune``) and the command modules it
imports when their command runs (``_next``: ``fit`` and ``predict``;
``_demo``) take these from here.
"""

import contextlib
import sys
from pathlib import Path

__all__ = [
    "Interrupted",
    "cnn_pipeline",
    "load_checked",
    "progress",
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
