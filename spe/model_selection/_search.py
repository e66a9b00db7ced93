"""Fast tuning of epochs and learning rate: the same grid, far fewer epochs trained.

A plain :class:`~sklearn.model_selection.GridSearchCV` over ``epochs`` x
``learning_rate`` trains a fresh network for every cell and fold: for
{10, 30, 50} epochs it trains 90 epochs per learning rate and fold, and
decodes the pictures again for every cell. :func:`fast_grid_search` gives
GridSearchCV's table (same keys, row order, ranks and best setting) for much
less:

- pictures are decoded once per fold (the pipeline's transformers run once);
- one training run per learning rate and fold is scored at every epoch count
  of the grid as it passes it (a snapshot callback), instead of refitting for
  10, 30 and 50 epochs; with a ``random_state`` the snapshot at 10 epochs is
  the same network a 10-epoch fit would give;
- successive halving (``halving=True``): after each epoch count only the
  best third of the learning rates train on, as
  :class:`~sklearn.model_selection.HalvingGridSearchCV` does with epochs as
  the resource; dropped cells stay NaN in ``cv_results_``. A surviving run
  continues where it paused: the next epochs' shuffle orders, the
  optimizer's state and early stopping's patience count and best weights
  carry on, so its scores are the ones ``halving=False`` gives;
- runs go to ``n_jobs`` processes, each limited to its share of the cores;
  with halving, runs are cut at the grid's epoch counts and a free process
  takes the next piece of any run, so the few surviving runs share the
  processes evenly instead of one finishing alone.
"""

import os
import pickle
import warnings
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib.executor import get_memmapping_executor
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.pipeline import Pipeline

from .._keras._threads import limit_threads

__all__ = ["TuningResult", "fast_grid_search", "limit_threads"]


def check_posting_order(data, name="data"):
    """Raise unless a posts DataFrame's ``post_index`` and ``timestamp`` never decrease.

    Time-ordered folds split by row order: a newest-first or shuffled frame
    would train on later posts and test on earlier ones.
    """
    if not isinstance(data, pd.DataFrame):
        return
    for column in ("post_index", "timestamp"):
        if column not in data.columns or data[column].dropna().is_monotonic_increasing:
            continue
        rows = np.flatnonzero(data[column].notna().to_numpy())
        values = data[column].iloc[rows].to_numpy()
        i = int(np.flatnonzero(values[1:] < values[:-1])[0])
        raise ValueError(
            f"{name} must hold the posts in posting order, oldest first, but {column!r} falls from "
            f"{values[i]} (row {rows[i]}) to {values[i + 1]} (row {rows[i + 1]}); time-ordered folds "
            f"would train on later posts. Sort it first: {name}.sort_values({column!r}, kind='stable')."
        )


class _HereExecutor(Executor):
    """Runs each task at once, in this process (``n_jobs=1``)."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # KeyboardInterrupt goes straight up
            future.set_exception(exc)
        return future


def _executor(workers):
    if workers == 1:
        return _HereExecutor()
    # joblib's own process pool, the one joblib.Parallel(n_jobs=...) uses:
    # workers are reused from one call to the next (and by a later
    # GridSearchCV), stay 300 s when idle, get large arrays memory-mapped
    # rather than pickled, and cloudpickle carries notebook-defined callbacks.
    return get_memmapping_executor(workers)


def _best_first(fold_scores):
    """Sort key, best mean score first; a rate with a fold that stopped early comes last."""
    mean = np.mean(fold_scores)
    return np.inf if np.isnan(mean) else -mean


def _split(estimator):
    """The steps before the regressor (or None), the regressor, and its parameters' prefix."""
    if isinstance(estimator, Pipeline):
        name, regressor = estimator.steps[-1]
        head = Pipeline(estimator.steps[:-1]) if len(estimator.steps) > 1 else None
        return head, regressor, f"{name}__"
    return None, estimator, ""


def _snapshot_callback(regressor, X_test, y_test, at):
    from .._keras._backend import keras
    from ..features._loader import float_images
    from ..models._cnn import as_images

    X_test = float_images(as_images(X_test))

    class Snapshots(keras.callbacks.Callback):
        # Score the network on the fold's test posts at each grid epoch count
        # (epochs counted from the start of the run, across pauses).
        def __init__(self):
            super().__init__()
            self.scores, self.epochs_run, self.last_weights = {}, 0, None

        def on_train_end(self, logs=None):
            # Before early stopping restores its best weights: a paused run
            # goes on from where it was, as an unpaused one would.
            self.last_weights = self.model.get_weights()

        def on_epoch_end(self, epoch, logs=None):
            self.epochs_run += 1
            done = epoch + 1
            if done in at:
                raw = self.model.predict(X_test, verbose=0, batch_size=256)
                pred = regressor.target_encoder_.inverse_transform(raw)
                self.scores[done] = -float(np.mean((np.ravel(pred) - y_test) ** 2))

    return Snapshots()


def _train_run(state, regressor, X_train, y_train, X_test, y_test, learning_rate, start, stop, at, threads):
    """Train one (fold, learning rate) network from epoch ``start`` to ``stop``.

    Returns the network to continue from (None after the last epoch count
    or when early stopping ended the run, sparing its trip back), the scores
    at the grid's epoch counts, the epochs trained and the TensorFlow
    threads the process really has (None in this process). In a worker
    process (``threads`` set) the network travels as pickled bytes, which
    the parent only passes on, never unpickles.
    """
    in_effect = None
    if threads:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported by the parent
            in_effect = limit_threads(threads)
    if state is None:
        reg = clone(regressor).set_params(learning_rate=learning_rate, epochs=stop)
    else:
        reg = pickle.loads(state) if isinstance(state, bytes) else state
        reg.set_params(warm_start=True, epochs=stop - start)
    callback = _snapshot_callback(reg, X_test, y_test, {e for e in at if start < e <= stop})
    reg.set_params(callbacks=[callback])
    reg._initialize_callbacks()  # a warm start does not rebuild them itself
    # initial_epoch: the run goes on with its next shuffle orders and epoch
    # numbers, not the first ones again.
    reg.fit(X_train, y_train, initial_epoch=start)
    reg.set_params(callbacks=None)
    reg._initialize_callbacks()  # drop the callback and its test data
    if stop == max(at) or callback.epochs_run < stop - start:
        reg = None
    else:
        reg.model_.set_weights(callback.last_weights)  # undo early stopping's restore at a pause
        if threads:
            reg = pickle.dumps(reg)
    return reg, callback.scores, callback.epochs_run, in_effect


@dataclass
class TuningResult:
    """What :func:`fast_grid_search` found, in GridSearchCV's terms.

    Attributes
    ----------
    cv_results_ : dict
        ``param_<step>__epochs``, ``param_<step>__learning_rate`` (the
        pipeline's last step name; plain ``param_epochs`` for a bare
        regressor), ``params``, ``split{i}_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``
        (negative MSE), rows in :class:`~sklearn.model_selection.ParameterGrid`
        order, as GridSearchCV reports them; NaN for cells halving did not
        train, ranked last.
    best_params_ : dict
        Keys as in ``params``, so ``estimator.set_params(**best_params_)``
        applies them; among tied scores the first in ParameterGrid order.
    best_score_ : float
    best_estimator_ : estimator or None
        Refitted on all the data with the best settings.
    n_epochs_trained_ : int
        Epochs trained over all folds and learning rates (before the refit).
    notes : list of str
        Anything that did not go as asked, such as worker processes that
        kept another TensorFlow thread count.

    Examples
    --------
    >>> result = fast_grid_search(pipeline, posts, posts["likes"])  # doctest: +SKIP
    >>> result.best_params_  # doctest: +SKIP
    {'cnn__epochs': 30, 'cnn__learning_rate': 0.0001}
    """

    cv_results_: dict
    best_params_: dict
    best_score_: float
    best_estimator_: object = None
    n_epochs_trained_: int = 0
    notes: list = field(default_factory=list)


def fast_grid_search(
    estimator,
    X,
    y,
    *,
    epochs=(10, 30, 50),
    learning_rate=(1e-2, 1e-3, 1e-4),
    cv=5,
    halving=True,
    factor=3,
    n_jobs=None,
    refit=True,
    progress=None,
):
    """Cross-validated search over epochs x learning rate, trained once per rate and fold.

    Parameters
    ----------
    estimator : Pipeline ending in CNNLikesRegressor, or CNNLikesRegressor
        The steps before the regressor run once per fold. With
        ``early_stopping`` set on the regressor a run ends where its loss
        stops improving: the epoch counts it never reached stay NaN for
        that fold, so those cells are NaN (ranked last), and halving ranks
        such a rate last.
    X : DataFrame, sequence of paths or array
        Posts oldest first: a DataFrame whose ``post_index`` or
        ``timestamp`` decreases raises (folds split by row order). Its
        ``likes`` column, if any, is dropped: ``y`` is the answer.
    y : array-like of shape (n_samples,)
    epochs : sequence of int, default=(10, 30, 50)
    learning_rate : sequence of float, default=(1e-2, 1e-3, 1e-4)
    cv : int or splitter, default=5
        As in GridSearchCV (an int means unshuffled K-fold).
    halving : bool, default=True
        After each epoch count keep only the best ``1/factor`` of the
        learning rates (at least one).
    factor : int, default=3
    n_jobs : int, default=None
        Processes for the training runs; each gets ``cores / n_jobs``
        TensorFlow threads. A reused worker that already ran TensorFlow
        keeps its count (fixed at first use): a ``RuntimeWarning`` and
        ``notes`` then say what the workers had.
    refit : bool, default=True
        Refit the best setting on all the data.
    progress : callable, default=None
        Called with the number of finished runs after each run.

    Returns
    -------
    TuningResult

    Raises
    ------
    ValueError
        If every cell of the grid scored NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from spe import CNNLikesRegressor
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(24, 8, 8, 3).astype("float32"), rng.rand(24) * 100
    >>> cnn = CNNLikesRegressor(batch_size=8, conv_filters=(4,), dense_units=8, random_state=0)
    >>> result = fast_grid_search(cnn, X, y, epochs=(1, 2), learning_rate=(1e-2, 1e-3), cv=2, halving=False)
    >>> sorted(result.best_params_)
    ['epochs', 'learning_rate']
    """
    grid_epochs = list(dict.fromkeys(int(e) for e in epochs))  # the table keeps the given order
    epochs = sorted(grid_epochs)
    learning_rate = list(dict.fromkeys(float(lr) for lr in learning_rate))
    if not epochs or epochs[0] < 1 or not learning_rate:
        raise ValueError("epochs must be positive integers and learning_rate non-empty")
    check_posting_order(X, "X")
    if isinstance(X, pd.DataFrame) and "likes" in X.columns:
        X = X.drop(columns="likes")  # the answer never travels in X
    y = np.asarray(y, dtype=np.float64)
    transformer, regressor, prefix = _split(estimator)
    splits = list(check_cv(cv).split(X, y))
    take = (lambda a, idx: a.iloc[idx]) if hasattr(X, "iloc") else (lambda a, idx: np.asarray(a)[idx])
    folds = []
    for train, test in splits:  # decode once per fold
        if transformer is None:
            folds.append((take(X, train), y[train], take(X, test), y[test]))
        else:
            t = clone(transformer)
            folds.append(
                (t.fit_transform(take(X, train), y[train]), y[train], t.transform(take(X, test)), y[test])
            )

    workers = 1 if n_jobs in (None, 1) else (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    scores = {(lr, e): [np.nan] * len(folds) for lr in learning_rate for e in epochs}
    alive, n_epochs, n_runs, thread_counts = list(learning_rate), 0, 0, set()
    # One chain per (learning rate, fold). Without halving each chain is one
    # run to the last epoch count, scored on the way: exactly what separate
    # fits would give. With halving, chains are trained one grid interval at
    # a time (0-10, 10-30, 30-50), continuing warm: while there are rates to
    # choose between, every chain waits at the next epoch count until all
    # have reached it; after that a free worker takes the next interval of
    # any chain, so 5 chains on 2 workers finish together instead of one
    # running alone at the end.
    ready = deque((lr, f, 0) for lr in alive for f in range(len(folds)))
    states, paused, pending = {}, [], {}
    executor = _executor(workers)
    try:
        while ready or pending:
            while ready and len(pending) < workers:
                lr, f, start = ready.popleft()
                stop = next(e for e in epochs if e > start) if halving else epochs[-1]
                future = executor.submit(
                    _train_run,
                    states.pop((lr, f), None),
                    regressor,
                    *folds[f],
                    lr,
                    start,
                    stop,
                    epochs,
                    threads,
                )
                pending[future] = (lr, f, start, stop)
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                lr, f, start, stop = pending.pop(future)
                state, fold_scores, trained, in_effect = future.result()
                thread_counts.add(in_effect)
                for e, score in fold_scores.items():
                    scores[(lr, e)][f] = score
                n_epochs += trained
                n_runs += 1
                if progress is not None:
                    progress(n_runs)
                if state is not None:  # None: the last epoch count, or stopped early
                    states[(lr, f)] = state
                if not (halving and len(alive) > 1):
                    if state is not None:
                        ready.append((lr, f, stop))
                    continue
                paused.append((lr, f, stop))
                if len(paused) == len(alive) * len(folds):  # all at this epoch count: choose
                    keep = max(1, int(np.ceil(len(alive) / factor)))
                    alive = sorted(alive, key=lambda rate: _best_first(scores[(rate, stop)]))[:keep]
                    ready.extend(
                        chain for chain in paused if (chain[0], chain[1]) in states and chain[0] in alive
                    )
                    states = {k: v for k, v in states.items() if k[0] in alive}
                    paused = []
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    notes = []
    if threads and thread_counts - {threads}:
        had = ", ".join(str(n or "one per core") for n in sorted(thread_counts))
        notes.append(
            f"worker processes had already run TensorFlow and kept their thread counts ({had}) "
            f"instead of {threads} (cores / n_jobs)"
        )
        warnings.warn(f"fast_grid_search: {notes[-1]}.", RuntimeWarning, stacklevel=2)

    return _result(estimator, X, y, scores, grid_epochs, learning_rate, prefix, n_epochs, refit, notes)


def _result(estimator, X, y, scores, grid_epochs, learning_rate, prefix, n_epochs, refit, notes):
    """GridSearchCV's ``cv_results_``, best setting and refit, from the per-fold scores."""
    e_key, lr_key = f"{prefix}epochs", f"{prefix}learning_rate"
    params = list(ParameterGrid({e_key: grid_epochs, lr_key: learning_rate}))
    split = np.array([scores[(p[lr_key], p[e_key])] for p in params], dtype=np.float64)
    mean = split.mean(axis=1)
    if np.isnan(mean).all():
        raise ValueError(
            f"fast_grid_search: every cell of the grid scored NaN: in each of the {len(params)} "
            f"settings at least one fold's run diverged (non-finite predictions) or stopped early "
            f"(early_stopping) before its epoch count. Try smaller learning rates than "
            f"{min(learning_rate):g}, smaller epoch counts or a longer early_stopping patience."
        )
    # As GridSearchCV ranks: NaN below every score, ties share the best rank.
    rank = pd.Series(mean).rank(ascending=False, method="min", na_option="bottom").astype(int).to_numpy()
    best = int(np.argmin(rank))  # the first of the best in ParameterGrid order
    cv_results = {
        f"param_{e_key}": np.array([p[e_key] for p in params]),
        f"param_{lr_key}": np.array([p[lr_key] for p in params]),
        "params": params,
        **{f"split{i}_test_score": split[:, i] for i in range(split.shape[1])},
        "mean_test_score": mean,
        "std_test_score": split.std(axis=1),
        "rank_test_score": rank,
    }
    result = TuningResult(
        cv_results_=cv_results,
        best_params_=dict(params[best]),
        best_score_=float(mean[best]),
        n_epochs_trained_=n_epochs,
        notes=notes,
    )
    if refit:
        result.best_estimator_ = clone(estimator).set_params(**result.best_params_).fit(X, y)
    return result
