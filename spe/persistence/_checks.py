"""What a loaded model may hold: nothing that makes predicting write, read, fit or run code.

A model folder is data from a stranger. skops builds only trusted types,
but trusted types can still be set up to do harm when predicting: a
scikit-learn ``Pipeline(memory=...)`` makes joblib unpickle whatever its
cache folder holds, an ``ImageLoader(cache_dir=...)`` writes the candidate
pictures to a folder of the sender's choosing, a picture transformer still
to be fitted would read or download weights, a text vectorizer with
``input="filename"`` opens whatever path it is given, a picture size of
15000 px takes gigabytes. :func:`check_parts` looks at every part of a
loaded model (:func:`spe._tree.every_part`: also fitted attributes, dict
keys and numpy arrays of objects) and refuses such a model as a whole.

Parallelism is the one setting a loaded model may hold harmlessly in the
sender's hands and harmfully at predict time: an ``n_jobs`` of 2 makes
joblib start worker processes, which put the working folder first on
``sys.path`` (a ``joblib/`` folder shipped beside the model runs in each
of them) and unpickle their results; an ``n_jobs`` of 1000 starts 1000
threads. :func:`in_this_process` sets every ``n_jobs`` to None instead of
refusing: the predictions are the same, a model the user fitted with
``n_jobs=-1`` still loads, and the caller says what was changed.
"""

from sklearn.base import BaseEstimator, clone

from .._tree import every_part
from ..features._loader import check_size

__all__ = ["UnsafeModelError", "check_parts", "in_this_process", "is_picture_cache", "saved_transformer"]

# Identified by name: skops builds only the types on spe's trusted list, so
# within a loaded model a name names one class (and survives modules moving).
_STATELESS = ("ImageLoader", "ImageFeatures")  # learn nothing in fit, read nothing but the pictures
_BACKBONE = "PretrainedEmbedder"  # its network is a fitted part, saved beside the model


class UnsafeModelError(ValueError):
    """A loaded model holds a part that would make predicting write, read, fit or run code."""


def _a(name):
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _spe_class(obj, names):
    cls = type(obj)
    return cls.__module__.split(".")[0] == "spe" and cls.__qualname__ in names


def is_picture_cache(obj):
    """Whether ``obj`` is spe's picture cache (saved inside models by spe 0.1)."""
    return _spe_class(obj, ("_PictureCache",))


def saved_transformer(cache):
    """The fitted picture transformer that stands for ``cache`` in a loaded model.

    spe 0.1 saved its picture caches whole: a table of the training
    pictures' features by path and the transformer for new pictures, fitted
    lazily. Here only spe's own picture transformers are accepted; the
    table is dropped (keyed by path, it would give a replaced file the old
    picture's features). :class:`~spe.ImageLoader` and
    :class:`~spe.ImageFeatures` learn nothing in ``fit``, so they are made
    ready here; a backbone saved without its network would have to read
    weights, so it is refused.

    Raises
    ------
    UnsafeModelError
    """
    fitted = vars(cache).get("transformer_")
    if fitted is not None:
        if not (_spe_class(fitted, _STATELESS) or _spe_class(fitted, (_BACKBONE,))):
            raise UnsafeModelError(
                f"a picture cache around {_a(type(fitted).__name__)}, which is not one of spe's picture "
                "transformers"
            )
        return fitted
    transformer = vars(cache).get("transformer")
    if not _spe_class(transformer, _STATELESS):
        raise UnsafeModelError(
            f"a picture cache that would fit {_a(type(transformer).__name__)} when predicting (spe saves "
            "picture transformers fitted, with their networks); fit the model again with this spe"
        )
    _check_part(transformer)  # before fitting it: no cache folder, a sane size
    return clone(transformer).fit([])


def _check_part(part):
    """Raise :class:`UnsafeModelError` if ``part`` would do harm when predicting."""
    name = _a(type(part).__name__)
    if is_picture_cache(part) or _spe_class(part, ("_Table",)):
        raise UnsafeModelError(f"{name} where spe saves fitted picture transformers")
    if not isinstance(part, BaseEstimator):
        return
    attributes = vars(part)
    if attributes.get("memory") is not None:
        raise UnsafeModelError(
            f"{name} caching to {attributes['memory']!r} (joblib's cache loads pickles from there)"
        )
    if attributes.get("cache_dir") is not None:
        raise UnsafeModelError(
            f"{name} with a cache folder {attributes['cache_dir']!r} (predicting would write pictures there)"
        )
    if attributes.get("input") in ("file", "filename"):
        raise UnsafeModelError(f"{name} that opens the files its input names (input={attributes['input']!r})")
    if _spe_class(part, (*_STATELESS, _BACKBONE)):
        try:
            check_size(attributes.get("size"), type(part).__name__)
        except ValueError as exc:
            raise UnsafeModelError(f"{name} with an unusable picture size ({exc})") from None
        network = attributes.get("model_")
        if network is not None and hasattr(network, "input_shape"):
            try:
                check_size(tuple(network.input_shape[1:3]), "its network's input")
            except (TypeError, ValueError) as exc:
                raise UnsafeModelError(f"{name} whose network takes unusable pictures ({exc})") from None


def check_parts(model):
    """Refuse a loaded model any of whose parts would do harm when predicting.

    Parameters
    ----------
    model : estimator
        A model as loaded, its networks in place.

    Raises
    ------
    UnsafeModelError
        Naming the first such part: a picture cache, a scikit-learn
        ``memory``, a cache folder, a vectorizer reading files, a picture
        size beyond :data:`spe._loader.MAX_SIZE`.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> check_parts(Pipeline([("scale", StandardScaler())]))
    >>> check_parts(Pipeline([("scale", StandardScaler())], memory="/tmp/cache"))
    Traceback (most recent call last):
    ...
    spe.persistence._checks.UnsafeModelError: a Pipeline caching to '/tmp/cache' (joblib's cache ...)
    """
    for part in every_part(model):
        _check_part(part)


def in_this_process(model):
    """Make every part of a loaded model predict in this process, with the threads spe chooses.

    Sets each part's ``n_jobs`` to None (one job, or what a
    :func:`joblib.parallel_config` around the call says): nothing a model
    folder holds can start worker processes or pick a thread count.

    Parameters
    ----------
    model : estimator
        A model as loaded; changed in place.

    Returns
    -------
    list of str
        What was changed, such as ``"BaggingRegressor(n_jobs=2)"``; empty
        for the models spe saves itself.

    Examples
    --------
    >>> from sklearn.ensemble import BaggingRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> model = make_pipeline(BaggingRegressor(n_jobs=2))
    >>> in_this_process(model)
    ['BaggingRegressor(n_jobs=2)']
    >>> model[-1].n_jobs is None, in_this_process(model)
    (True, [])
    """
    changed = []
    for part in every_part(model):
        # vars(): the attribute as saved, never a property's computed value.
        if isinstance(part, BaseEstimator) and vars(part).get("n_jobs") not in (None, 1):
            changed.append(f"{type(part).__name__}(n_jobs={vars(part)['n_jobs']!r:.20})")
            part.n_jobs = None
    return changed
