"""Fast tuning of epochs and learning rate: the same grid, far fewer epochs trained.

A plain :class:`~sklearn.model_selection.GridSearchCV` over ``epochs`` x
``learning_rate`` trains a fresh network for every cell and fold: for
{10, 30, 50} epochs it trains 90 epochs per learning rate and fold, and
decodes the pictures again for every cell. :func:`fast_grid_search` gives the
same table for much less:

- pictures are decoded once per fold (the pipeline's transformers run once);
- one training run per learning rate and fold is scored at every epoch count
  of the grid as it passes it (a snapshot callback), instead of refitting for
  10, 30 and 50 epochs; with a ``random_state`` the snapshot at 10 epochs is
  the same network a 10-epoch fit would give;
- successive halving (``halving=True``): after each epoch count only the
  best third of the learning rates train on, as
  :class:`~sklearn.model_selection.HalvingGridSearchCV` does with epochs as
  the resource; dropped cells stay NaN in ``cv_results_``;
- runs go to ``n_jobs`` processes, each limited to its share of the cores;
  with halving, runs are cut at the grid's epoch counts and a free process
  takes the next piece of any run, so the few surviving runs share the
  processes evenly instead of one finishing alone.
"""

import os
import pickle
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib.executor import get_memmapping_executor
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline

from .evaluation import _check_posting_order

__all__ = ["TuningResult", "fast_grid_search", "limit_threads"]


def limit_threads(n_threads):
    """Limit TensorFlow to ``n_threads`` in this process (if it is the backend).

    Must run before TensorFlow executes anything in the process; later calls
    are ignored. Other backends are left alone.

    Examples
    --------
    >>> limit_threads(1)  # in a fresh worker process, before any training
    """
    from ._backend import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)
    except RuntimeError:
        pass  # already initialised: keep what it has


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
    if isinstance(estimator, Pipeline):
        return Pipeline(estimator.steps[:-1]) if len(estimator.steps) > 1 else None, estimator.steps[-1][1]
    return None, estimator


def _snapshot_callback(regressor, X_test, y_test, at):
    from ._backend import keras
    from ._loader import float_images
    from ._regressor import as_images

    X_test = float_images(as_images(X_test))

    class Snapshots(keras.callbacks.Callback):
        # Score the network on the fold's test posts at each grid epoch count.
        def __init__(self):
            super().__init__()
            self.scores, self.epochs_run = {}, 0

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
    at the grid's epoch counts and the epochs trained. In a worker process
    (``threads`` set) the network travels as pickled bytes, which the parent
    only passes on, never unpickles.
    """
    if threads:
        limit_threads(threads)
    if state is None:
        reg = clone(regressor).set_params(learning_rate=learning_rate, epochs=stop)
    else:
        reg = pickle.loads(state) if isinstance(state, bytes) else state
        reg.set_params(warm_start=True, epochs=stop - start)
    callback = _snapshot_callback(reg, X_test, y_test, {e - start for e in at if start < e <= stop})
    reg.set_params(callbacks=[callback])
    reg._initialize_callbacks()  # a warm start does not rebuild them itself
    reg.fit(X_train, y_train)
    reg.set_params(callbacks=None)
    reg._initialize_callbacks()  # drop the callback and its test data
    if stop == max(at) or callback.epochs_run < stop - start:
        reg = None
    elif threads:
        reg = pickle.dumps(reg)
    return reg, {e + start: s for e, s in callback.scores.items()}, callback.epochs_run


@dataclass
class TuningResult:
    """What :func:`fast_grid_search` found, in GridSearchCV's terms.

    Attributes
    ----------
    cv_results_ : dict
        ``param_cnn__epochs``, ``param_cnn__learning_rate``,
        ``split{i}_test_score``, ``mean_test_score``, ``std_test_score``,
        ``rank_test_score`` (negative MSE), as GridSearchCV reports them;
        NaN for cells halving did not train.
    best_params_ : dict
    best_score_ : float
    best_estimator_ : estimator or None
        Refitted on all the data with the best settings.
    n_epochs_trained_ : int
        Epochs trained over all folds and learning rates (before the refit).

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
        TensorFlow threads.
    refit : bool, default=True
        Refit the best setting on all the data.
    progress : callable, default=None
        Called with the number of finished runs after each run.

    Returns
    -------
    TuningResult

    Examples
    --------
    >>> import numpy as np
    >>> from spe import CNNLikesRegressor
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.rand(24, 8, 8, 3).astype("float32"), rng.rand(24) * 100
    >>> result = fast_grid_search(CNNLikesRegressor(batch_size=8, random_state=0), X, y,
    ...                           epochs=(1, 2), learning_rate=(1e-2, 1e-3), cv=2, halving=False)
    >>> sorted(result.best_params_)
    ['cnn__epochs', 'cnn__learning_rate']
    """
    epochs = sorted({int(e) for e in epochs})
    learning_rate = [float(lr) for lr in learning_rate]
    if not epochs or epochs[0] < 1 or not learning_rate:
        raise ValueError("epochs must be positive integers and learning_rate non-empty")
    _check_posting_order(X, "X")
    if isinstance(X, pd.DataFrame) and "likes" in X.columns:
        X = X.drop(columns="likes")  # the answer never travels in X
    y = np.asarray(y, dtype=np.float64)
    transformer, regressor = _split(estimator)
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
    alive, n_epochs, n_runs = list(learning_rate), 0, 0
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
                state, fold_scores, trained = future.result()
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

    rows = [(e, lr, s) for (lr, e), s in scores.items()]
    table = pd.DataFrame(
        {
            "param_cnn__epochs": [r[0] for r in rows],
            "param_cnn__learning_rate": [r[1] for r in rows],
            **{f"split{i}_test_score": [r[2][i] for r in rows] for i in range(len(folds))},
        }
    )
    split_cols = [c for c in table if c.startswith("split")]
    table["mean_test_score"] = table[split_cols].mean(axis=1, skipna=False)
    table["std_test_score"] = table[split_cols].std(axis=1, ddof=0, skipna=False)
    table["rank_test_score"] = table["mean_test_score"].rank(
        ascending=False, method="min", na_option="bottom"
    )
    table["rank_test_score"] = table["rank_test_score"].astype(int)
    table = table.sort_values(["param_cnn__learning_rate", "param_cnn__epochs"]).reset_index(drop=True)
    best = table.loc[table["mean_test_score"].idxmax()]
    best_params = {
        "cnn__epochs": int(best["param_cnn__epochs"]),
        "cnn__learning_rate": float(best["param_cnn__learning_rate"]),
    }
    result = TuningResult(
        cv_results_={c: table[c].to_numpy() for c in table},
        best_params_=best_params,
        best_score_=float(best["mean_test_score"]),
        n_epochs_trained_=n_epochs,
    )
    result.cv_results_["params"] = [
        {"cnn__epochs": int(e), "cnn__learning_rate": float(lr)}
        for e, lr in zip(table["param_cnn__epochs"], table["param_cnn__learning_rate"])
    ]
    if refit:
        final = clone(estimator)
        inner = final.steps[-1][1] if isinstance(final, Pipeline) else final
        inner.set_params(epochs=best_params["cnn__epochs"], learning_rate=best_params["cnn__learning_rate"])
        result.best_estimator_ = final.fit(X, y)
    return result
