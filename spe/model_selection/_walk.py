"""Walk-forward evaluation: every post predicted from all the posts before it.

A person knows the likes of every earlier post when they ask what the next
one will get. :class:`WalkForwardSplit` gives scikit-learn's splitter for
that question; :func:`walk_forward_predict` runs it, letting a model's trend
see each post's likes between refits (``partial_fit``); the pictures are
decoded and featurized once per run (:func:`precompute_pictures`, in
``_pictures``).
"""

import math
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_scalar
from sklearn.utils.validation import _num_samples

from .._tree import clone
from . import _shared
from ._pictures import fingerprint, has_network, has_pictures, precompute_pictures
from ._reporting import Reporting
from ._shared import shared_walks
from ._skill import picture_skill

# has_network, has_pictures, picture_skill and precompute_pictures are importable from here as before.
__all__ = [
    "WalkForwardSplit",
    "has_network",
    "has_pictures",
    "picture_skill",
    "precompute_pictures",
    "shared_walks",
    "walk_forward_predict",
]

#: Refits of a walk inside ``fit`` when none is asked for (WalkForwardSplit.refitting).
REFITS = 20


class WalkForwardSplit(BaseCrossValidator):
    """Walk-forward splits: train on every post before, test on the next ``test_size``.

    Like :class:`~sklearn.model_selection.TimeSeriesSplit` with an
    expanding window, but with as many splits as the posts after the first
    stretch need: with ``test_size=1`` every post is predicted from all the
    posts before it. Rows must be in posting order.

    Parameters
    ----------
    n_splits : int, default=5
        Sets the default first stretch: the posts that
        ``TimeSeriesSplit(n_splits)`` never tests, so both protocols score
        the same posts.
    test_size : int, default=1
        Posts per split: the model is refitted every ``test_size`` posts.
    min_train_size : int, default=None
        Posts in the first training set; ``None`` means the first stretch above.
    aligned : bool, default=False
        Refit at the multiples of ``test_size`` (after the first training
        set) instead of every ``test_size`` posts from the first stretch on:
        refit points that stay put as posts are added, so a walk over more
        posts reuses the refits of a walk over fewer (see :func:`shared_walks`).
        The first block then runs from the first stretch to the next multiple.

    Examples
    --------
    >>> import numpy as np
    >>> from spe.evaluation import WalkForwardSplit
    >>> cv = WalkForwardSplit(n_splits=2, test_size=2)
    >>> [(len(train), test.tolist()) for train, test in cv.split(np.zeros(9))]
    [(3, [3, 4]), (5, [5, 6]), (7, [7, 8])]
    >>> cv.get_n_splits(np.zeros(9))
    3
    >>> aligned = WalkForwardSplit(n_splits=2, test_size=2, aligned=True)
    >>> [test.tolist() for train, test in aligned.split(np.zeros(9))]
    [[3], [4, 5], [6, 7], [8]]
    """

    def __init__(self, n_splits=5, test_size=1, min_train_size=None, aligned=False):
        self.n_splits = n_splits
        self.test_size = test_size
        self.min_train_size = min_train_size
        self.aligned = aligned

    def first_train_size(self, n_samples):
        """Posts in the first training set, checked against ``n_samples``.

        Parameters
        ----------
        n_samples : int

        Returns
        -------
        int
        """
        check_scalar(self.test_size, "test_size", Integral, min_val=1)
        if self.min_train_size is None:
            check_scalar(self.n_splits, "n_splits", Integral, min_val=1)
            first = n_samples - self.n_splits * (n_samples // (self.n_splits + 1))
        else:
            first = check_scalar(self.min_train_size, "min_train_size", Integral, min_val=1)
        too_few = self.min_train_size is None and n_samples // (self.n_splits + 1) < 1
        if too_few or first >= n_samples:
            needed = (self.min_train_size or self.n_splits) + 1
            raise ValueError(
                f"{n_samples} posts are too few for {self.n_splits} folds of a walk forward: its first "
                f"stretch (min_train_size={self.min_train_size}, n_splits={self.n_splits}) and one post "
                f"to predict need at least {needed}. Lower n_splits or min_train_size."
            )
        return first

    def refitting(self, n_samples, *, refit_every=None, refits=REFITS, aligned=True):
        """This walk over ``n_samples`` posts, refitted every ``refit_every`` posts or about ``refits`` times.

        The refit policy of every walk in spe: a model walked inside ``fit``
        (:class:`~spe.AutoLikesRegressor`, :class:`~spe.ConformalLikesRegressor`)
        refits about 20 times whatever the number of posts. The posts between
        refits are the power of two nearest ``walked posts / refits`` (so 14
        to 28 refits for 20), and the refits fall on its multiples
        (``aligned=True``): as the posts grow, a walk keeps its refit points
        until the step doubles, and then keeps every other one. So the walk
        inside ``fit`` on ``t + 1`` posts repeats the one on ``t`` posts
        except for its newest post and its first block, and a walked
        evaluation shares them (:func:`shared_walks`) instead of refitting
        about 20 times per post. A walk that is never nested (a network
        walked by :func:`~spe.evaluation.evaluate`, too big to keep one per
        refit point) takes ``aligned=False``: exactly ``refits`` refits, from
        the first stretch on.

        Parameters
        ----------
        n_samples : int
        refit_every : int, default=None
            Posts between refits; ``None`` spreads about ``refits`` refits over the walked posts.
        refits : int, default=20
        aligned : bool, default=True
            Refit points at the multiples of the step (a power of two when
            ``refit_every`` is ``None``), which nested walks share; ``False``:
            every step from the first stretch on, the step being
            ``ceil(walked posts / refits)`` when ``refit_every`` is ``None``.

        Returns
        -------
        WalkForwardSplit
            With ``test_size`` the posts between refits.

        Examples
        --------
        >>> WalkForwardSplit(n_splits=5).refitting(120).test_size
        4
        """
        if not isinstance(aligned, (bool, np.bool_)):
            raise ValueError(
                f"WalkForwardSplit.refitting parameter 'aligned' must be True or False; got {aligned!r}."
            )
        if refit_every is None:
            check_scalar(refits, "refits", Integral, min_val=1)
            spread = (n_samples - self.first_train_size(n_samples)) / refits
            if not aligned:
                refit_every = max(1, math.ceil(spread))
            else:
                refit_every = 2 ** round(math.log2(spread)) if spread > 1 else 1
        check_scalar(refit_every, "refit_every", Integral, min_val=1)
        return WalkForwardSplit(
            self.n_splits, test_size=refit_every, min_train_size=self.min_train_size, aligned=bool(aligned)
        )

    def _starts(self, n_samples):
        """The refit points: where each block of predicted posts starts."""
        first = self.first_train_size(n_samples)
        if not isinstance(self.aligned, (bool, np.bool_)):
            raise ValueError(
                f"WalkForwardSplit parameter 'aligned' must be True or False; got {self.aligned!r}."
            )
        if not self.aligned:
            return list(range(first, n_samples, self.test_size))
        step = self.test_size
        return [first, *range((first // step + 1) * step, n_samples, step)]

    def split(self, X, y=None, groups=None):
        """Generate (train, test) indices in posting order.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y, groups : ignored

        Yields
        ------
        train, test : ndarray of int
        """
        n = _num_samples(X)
        starts = self._starts(n)
        for start, stop in zip(starts, [*starts[1:], n]):
            yield np.arange(start), np.arange(start, stop)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of refits the walk makes over ``X``.

        Parameters
        ----------
        X : array-like
            Needed: the count depends on the number of posts.
        y, groups : ignored

        Returns
        -------
        int
        """
        if X is None:
            raise ValueError("WalkForwardSplit.get_n_splits needs X: the count depends on the posts.")
        return len(self._starts(_num_samples(X)))

    def _iter_test_indices(self, X=None, y=None, groups=None):
        for _, test in self.split(X):
            yield test


def walk_forward_predict(estimator, X, y, cv, *, update=True, progress=None):
    """Predict each post after the first stretch from the posts before it.

    A model that walks forward inside its own ``fit`` shares its inner
    walks across the refits of this walk (see :func:`shared_walks`): the
    same predictions as refitting each from scratch, once per post.

    Parameters
    ----------
    estimator : estimator
        Cloned and fitted on every training set of ``cv``.
    X : DataFrame or array-like
        Posts in posting order.
    y : array-like of shape (n_samples,)
        Like counts.
    cv : WalkForwardSplit
    update : bool, default=True
        Between refits, pass each predicted post to ``partial_fit`` (when
        the fitted model has one), so its trend sees every earlier post.
    progress : callable, default=None
        Called as ``progress(done, total)`` each time a block of posts is
        predicted (after each refit): ``done`` blocks of ``total``, as a
        progress bar wants them. ``None``: nothing is reported.

    Returns
    -------
    ndarray of shape (n_samples,)
        NaN for the first stretch.

    Examples
    --------
    >>> import numpy as np
    >>> from spe import RecentAverageRegressor
    >>> from spe.evaluation import WalkForwardSplit, walk_forward_predict
    >>> X, y = np.arange(6), np.array([1.0, 2, 3, 4, 5, 6])
    >>> cv = WalkForwardSplit(min_train_size=3, test_size=3)
    >>> walk_forward_predict(RecentAverageRegressor(k=1), X, y, cv)
    array([nan, nan, nan,  3.,  4.,  5.])
    """
    y = np.asarray(y, dtype=np.float64)
    session = _shared.current()
    if session is None:
        # The outermost walk: the walks inside its refits share one session, for this call only.
        with shared_walks(None):
            return walk_forward_predict(estimator, X, y, cv, update=update, progress=progress)
    memo = None
    if session is not _shared._OFF and isinstance(cv, WalkForwardSplit):
        memo = session.memo(shared_key(estimator), X, y, update)
    if progress is not None:
        cv = Reporting(cv, progress)  # after the memo's check, which looks at the walk itself
    return _walk(estimator, X, y, cv, update, memo)


def _fit(estimator, X, y, train):
    return clone(estimator).fit(_shared.take(X, train), y[train])


def fit_shared(estimator, X, y):
    """``clone(estimator).fit(X, y)``, or a copy of that very fit where a walk of this session made it."""
    y = np.asarray(y, dtype=np.float64)
    session = _shared.current()
    memo = None if session in (None, _shared._OFF) else session.memo(shared_key(estimator), X, y, True)
    if memo is None:
        return clone(estimator).fit(X, y)
    return memo.fitted(partial(_fit, estimator, X, y, np.arange(len(y))), len(y))


def _walk(estimator, X, y, cv, update, memo):
    pred = np.full(len(y), np.nan)
    for train, test in cv.split(X):
        if memo is not None:
            pred[test] = memo.predict(partial(_fit, estimator, X, y, train), len(train), test)
            continue
        model = _fit(estimator, X, y, train)
        block = _shared.take(X, test)
        if len(test) > 1 and update and hasattr(model, "partial_fit"):
            if getattr(model, "_predicts_from_earlier_posts", False):
                # Its predictions use only strictly earlier posts: adding the whole
                # block first gives each post exactly the history it would have one by one.
                model.partial_fit(block, y[test])
            else:
                pred[test] = _one_by_one(model, X, y, test)
                continue
        pred[test] = np.asarray(model.predict(block), dtype=np.float64).ravel()
    return pred


def shared_key(estimator):
    """The unfitted estimator as the key of its shared walks (a picture cache read as its transformer).

    ``None`` (nothing shared) for a network, which a session would keep in
    memory for every refit point, and for parameters that cannot be hashed.
    """
    return None if has_network(estimator) else fingerprint(estimator)


def _one_by_one(model, X, y, test):
    pred = np.empty(len(test))
    for i, j in enumerate(test):
        row = _shared.take(X, [j])
        pred[i] = np.asarray(model.predict(row), dtype=np.float64).ravel()[0]
        if i < len(test) - 1:
            model.partial_fit(row, y[[j]])
    return pred
