"""Workarounds for scikeras 0.13 with scikit-learn >= 1.6 and Keras 3.

scikeras has been unmaintained since 2024. Every workaround lives in this
module, each with its reason, so that it can go when upstream changes.
:class:`FixedKerasRegressor` is :class:`scikeras.wrappers.KerasRegressor`
with them applied; :class:`spe.CNNLikesRegressor` builds on it.
"""

from ._backend import PicklesKerasModel, keras  # first: imports TensorFlow quietly

# isort: split
import random
from contextlib import contextmanager

import numpy as np
from scikeras.wrappers import KerasRegressor
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

__all__ = ["FixedKerasRegressor", "keras_seed"]


@contextmanager
def keras_seed(seed):
    """Seed Keras (and its backend) for the duration of the block.

    scikeras' own seeding (``scikeras.utils.random_state``) switches on
    TensorFlow's global op determinism, and a later unseeded fit in the
    same process then fails with "Random ops require a seed to be set when
    determinism is enabled". Seeding through the public
    :func:`keras.utils.set_random_seed` gives identical results for the same
    seed on every backend without that global switch. Python's and NumPy's
    global generators are restored afterwards, so a seeded fit does not
    change the caller's random streams.
    """
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(int(seed))
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class FixedKerasRegressor(PicklesKerasModel, KerasRegressor):
    """:class:`~scikeras.wrappers.KerasRegressor` with the workarounds applied."""

    def __sklearn_tags__(self):
        # scikeras declares its regressor-ness with ``_estimator_type`` and
        # ``_more_tags``, which scikit-learn >= 1.6 ignores: without this,
        # ``is_regressor()`` is False and scorers, cross-validation splitters
        # and ``StackingRegressor`` treat the estimator as unknown.
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        tags.input_tags.three_d_array = True
        return tags

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=True):
        # scikeras validates with bare ``check_array`` calls, so a wrong
        # number of features is reported in its own words, feature names are
        # not tracked and ``n_features_in_`` is not checked the way
        # scikit-learn's tools expect. ``validate_data`` does all of that; the
        # attributes scikeras reads later (``X_shape_``, ``y_dtype_``, ...)
        # are kept.
        name = type(self).__name__
        if not reset and getattr(X, "ndim", 2) > 2 and X.shape[1:] != tuple(self.X_shape_[1:]):
            # Before validate_data, whose message would count image rows as "features".
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but {name} was fitted on "
                f"samples of shape {tuple(self.X_shape_[1:])}. Load images with the "
                "same ImageLoader size and color_mode as in fit."
            )
        # uint8 pixels pass unconverted (a quarter of float32's memory);
        # the regressor converts them a batch at a time.
        kwargs = {"reset": reset, "allow_nd": True, "dtype": (np.float32, np.float64, np.uint8)}
        if X is not None and y is not None:
            X, y = validate_data(self, X, y, y_numeric=True, **kwargs)
        elif X is not None:
            X = validate_data(self, X, **kwargs)
        elif y is not None:
            y = column_or_1d(check_array(y, ensure_2d=False, dtype="numeric"), warn=True)
        if X is not None:
            if reset:
                self.X_dtype_, self.X_shape_ = X.dtype, X.shape
            elif X.ndim != len(self.X_shape_):
                raise ValueError(f"X has {X.ndim} dimensions, but {name} was fitted on {len(self.X_shape_)}.")
        if y is not None and reset:
            self.target_type_ = type_of_target(y)
            self.y_dtype_, self.y_ndim_ = y.dtype, y.ndim
        return X, y

    # scikeras reads ``self._random_state`` in ``_build_keras_model`` and
    # ``_fit_keras_model`` and, when it is set, wraps both in its own seeding,
    # which leaks TensorFlow's global op determinism (see ``keras_seed``).
    # Always reading None turns that off; ``_fit`` seeds instead.
    @property
    def _random_state(self):
        return None

    @_random_state.setter
    def _random_state(self, value):
        pass

    def _seed(self):
        """An int seed drawn from ``random_state``, or None."""
        if self.random_state is None:
            return None
        return check_random_state(self.random_state).randint(np.iinfo(np.int32).max)

    def _fit(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        # Kept for the model builder, which seeds its layers from it.
        self._fit_seed = self._seed()
        with keras_seed(self._fit_seed):
            super()._fit(
                X,
                y,
                sample_weight=sample_weight,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                **kwargs,
            )

    # Pickling (PicklesKerasModel): the fitted network as ``.keras`` bytes
    # written by the public API, instead of scikeras' patch of Keras' private
    # saving code. The callback lists hold the model and are rebuilt.
    _not_pickled = ("_fit_callbacks", "_predict_callbacks")

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:
            self._initialize_callbacks()
