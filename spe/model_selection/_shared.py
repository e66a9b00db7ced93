"""Shared inner walks: a walk nested in another one predicts each post once.

A model that walks forward inside ``fit`` (:class:`~spe.AutoLikesRegressor`,
:class:`~spe.ConformalLikesRegressor`) and is itself walked forward refits
its inner walk at every outer step: ``n`` outer steps of ``n / 6`` to ``n``
posts each, about ``n**2`` post predictions. But with refit points that do
not move as posts are added (:meth:`WalkForwardSplit.refitting`), the inner
model fitted on the first ``r`` posts, and its predictions of the posts
after ``r``, are the same at every outer step. A session keeps them, keyed
by the unfitted estimator, ``r`` and the block predicted, for the length of
one outer walk (or one ``with shared_walks():`` block): in memory only,
never on disk and never inside a fitted model.

The predictions are the same as refitting from scratch, bit for bit: a
block is predicted in one call, as the walk from scratch predicts it, and a
model updated one post at a time is updated in the same order.
"""

import copy
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd
from sklearn.utils import _safe_indexing

__all__ = ["shared_walks"]

#: The current session; ``_OFF`` inside ``shared_walks(False)``, ``None`` when no walk is running.
_SESSION = ContextVar("spe_shared_walks", default=None)
_OFF = object()


@contextmanager
def shared_walks(enabled=True):
    """Share inner walks across every walk forward in this block, or switch sharing off.

    Every :func:`~spe.model_selection.walk_forward_predict` shares the
    inner walks of the models it refits, for the length of its run, without
    this. Inside ``with shared_walks():`` the sharing lasts for the whole
    block, so refitting a model on one more post (``fit(X[:t + 1], ...)``
    after ``fit(X[:t], ...)``) extends its inner walk instead of redoing it.
    ``shared_walks(False)`` walks every inner walk from scratch, as spe did
    before sharing (the same predictions, slower). The setting holds in this
    process and thread only (joblib workers share within their own walk).

    Parameters
    ----------
    enabled : bool or None, default=True
        ``None``: as the enclosing code says (a session of its own only
        where no ``shared_walks`` encloses it), what every function that
        walks does (:func:`~spe.evaluation.evaluate` shares one session
        between all its models).

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> from spe import RecentAverageRegressor
    >>> from spe.model_selection import WalkForwardSplit, shared_walks, walk_forward_predict
    >>> X, y = np.arange(6), np.array([1.0, 2, 3, 4, 5, 6])
    >>> with shared_walks(False):
    ...     walk_forward_predict(RecentAverageRegressor(k=1), X, y, WalkForwardSplit(min_train_size=3))
    array([nan, nan, nan,  3.,  4.,  5.])
    """
    if enabled is not None and not isinstance(enabled, (bool, np.bool_)):
        raise ValueError(f"shared_walks parameter 'enabled' must be True, False or None, got {enabled!r}.")
    if enabled is None and _SESSION.get() is not None:
        yield  # as the enclosing code says: sharing switched off, or a session already open
        return
    token = _SESSION.set(_OFF if enabled is False else _Session())
    try:
        yield
    finally:
        _SESSION.reset(token)


def take(X, index):
    """Rows ``index`` of ``X``; a run of consecutive rows as a slice (a view, not a copy).

    A walk takes the first ``r`` posts at every refit: copying a frame's
    rows each time costs more than fitting a trend on them.
    """
    if len(index) and index[-1] - index[0] == len(index) - 1 and (np.diff(index) == 1).all():
        rows = slice(int(index[0]), int(index[-1]) + 1)
        if isinstance(X, (pd.DataFrame, pd.Series)):
            out = X.iloc[rows]  # what _safe_indexing does, without its checks of the key (a slice)
        else:
            out = X[rows] if isinstance(X, np.ndarray) else _safe_indexing(X, rows)
        session = _SESSION.get()
        if rows.start == 0 and isinstance(session, _Session):
            session.note_prefix(X, out)
        return out
    return _safe_indexing(X, index)


def current():
    """The running session, ``_OFF``, or ``None`` (no walk running, sharing on)."""
    return _SESSION.get()


def keep(key, X, y, compute):
    """``compute()``, kept by the running session under ``key`` when ``X, y`` are a prefix of its posts.

    For what a walk meets again at later steps and ``key`` says all of
    (with the row numbers of ``X``: hence the check of the posts). Outside a
    session, with sharing off or ``key=None``: computed at every call.
    """
    session = _SESSION.get()
    if key is None or session is None or session is _OFF or not session.register(X, y):
        return compute()
    if key not in session.kept:
        session.kept[key] = compute()
    return session.kept[key]


def _same_rows(X, X0, n):
    """Whether ``X`` equals the first ``n`` rows of ``X0`` (values and columns; not the index)."""
    if isinstance(X, pd.DataFrame) != isinstance(X0, pd.DataFrame):
        return False
    if isinstance(X, pd.DataFrame):
        if not X.columns.equals(X0.columns):
            return False
        return all(X[c].dtype == X0[c].dtype and _equal(_values(X[c]), _values(X0[c])[:n]) for c in X.columns)
    X, X0 = np.asarray(X), np.asarray(X0)
    return X.shape[1:] == X0.shape[1:] and _equal(X, X0[:n])


def _values(column):
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        # In UTC, as numbers (the time zone is the dtype's): as objects, each would be a Timestamp.
        return column.to_numpy(dtype=f"datetime64[{column.dtype.unit}]")
    return column.to_numpy()


def _equal(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return bool((a == b).all())  # an object NaN or NaT is unequal: no sharing, never a wrong one


class _Session:
    """One outer walk's posts, refits (by estimator, update mode and refit point), pictures, kept results."""

    def __init__(self):
        self.X = self.y = self.last = None
        self.refits, self.pictures, self.kept = {}, {}, {}
        #: The first rows of the session's posts taken as views (by id; held, so no id is reused).
        self.prefixes = {}

    def note_prefix(self, X, rows):
        """``rows``, the first rows of ``X``: a prefix of the posts too when ``X`` is one."""
        if X is self.X or (self.last is not None and X is self.last[0]) or self.prefixes.get(id(X)) is X:
            self.prefixes[id(rows)] = rows

    def register(self, X, y):
        """Whether ``X, y`` is a prefix of the session's posts (or extends them: then it becomes them)."""
        if self.X is None:
            self.X, self.y = X, y
            self.last = (X, y)
            return True
        if self.last[0] is X and self.last[1] is y:
            return True  # the candidates of one fit walk the same posts: checked once (both are held)
        if self.prefixes.get(id(X)) is X and len(X) == len(y) and np.array_equal(y, self.y[: len(y)]):
            self.last = (X, y)  # a walk's refit on its first posts: the rows are the session's own
            return True
        short, long = ((X, y), (self.X, self.y)) if len(y) <= len(self.y) else ((self.X, self.y), (X, y))
        n = len(short[1])
        if not (np.array_equal(short[1], long[1][:n]) and _same_rows(short[0], long[0], n)):
            return False
        self.X, self.y = long
        self.last = (X, y)
        return True

    def memo(self, key, X, y, update):
        """The refits of the estimator keyed ``key`` on ``X, y``, or ``None`` when they cannot be shared."""
        if key is None or not self.register(X, y):
            return None
        return _Memo(self.refits, (key, bool(update)), X, y, update)


class _Refit:
    """A model fitted on the first ``r`` posts, the posts it has seen since, and what it predicted."""

    def __init__(self, model, r):
        self.model, self.seen, self.blocks, self.rows = model, r, {}, {}
        #: The model as fitted on the first ``r`` posts, before any update (``model`` is a copy once updated).
        self.pristine = model

    def updatable(self):
        """The model to update: a copy of the fitted one, made at its first update (the fit stays)."""
        if self.model is self.pristine:
            self.model = copy.deepcopy(self.pristine)
        return self.model


class _Memo:
    """One walk's view of the session: predict a block from the shared refit at its start."""

    def __init__(self, refits, key, X, y, update):
        self.refits, self.key, self.X, self.y, self.update = refits, key, X, y, update

    def predict(self, fit, r, test):
        """Predictions of the block ``test`` (starting at ``r``) from the refit on the first ``r`` posts.

        ``fit()`` returns the model fitted on them, when the session has none yet.
        """
        refit = self.refits.get((*self.key, r))
        if refit is None:
            refit = self.refits[(*self.key, r)] = _Refit(fit(), r)
        model, end = refit.model, int(test[-1]) + 1
        updates = self.update and hasattr(model, "partial_fit")
        if updates and not getattr(model, "_predicts_from_earlier_posts", False):
            return self._one_by_one(refit, test)
        if end not in refit.blocks:
            if updates and len(test) > 1 and refit.seen < end:
                # Its predictions use only strictly earlier posts: the posts it saw after a
                # shorter block change nothing, and one call per block is what a walk from
                # scratch makes.
                seen = np.arange(refit.seen, end)
                model = refit.updatable()
                model.partial_fit(take(self.X, seen), self.y[seen])
                refit.seen = end
            # The whole block in one call, as from scratch (a batch can round differently from rows).
            block = model.predict(take(self.X, test))
            refit.blocks[end] = np.asarray(block, dtype=np.float64).ravel()
        return refit.blocks[end]

    def fitted(self, fit, r):
        """A copy of the model fitted on the first ``r`` posts (``fit()`` fits it when none is kept)."""
        refit = self.refits.get((*self.key, r))
        if refit is None:
            refit = self.refits[(*self.key, r)] = _Refit(fit(), r)
        return copy.deepcopy(refit.pristine)  # the caller's to update: the session's stays as fitted

    def _one_by_one(self, refit, test):
        """Post by post, each update in the order the walk from scratch makes it."""
        for j in test:
            if j not in refit.rows:
                for seen in range(refit.seen, j):
                    refit.updatable().partial_fit(take(self.X, [seen]), self.y[[seen]])
                refit.seen = max(refit.seen, j)
                row = take(self.X, [j])
                refit.rows[j] = np.asarray(refit.model.predict(row), dtype=np.float64).ravel()[0]
        return np.array([refit.rows[j] for j in test])
