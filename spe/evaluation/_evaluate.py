"""Honest evaluation: cross-validated scores beside the baselines a person has.

One picture's error proves nothing. :func:`evaluate` cross-validates a
model and two baselines on the same folds, by default walking forward
(every post predicted from all the posts before it), and reports six
metrics for each side by side.

This module holds the metrics (:func:`spearman_score`,
:func:`median_absolute_percentage_error`, ``METRICS``), the protocols
(:func:`make_cv`, ``PROTOCOLS``) and :func:`evaluate` with its walk-forward
run. :class:`EvaluationReport` and its notes live in ``_report``, the
walk-forward machinery in :mod:`spe.model_selection` and :func:`candidates`
in :mod:`spe.models`; :mod:`spe.evaluation` re-exports them all.
"""

import time
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.metrics import make_scorer, mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import KFold, TimeSeriesSplit
from sklearn.utils import check_scalar

from ..inspection._selected import explain_selected
from ..model_selection._search import check_posting_order
from ..model_selection._skill import accuracy_of, picture_skill
from ..model_selection._walk import (
    WalkForwardSplit,
    has_network,
    has_pictures,
    precompute_pictures,
    shared_walks,
    walk_forward_predict,
)
from ..models._baselines import RecentAverageRegressor
from ..models._candidates import candidates  # noqa: F401  (re-exported)
from ..models._intervals import check_confidence, interval_scores
from ._progress import ProgressCounter
from ._report import EvaluationReport, _picture_note, _summary_notes, headline

__all__ = [
    "EvaluationReport",
    "WalkForwardSplit",
    "candidates",
    "evaluate",
    "make_cv",
    "median_absolute_percentage_error",
    "picture_skill",
    "precompute_pictures",
    "spearman_score",
    "spearman_scorer",
    "walk_forward_predict",
]

PROTOCOLS = {
    "walk": "walk-forward: every post after the first stretch is predicted from all the posts "
    "before it, which answers 'what will my next post get' the way it is asked",
    "time": "time-ordered: each fold trains on earlier posts and tests on the posts after them "
    "(TimeSeriesSplit over posting order), which answers 'what will my next posts get'",
    "kfold": "shuffled K-fold: folds mix old and new posts, so the model sees the future of "
    "the account; optimistic when likes drift over time",
}


def spearman_score(y_true, y_pred):
    """Spearman rank correlation between actual and predicted likes.

    Does the model put posts in the right order? NaN when either side is
    constant (a mean-guess has no order).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)

    Returns
    -------
    float

    Examples
    --------
    >>> spearman_score([10, 20, 30], [1, 3, 2])
    0.5
    """
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return float("nan")
    return float(spearmanr(y_true, y_pred).statistic)


#: Scorer for ``GridSearchCV(scoring=spearman_scorer)``; higher is better.
spearman_scorer = make_scorer(spearman_score)


def median_absolute_percentage_error(y_true, y_pred):
    """Median of ``|actual - predicted| / actual``, in percent.

    The seed's "8% off", taken over many posts. Posts with zero likes are
    counted as one like, to keep the ratio finite.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)

    Returns
    -------
    float

    Examples
    --------
    >>> median_absolute_percentage_error([100, 200, 50], [110, 150, 50])
    10.0
    """
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return float(np.median(np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), 1.0)) * 100)


METRICS = {
    "MSE": mean_squared_error,
    "RMSE": lambda t, p: float(np.sqrt(mean_squared_error(t, p))),
    "MAE": mean_absolute_error,
    "R2": r2_score,
    "Spearman": spearman_score,
    "MdAPE%": median_absolute_percentage_error,
}


def make_cv(cv="time", n_splits=5, random_state=0):
    """The splitter for a protocol name.

    Parameters
    ----------
    cv : {"time", "kfold", "walk"} or a scikit-learn splitter, default="time"
        ``"walk"``: :class:`WalkForwardSplit` (a refit every post).
    n_splits : int, default=5
    random_state : int, default=0
        Shuffling seed of ``"kfold"``.

    Returns
    -------
    splitter

    Examples
    --------
    >>> make_cv("time", 3)
    TimeSeriesSplit(gap=0, max_train_size=None, n_splits=3, test_size=None)
    """
    if cv == "time":
        return TimeSeriesSplit(n_splits=n_splits)
    if cv == "kfold":
        return KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    if cv == "walk":
        return WalkForwardSplit(n_splits=n_splits)
    if isinstance(cv, str):
        raise ValueError(f"cv must be 'walk', 'time', 'kfold' or a splitter, got {cv!r}")
    return cv


def _fit_predict(model, data, y, train, test):
    fitted = clone(model).fit(data.iloc[train], y[train])
    return np.asarray(fitted.predict(data.iloc[test]), dtype=np.float64).ravel()


def evaluate(
    estimator,
    data,
    *,
    cv="walk",
    n_splits=5,
    k=10,
    target="likes",
    model_name="model",
    n_jobs=None,
    progress=None,
    refit_every=None,
    confidence=0.8,
    network_refits=None,
):
    """Cross-validate ``estimator`` and two baselines on the same folds.

    The baselines are the mean of the training likes
    (:class:`~sklearn.dummy.DummyRegressor`) and the recent average, the
    mean of the ``k`` posts just before each post
    (:class:`~spe.RecentAverageRegressor`). Every model sees the same
    DataFrame rows; the estimator gets the DataFrame without its ``target``
    column as ``X`` (an :class:`~spe.ImageLoader` reads its ``image``
    column), so no column selector can train on the answer.

    A model is called better or worse than a baseline only when the
    difference of their absolute errors, paired post by post over the
    out-of-fold predictions, is larger than its noise: its 95% moving-block
    bootstrap interval excludes zero. Otherwise the report says there is no
    measurable difference.

    Parameters
    ----------
    estimator : estimator or dict of str to estimator
        The model to evaluate, e.g. ``make_pipeline(ImageLoader(),
        CNNLikesRegressor())``, or several candidates by name (see
        :func:`candidates`), compared in one table. Cloned for every fold.
    data : DataFrame
        Posts in posting order, oldest first, as the :mod:`spe.datasets`
        readers return; ``post_index`` and ``timestamp``, where present,
        must never decrease (checked, not sorted: a newest-first frame
        raises, naming the row; ``data.sort_values("post_index")`` fixes
        it).
    cv : {"walk", "time", "kfold"}, WalkForwardSplit or splitter, default="walk"
        ``"walk"``: every post after the first stretch (the posts
        ``"time"`` tests) is predicted from all the posts before it, the
        question a person asks before posting; a third baseline, the trend
        chosen on the training posts (:class:`~spe.AutoTrendRegressor`), and
        the picture-skill and pairwise-accuracy columns join the report
        (see :ref:`walk_forward` and :ref:`picture_skill`; ``n/a`` for
        the models that never see a picture). ``"time"``:
        :class:`~sklearn.model_selection.TimeSeriesSplit`, train on earlier
        posts and test on blocks of later ones. ``"kfold"``: shuffled K-fold.
    n_splits : int, default=5
    k : int, default=10
        Posts in the recent average.
    target : str, default="likes"
        Column holding the like counts.
    model_name : str, default="model"
        Row name of ``estimator`` in the report (when it is not a dict).
    n_jobs : int, default=None
        Fits run in parallel through joblib: ``n_jobs`` processes, or the
        workers of a Dask cluster inside
        ``joblib.parallel_config(backend="dask")``.
    progress : callable, default=None
        Called after each fit with an :class:`EvaluationProgress`
        (``done``, ``total``, ``description``; counted in models, the one
        under way by its share of fits done), e.g. to move a progress bar:
        after each fold of each model, and for ``"walk"`` after each refit
        of each model's walk, so the count moves while a network trains.
        ``None``: nothing is reported.
    refit_every : int, default=None
        ``"walk"`` only: posts between refits, for every row (1: every
        post). ``None``: about 20 refits per row, on the refit points of the
        walk :class:`~spe.AutoLikesRegressor` makes inside ``fit`` (so the
        account's own model shares its fits across them), and a model with
        a Keras network as many refits as ``"time"`` has folds; between
        refits, a model with ``partial_fit`` (the trends,
        :class:`~spe.LikesRegressor`, :class:`~spe.AutoLikesRegressor`)
        still sees the likes of every earlier post.
    confidence : float in (0, 1), default=0.8
        ``"walk"`` only: the level of the prediction intervals scored in the
        ``80% coverage`` and ``80% width`` columns (named by the level).
        Each walked post after the first 20 gets the interval spe would
        have given before it was posted: split-conformal on the residuals
        of the walked posts before it, relative to the trend's prediction,
        at a level adapted to their misses
        (:func:`spe.walk_forward_intervals`, as
        :class:`~spe.ConformalLikesRegressor` calibrates); coverage is
        the share of those posts inside, width the mean in likes (NaN with
        20 walked posts or fewer). ``"time"`` and ``"kfold"`` leave these
        columns out: their folds have no earlier residuals to calibrate on.

    network_refits : int, default=None
        ``"walk"`` only, with ``refit_every=None``: refits of a model with a
        Keras network (each trains it anew); ``None``: ``n_splits``. The
        other rows and the walked posts stay as ``n_splits`` sets them
        (``spe evaluate --compare`` refits the seed's CNN 3 times).
    Returns
    -------
    EvaluationReport

    Raises
    ------
    ValueError
        If there are fewer posts than folds (or the walk's first stretch) need,
        ``refit_every`` is below 1, ``confidence`` is not in (0, 1), or the
        posts are not in posting order.

    Examples
    --------
    >>> import tempfile
    >>> from spe import RecentAverageRegressor
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(40, directory=tempfile.mkdtemp(), random_state=0)
    >>> report = evaluate(RecentAverageRegressor(k=3), posts, cv="kfold", n_splits=4)
    >>> report.scores.shape
    (3, 7)
    >>> evaluate(RecentAverageRegressor(k=3), posts).scores.shape
    (4, 15)
    """
    if not isinstance(data, pd.DataFrame) or target not in data.columns:
        raise ValueError(f"data must be a DataFrame of posts with a {target!r} column")
    check_posting_order(data)
    confidence = check_confidence(confidence)
    if (isinstance(cv, str) and cv == "walk") or isinstance(cv, WalkForwardSplit):
        walk = cv if isinstance(cv, WalkForwardSplit) else WalkForwardSplit(n_splits=n_splits)
        schedule = (refit_every, network_refits)
        report = _evaluate_walk(estimator, data, walk, k, target, model_name, n_jobs, progress, schedule)
        walked = report.predictions
        trend = walked["trend chosen on training posts"]
        intervals = interval_scores(
            walked["actual"], walked[report.scores.index], trend=trend, confidence=confidence
        )
        report.scores = report.scores.join(intervals)
        names = list(estimator) if isinstance(estimator, dict) else [model_name]
        recent = f"recent average (k={k})"
        report.headline = headline(report.scores, walked, names, recent, report.explanation)
        if report.headline is not None:
            report.notes.insert(0, report.headline["sentence"])
        return report
    splitter = make_cv(cv, n_splits)
    needed = splitter.get_n_splits() + 1
    if len(data) < needed:
        raise ValueError(
            f"{len(data)} posts are too few for {splitter.get_n_splits()} folds; "
            f"need at least {needed}. Lower n_splits."
        )
    data = data.reset_index(drop=True)
    y = data[target].to_numpy(dtype=np.float64)
    # The models see every column but the answer.
    X = data.drop(columns=target)
    mean_name, recent_name = "mean of training likes", f"recent average (k={k})"
    candidates_ = estimator if isinstance(estimator, dict) else {model_name: estimator}
    models = {
        mean_name: DummyRegressor(strategy="mean"),
        recent_name: RecentAverageRegressor(k=k),
        **candidates_,
    }
    order = data["post_index"] if "post_index" in data else pd.Series(np.arange(1, len(data) + 1))
    splits = list(splitter.split(data, y))
    tasks = [(fold, name) for fold in range(len(splits)) for name in models]
    # One task per fold and model, through joblib: n_jobs processes here, or
    # a Dask cluster under joblib.parallel_config(backend="dask").
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_predict)(models[name], X, y, *splits[fold]) for fold, name in tasks
    )
    pred_frames = [
        pd.DataFrame({"post_index": order.iloc[test].to_numpy(), "fold": fold, "actual": y[test]})
        for fold, (_, test) in enumerate(splits)
    ]
    fold_rows = []
    tick = ProgressCounter(progress, models)
    for (fold, name), pred in zip(tasks, results):
        test = splits[fold][1]
        pred_frames[fold][name] = pred
        fold_rows.append({"model": name, "fold": fold, **{m: f(y[test], pred) for m, f in METRICS.items()}})
        tick(f"{name}, fold {fold + 1}", 1, len(splits))
    fold_scores = pd.DataFrame(fold_rows)
    scores = fold_scores.drop(columns="fold").groupby("model", sort=False).mean()
    scores.index.name = None
    predictions = pd.concat(pred_frames, ignore_index=True)
    # Within a time-ordered fold the recent average is one number; over all
    # folds it follows the account, so its ranking can be compared there.
    scores["Spearman (all folds)"] = [spearman_score(predictions["actual"], predictions[m]) for m in models]
    protocol = PROTOCOLS.get(cv, f"folds from {splitter!r}") if isinstance(cv, str) else f"folds from {cv!r}"
    return EvaluationReport(
        scores=scores,
        fold_scores=fold_scores,
        predictions=predictions,
        protocol=f"{splitter.get_n_splits()} folds, {protocol}",
        n_samples=len(data),
        notes=_summary_notes(scores, list(candidates_), mean_name, recent_name, predictions),
        explanation=explain_selected(candidates_, X, y),
    )


#: Picture skill (see :func:`~spe.model_selection.picture_skill`) and pairwise accuracy, with intervals.
SKILL_COLUMNS = ["picture skill", "picture skill low", "picture skill high"]
PAIRWISE_COLUMNS = ["pairwise %", "pairwise % low", "pairwise % high"]


def _skill_row(predictions, name, trend_name, sees_pictures):
    """Picture skill and pairwise accuracy (in percent) of one model; NaN for a model blind to pictures."""
    if not sees_pictures:
        return [np.nan] * 6  # no picture part: whatever it ranks comes from the likes alone
    skill = picture_skill(predictions["actual"], predictions[name], predictions[trend_name])
    return [*skill, *(100 * v for v in accuracy_of(skill))]


def _refit_ticks(tick, name):
    """``walk_forward_predict``'s ``progress`` for the walk of model ``name``."""
    return lambda done, total: tick(f"{name}, refit {done}/{total}", 1, total)


@shared_walks(None)  # one session for all the models' walks (a model walking inside fit reuses their refits)
def _evaluate_walk(estimator, data, walk, k, target, model_name, n_jobs, progress, schedule):
    """:func:`evaluate` with ``cv="walk"``: one walk-forward run per model.

    ``schedule``: ``(refit_every, network_refits)``, as :func:`evaluate` takes them.
    """
    refit_every, network_refits = schedule
    if network_refits is not None:
        check_scalar(network_refits, "network_refits", Integral, min_val=1)
    if refit_every is not None:
        check_scalar(refit_every, "refit_every", Integral, min_val=1)
    data = data.reset_index(drop=True)
    y = data[target].to_numpy(dtype=np.float64)
    X = data.drop(columns=[target])  # the answer never travels in X
    first = walk.first_train_size(len(data))
    from ..models._trend import AutoTrendRegressor

    mean_name, recent_name = "mean of training likes", f"recent average (k={k})"
    trend_name = "trend chosen on training posts"
    candidates_ = estimator if isinstance(estimator, dict) else {model_name: estimator}
    models = {
        mean_name: DummyRegressor(strategy="mean"),
        recent_name: RecentAverageRegressor(k=k),
        trend_name: AutoTrendRegressor(),
        **candidates_,
    }
    walks = {name: _schedule(walk, len(data), model, *schedule) for name, model in models.items()}
    cache = {}  # each picture decoded and featurized once, whatever the number of refits
    prepared = {name: precompute_pictures(model, X, cache) for name, model in models.items()}
    tick = ProgressCounter(progress, models)
    # In this process, each refit is reported as it ends; a worker process's are reported with its walk.
    inner = progress is not None and effective_n_jobs(n_jobs) == 1
    hooks = {name: _refit_ticks(tick, name) if inner else None for name in models}
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(walk_forward_predict)(
            prepared[name],
            X,
            y,
            walks[name],
            progress=hooks[name],
        )
        for name in models
    )
    order = data["post_index"] if "post_index" in data else pd.Series(np.arange(1, len(data) + 1))
    walked = np.arange(first, len(data))
    folds = np.array_split(walked, walk.n_splits)  # the time protocol's test folds when first matches
    predictions = pd.DataFrame(
        {
            "post_index": order.iloc[walked].to_numpy(),
            "fold": np.concatenate([np.full(len(f), i) for i, f in enumerate(folds)]),
            "actual": y[walked],
        }
    )
    seconds, started = {}, time.perf_counter()
    for name, pred in zip(models, results):
        predictions[name] = pred[walked]
        # Each row's cost as measured (in order, one after the other, when in this process).
        seconds[name], started = time.perf_counter() - started, time.perf_counter()
        if not inner:
            tick(f"{name}, walk forward", 1, 1)
    fold_scores = pd.DataFrame(
        [
            {"model": name, "fold": fold, **{m: f(part["actual"], part[name]) for m, f in METRICS.items()}}
            for name in models
            for fold, part in predictions.groupby("fold")
        ]
    )
    scores = fold_scores.drop(columns="fold").groupby("model", sort=False).mean()
    scores.index.name = None
    scores["Spearman (all folds)"] = [spearman_score(predictions["actual"], predictions[m]) for m in models]
    pictures = [name for name in candidates_ if has_pictures(candidates_[name])]
    scores[SKILL_COLUMNS + PAIRWISE_COLUMNS] = np.array(
        [_skill_row(predictions, name, trend_name, name in pictures) for name in models]
    )
    notes = _summary_notes(scores, list(candidates_), mean_name, recent_name, predictions)
    notes.append(_picture_note(scores, pictures, [recent_name, trend_name]))
    steps = {name: cv.test_size for name, cv in walks.items()}
    common = max(set(steps.values()), key=list(steps.values()).count)
    every = "every post" if common == 1 else f"every {common} posts"
    others = [f"the {name} every {step}" for name, step in steps.items() if step != common]
    every += f" ({'; '.join(others)})" if others else ""
    return EvaluationReport(
        scores=scores,
        fold_scores=fold_scores,
        predictions=predictions,
        protocol=f"{PROTOCOLS['walk']} (first {first} posts; refitted {every}, trends updated with "
        "every post in between; 'fold' is one of n_splits consecutive stretches)",
        n_samples=len(data),
        notes=notes,
        explanation=explain_selected(candidates_, X, y, prepared=prepared),
        seconds=seconds if effective_n_jobs(n_jobs) == 1 else None,
    )


def _schedule(walk, n_samples, model, refit_every, network_refits=None):
    """The walk of one row: the schedule of the own model's walk inside ``fit``, a network's fewer refits.

    By default every row refits about 20 times, on the refit points of the
    walk :class:`~spe.AutoLikesRegressor` makes inside ``fit`` (aligned, so
    the two share their fits), its trend updated with every post in
    between; a network ``network_refits`` times (None: as often as the walk
    has folds), each refit training it anew, over the same walked posts. A
    :class:`WalkForwardSplit` given with ``test_size`` above 1,
    or ``refit_every``, sets the posts between refits for every row.
    """
    if refit_every is None and walk.test_size > 1:
        refit_every = walk.test_size
    if refit_every is not None:
        return walk.refitting(n_samples, refit_every=refit_every, aligned=False)
    if has_network(model):
        refits = walk.n_splits if network_refits is None else network_refits
        return walk.refitting(n_samples, refits=refits, aligned=False)
    return walk.refitting(n_samples)
