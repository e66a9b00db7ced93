"""Every object inside an estimator, each once: the walk behind checks of a whole model.

scikit-learn's ``get_params(deep=True)`` sees only constructor parameters;
a loaded model can hide objects anywhere else: in fitted attributes, in a
dict's keys, in a numpy array of objects. :func:`iter_parts` enters all of
them, so a check of a model's parts cannot be stepped around.
"""

import numpy as np

__all__ = ["iter_parts"]

# Deep learning frameworks' objects are not entered: a network is checked as a
# whole when its file is loaded, and walking its internals would be slow and
# would reach framework globals.
_OPAQUE_PACKAGES = ("keras", "tensorflow", "jax", "torch")


def _children(value):
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


def iter_parts(obj):
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
    >>> sum(isinstance(part, StandardScaler) for part in iter_parts(pipe))
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
        stack.extend(_children(value))
