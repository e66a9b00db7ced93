"""Walking a tree of nested estimators: the one walker spe's modules share.

An spe model nests estimators: a Pipeline's steps, a LikesRegressor's
trend and image model, an AutoLikesRegressor's candidates and the one it
chose (``estimator_``). Two trees can be walked: the *parameters* (what
``get_params(deep=False)`` holds: the model as specified, fitted or not)
and the *fitted parts* (attributes ending in ``_``, and a Pipeline's
``steps``). :func:`parts` walks either; :func:`chain` follows the fitted
``estimator_`` of wrappers down to the model that predicts.
"""

from sklearn.base import BaseEstimator

__all__ = ["chain", "contains", "final", "parts"]


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
