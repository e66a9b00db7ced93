"""Pictures featurized once per walk: a picture transformer's rows looked up by path.

:func:`precompute_pictures` swaps every picture transformer of an estimator
(:class:`~spe.ImageFeatures`, :class:`~spe.PretrainedEmbedder`, an
:class:`~spe.ImageLoader` pipeline...) for a :class:`_PictureCache` holding
its rows for every picture of the walk, so each refit reads a table instead
of decoding again; a picture's features depend on it alone, so computing
them for pictures a fold has not seen leaks nothing.
"""

import pickle
import sys
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.metaestimators import available_if

from .._tree import clone, contains, params
from . import _shared

__all__ = ["has_network", "has_pictures", "known_pictures", "precompute_pictures"]


class _Table:
    """Rows keyed by picture path; shared, never copied, by every clone."""

    def __init__(self, keys, rows):
        self.index, self.rows = pd.Index(keys), rows
        # A walk looks up about a hundred paths per refit: a dict answers in microseconds,
        # where starting pandas' indexer takes longer than the fit of a small ridge.
        self.positions = {key: i for i, key in enumerate(self.index)}

    def __deepcopy__(self, memo):
        return self

    def where(self, paths):
        """Each path's row in the table, -1 for a path it does not hold."""
        get = self.positions.get
        return np.fromiter((get(path, -1) for path in paths), dtype=np.intp, count=len(paths))


def _paths(X):
    if isinstance(X, pd.DataFrame):
        return X["image"].astype(str).to_numpy() if "image" in X.columns else None
    values = np.asarray(X, dtype=object).ravel()
    return values.astype(str) if all(isinstance(v, str) for v in values) else None


class _PictureCache(TransformerMixin, BaseEstimator):
    """A stateless picture transformer whose output per picture was computed once.

    Pictures not in the table (new posts) go through the transformer.
    """

    def __init__(self, transformer=None, table=None):
        self.transformer = transformer
        self.table = table

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        paths = _paths(X)
        where = None if paths is None else self.table.where(paths)
        if where is not None and (where >= 0).all():
            return self.table.rows[where]
        if not hasattr(self, "transformer_"):
            self.transformer_ = clone(self.transformer).fit(X)
        if where is None:
            return self.transformer_.transform(X)
        out = np.empty((len(paths), *self.table.rows.shape[1:]), dtype=self.table.rows.dtype)
        known = where >= 0
        out[known] = self.table.rows[where[known]]
        out[~known] = self.transformer_.transform(list(paths[~known]))
        return out

    def fitted_transformer(self):
        """The transformer, fitted: what a saved model keeps in place of this cache.

        Saving keeps neither the table (training pictures by path: a file
        replaced later would get the old picture's features, and the paths
        say where the owner keeps their pictures) nor a transformer still
        to be fitted (fitting at predict time could read or download
        weights). The caller's cache is left as it is.
        """
        if hasattr(self, "transformer_"):
            return self.transformer_
        # spe's picture transformers learn nothing from X (see precompute_pictures)
        return clone(self.transformer).fit([])

    def _names_known(self):
        return hasattr(self.transformer, "get_feature_names_out")

    @available_if(_names_known)
    def get_feature_names_out(self, input_features=None):
        """The transformer's feature names (so pipelines of cached features keep theirs)."""
        if not hasattr(self, "transformer_"):
            self.transformer_ = clone(self.transformer).fit(list(self.table.index[:1]))
        return self.transformer_.get_feature_names_out()


def _is_picture_transformer(obj):
    from ..features._loader import ImageLoader

    if isinstance(obj, ImageLoader):
        return obj.cache_dir is None  # a disk cache already decodes once
    return getattr(obj, "_featurizes_pictures", False) is True  # ImageFeatures, PretrainedEmbedder


def _rebuild(obj, swap):
    """``obj`` with every nested estimator passed through ``swap`` (lists, tuples, dicts too)."""
    if isinstance(obj, (dict, list, tuple)):
        items = list(obj.items() if isinstance(obj, dict) else enumerate(obj))
        new = {key: _rebuild(value, swap) for key, value in items}
        if all(new[key] is value for key, value in items):
            return obj  # nothing swapped: the estimator holding it needs no new copy
        return new if isinstance(obj, dict) else type(obj)(new.values())
    if not isinstance(obj, BaseEstimator) or isinstance(obj, _PictureCache):
        return swap(obj) if isinstance(obj, _PictureCache) else obj
    swapped = swap(obj)
    if swapped is not obj:
        return swapped
    given = params(obj)
    new = {key: _rebuild(value, swap) for key, value in given.items()}
    changed = {key: value for key, value in new.items() if value is not given[key]}
    return clone(obj, **changed) if changed else obj


#: What ``clone`` carries besides the parameters (``set_output``, metadata routing, callbacks).
_CLONED = ("_sklearn_output_config", "_metadata_request", "_skl_callbacks")


def fingerprint(obj):
    """What ``clone(obj)`` is made from, as bytes (a picture cache read as its transformer), or ``None``.

    Two estimators with the same fingerprint refit the same: the key of
    what a walk shares. Pickling a small description of the parameters is
    cheaper than hashing the estimator, which would need a copy without its
    caches; equal estimators can still differ in bytes (an object met twice
    is pickled once), which only shares less. ``None``: not picklable.
    """
    try:
        return pickle.dumps(_described(obj), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _described(obj):
    if isinstance(obj, dict):
        return {key: _described(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_described(value) for value in obj)
    if isinstance(obj, _PictureCache):
        return _described(obj.transformer)
    if (
        not isinstance(obj, BaseEstimator)
        or type(obj).__sklearn_clone__ is not BaseEstimator.__sklearn_clone__
    ):
        return obj  # whole: a clone of its own may keep more than the parameters
    kept = {name: obj.__dict__[name] for name in _CLONED if name in obj.__dict__}
    return type(obj), {key: _described(value) for key, value in params(obj).items()}, kept


def has_network(estimator):
    """Whether a Keras network is fitted inside ``estimator`` (refits are expensive)."""
    wrappers = sys.modules.get("scikeras.wrappers")
    return wrappers is not None and contains(estimator, lambda obj: isinstance(obj, wrappers.BaseWrapper))


def has_pictures(estimator):
    """Whether ``estimator`` reads the pictures."""
    return contains(estimator, lambda obj: _is_picture_transformer(obj) or isinstance(obj, _PictureCache))


def precompute_pictures(estimator, X, cache=None):
    """``estimator`` with its picture transformers' output computed once for ``X``'s pictures.

    :class:`~spe.ImageFeatures`, :class:`~spe.PretrainedEmbedder` and
    :class:`~spe.ImageLoader` learn nothing in ``fit``, so their output for
    a picture is the same in every refit. Each one nested anywhere in
    ``estimator`` (pipelines, :class:`~spe.LikesRegressor`, a dict of
    candidates) is replaced by a lookup of its output, computed here once
    per picture; pictures outside ``X`` still go through the transformer.

    Parameters
    ----------
    estimator : estimator
    X : DataFrame with an ``image`` column
        Posts; any other ``X`` leaves ``estimator`` as it is.
    cache : dict, default=None
        Shared between calls so that equal transformers in several
        estimators are computed once. During a walk forward (see
        :func:`shared_walks`) the pictures of all its posts are computed
        once for the whole walk, whatever ``cache``: a model that
        precomputes in its own ``fit`` and is refitted at every step
        featurizes each picture once, not once per step.

    Returns
    -------
    estimator
        A new estimator where something was precomputed, else ``estimator``.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from spe import ImageFeatures
    >>> from spe.datasets import make_posts
    >>> from spe.evaluation import precompute_pictures
    >>> posts = make_posts(5, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> model = precompute_pictures(make_pipeline(ImageFeatures(size=(8, 8), faces=False), Ridge()), posts)
    >>> type(model.steps[0][1]).__name__
    '_PictureCache'
    """
    paths = _paths(X)
    if paths is None:
        return estimator
    cache = {} if cache is None else cache
    session = _shared.current()
    store = getattr(session, "pictures", None)

    def all_paths():  # only when featurizing: a picture's features depend on it alone (no leak)
        walked = None if store is None or session.X is None else _paths(session.X)
        return pd.unique(paths if walked is None else np.concatenate([paths, walked]))

    def swap(obj):
        if not _is_picture_transformer(obj):
            return obj
        key = fingerprint(obj)
        if key is None:
            return obj  # not picklable: featurized in every refit, as without a cache
        if key not in cache:
            if store is None or key not in store:
                keys = all_paths()
                rows = np.asarray(clone(obj).fit(list(keys)).transform(list(keys)))
                (cache if store is None else store)[key] = _Table(keys, rows)
            cache[key] = cache[key] if store is None else store[key]
        return _PictureCache(transformer=obj, table=cache[key])

    return _rebuild(estimator, swap)


@contextmanager
def known_pictures(transformer, paths, rows):
    """Within the block, a picture transformer equal to ``transformer`` reads ``rows`` for ``paths``.

    For output computed before the fit: ``spe fit`` runs the backbone
    once over the account's pictures, for its themes (which need the
    ImageNet probabilities too), and the model's walk reads the same
    embeddings instead of a second pass. Every :func:`precompute_pictures`
    in the block (:class:`~spe.AutoLikesRegressor`'s candidates, their
    walks) takes these rows for an equal transformer (same class and
    parameters); pictures outside ``paths`` still go through it. A
    :func:`shared_walks` session is opened for the block where none is.

    Parameters
    ----------
    transformer : estimator
        A picture transformer such as :class:`~spe.PretrainedEmbedder` (fitted or not).
    paths : sequence of str
    rows : array-like of shape (len(paths), ...)
        ``transformer``'s output for ``paths``, in their order.

    Yields
    ------
    None

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from spe import ImageFeatures
    >>> from spe.datasets import make_posts
    >>> posts = make_posts(4, directory=tempfile.mkdtemp(), image_size=(8, 8), random_state=0)
    >>> features = ImageFeatures(size=(8, 8), faces=False)
    >>> rows = np.zeros((4, len(features.fit(posts["image"]).get_feature_names_out())))
    >>> with known_pictures(features, posts["image"].tolist(), rows):
    ...     model = precompute_pictures(make_pipeline(features, Ridge()), posts)
    >>> float(abs(model[0].transform(posts["image"])).sum())
    0.0
    """
    key = fingerprint(transformer)
    with _shared.shared_walks(None):
        store = getattr(_shared.current(), "pictures", None)
        if key is not None and store is not None and key not in store:
            store[key] = _Table([str(p) for p in paths], np.asarray(rows))
        yield
