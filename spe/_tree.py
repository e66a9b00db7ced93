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

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["chain", "contains", "every_part", "final", "parts"]


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
    return list(obj.get_params(deep=False).values())


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
