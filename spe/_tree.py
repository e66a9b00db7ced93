"""Walking a tree of nested estimators: the one walker spe's modules share.

An spe model nests estimators: a Pipeline's steps, a LikesRegressor's
trend and image model, an AutoLikesRegressor's candidates and the one it
chose (``estimator_``). Two trees can be walked: the *parameters* (what
``get_params(deep=False)`` holds: the model as specified, fitted or not)
and the *fitted parts* (attributes ending in ``_``, and a Pipeline's
``steps``). :func:`parts` walks either; :func:`chain` follows the fitted
``estimator_`` of wrappers down to the model that predicts.
:func:`every_part` walks everything an object holds, not only
estimators: a loaded model can hide objects anywhere (fitted attributes,
dict keys, numpy arrays of objects), and its safety checks must see them.
"""

import copy

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.base import clone as sklearn_clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

__all__ = ["chain", "clone", "contains", "every_part", "final", "params", "parts"]

#: ``get_params`` methods whose ``deep=False`` answer is the constructor's parameters as attributes.
_PLAIN = {
    BaseEstimator.get_params,
    Pipeline.get_params,
    FeatureUnion.get_params,
    ColumnTransformer.get_params,
}
#: Per class: its parameter names, or ``None`` where the class answers ``get_params`` its own way.
_NAMES = {}
_PARAM_NAMES = BaseEstimator._get_param_names.__func__


def params(obj):
    """``obj.get_params(deep=False)``, the parameter names read once per class.

    scikit-learn reads them from the signature of ``__init__`` at every
    call, and a walk asks thousands of times (what to share, which pictures
    to cache); an estimator with its own ``get_params`` or
    ``_get_param_names`` (a scikeras wrapper) is asked as usual.
    """
    names = _names(type(obj))
    if names is None:
        return obj.get_params(deep=False)
    return {name: getattr(obj, name) for name in names}


def _names(cls):
    """The parameter names of ``cls``, or ``None`` where it answers ``get_params`` its own way."""
    if cls not in _NAMES:
        plain = cls.get_params in _PLAIN
        plain = plain and getattr(cls._get_param_names, "__func__", None) is _PARAM_NAMES
        _NAMES[cls] = cls._get_param_names() if plain else None
    return _NAMES[cls]


def clone(obj, **changed):
    """``sklearn.base.clone(obj).set_params(**changed)``, the parameter names read once per class.

    A walk clones every model at every refit, and scikit-learn's ``clone``
    reads each nested estimator's parameter names from the signature of
    its ``__init__``, twice: most of the time of cloning the small models
    spe walks. These are scikit-learn's steps otherwise (the parameters
    cloned, the constructor's check, metadata requests, callbacks and
    ``set_output`` settings carried over); an object with its own
    ``__sklearn_clone__`` or ``get_params`` goes through scikit-learn.
    ``changed`` parameters are set as they are, not cloned (nor cloned
    first and replaced).
    """
    if not _plain(obj):
        new = sklearn_clone(obj)
        return new.set_params(**changed) if changed else new
    given = {
        key: changed[key] if key in changed else _clone_param(value) for key, value in params(obj).items()
    }
    new = type(obj)(**given)
    try:
        new._metadata_request = sklearn_clone(obj._metadata_request)
    except AttributeError:
        pass
    if hasattr(obj, "_skl_callbacks"):
        new._skl_callbacks = obj._skl_callbacks  # by reference, as scikit-learn does
    made = params(new)
    for name, value in given.items():
        if made[name] is not value:
            raise RuntimeError(
                f"Cannot clone object {obj}, as the constructor either does not set or modifies "
                f"parameter {name}"
            )
    if hasattr(obj, "_sklearn_output_config"):
        new._sklearn_output_config = copy.deepcopy(obj._sklearn_output_config)
    return new


def _plain(obj):
    cls = type(obj)
    return (
        isinstance(obj, BaseEstimator)
        and cls.__sklearn_clone__ is BaseEstimator.__sklearn_clone__
        and _names(cls) is not None
    )


def _clone_param(value):
    """``sklearn.base.clone(value, safe=False)``: estimators cloned, containers walked, the rest copied."""
    if _plain(value):
        return clone(value)
    kind = type(value)
    if kind is dict:
        return {key: _clone_param(item) for key, item in value.items()}
    if kind in (list, tuple, set, frozenset):
        return kind([_clone_param(item) for item in value])
    return sklearn_clone(value, safe=False)


def _children(obj, fitted):
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if not isinstance(obj, BaseEstimator):
        return []
    if fitted:
        # Fitted sub-estimators end in "_"; a Pipeline keeps its fitted steps in `steps`.
        return [v for k, v in vars(obj).items() if k.endswith("_") or k == "steps"]
    return list(params(obj).values())


def parts(obj, *, fitted=False):
    """``obj`` (if an estimator) and every estimator nested in it, each once, depth-first.

    Parameters
    ----------
    obj : estimator, dict, list or tuple
    fitted : bool, default=False
        Walk the fitted parts instead of the parameters.

    Yields
    ------
    estimator
    """
    seen, stack = set(), [obj]
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, (BaseEstimator, dict, list, tuple)):
            continue
        seen.add(id(node))
        if isinstance(node, BaseEstimator):
            yield node
        stack.extend(reversed(_children(node, fitted)))


def contains(obj, predicate, *, fitted=False):
    """Whether ``obj`` or any estimator nested in it satisfies ``predicate``."""
    return any(predicate(part) for part in parts(obj, fitted=fitted))


def chain(model):
    """``model``, its fitted ``estimator_``, that one's ``estimator_`` ...: to the model that predicts."""
    yield model
    while isinstance(getattr(model, "estimator_", None), BaseEstimator):
        model = model.estimator_
        yield model


def final(model):
    """The model that predicts: the last of :func:`chain`."""
    *_, last = chain(model)
    return last


# Deep learning frameworks' objects are not entered: a network is checked as a
# whole when its file is loaded, and walking its internals would be slow and
# would reach framework globals.
_OPAQUE_PACKAGES = ("keras", "tensorflow", "jax", "torch")


def _every_child(value):
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if isinstance(value, np.ndarray):
        return list(value.ravel()) if value.dtype.hasobject else []
    if isinstance(value, (type, np.generic, str, bytes)) or not hasattr(value, "__dict__"):
        return []
    if type(value).__module__.split(".")[0] in _OPAQUE_PACKAGES:
        return []
    return list(vars(value).values())


def every_part(obj):
    """Yield ``obj`` and every object reachable from it, each once.

    Enters dicts (keys and values), lists, tuples, sets, numpy arrays of
    objects and the attributes of objects (estimators, their fitted parts,
    crepes' calibrators); not Keras' or TensorFlow's objects. Cycles are
    followed once.

    Parameters
    ----------
    obj : object

    Yields
    ------
    object

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> hidden = np.array([StandardScaler()], dtype=object)
    >>> pipe = make_pipeline(StandardScaler())
    >>> pipe.extra_ = {"x": hidden}
    >>> sum(isinstance(part, StandardScaler) for part in every_part(pipe))
    2
    """
    seen = set()
    stack = [obj]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        yield value
        stack.extend(_every_child(value))
