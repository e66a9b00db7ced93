"""CNNLikesRegressor: the seed project's CNN as a scikit-learn regressor."""

from numbers import Integral, Real

from .._keras._backend import keras  # first: it imports TensorFlow quietly

# isort: split
import numpy as np
from scikeras.utils.transformers import RegressorTargetEncoder
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import check_scalar

from .._keras._batches import ImageBatches, rotate, tensorflow_batches
from .._keras._scikeras_fixes import FixedKerasRegressor
from ..features._loader import float_images

__all__ = ["CNNLikesRegressor"]

_ROTATIONS = (0, 90, 180, 270)
# uint8 images converted to float per prediction call: bounds the memory
# predict needs on large (memory-mapped) input.
_PREDICT_CHUNK = 256


def as_images(X):
    """View ``X`` as ``(n, height, width, channels)`` images.

    ``(n, h, w)`` becomes one grey channel; ``(n, d)`` feature vectors
    become one-row grey images ``(n, 1, d, 1)``. uint8 pixels stay uint8
    (without a copy: they are converted a batch at a time); anything else
    becomes float32.
    """
    X = np.asarray(X)
    if X.dtype != np.uint8:
        X = X.astype(np.float32, copy=False)
    if X.ndim == 2:
        return X[:, np.newaxis, :, np.newaxis]
    if X.ndim == 3:
        return X[..., np.newaxis]
    if X.ndim == 4:
        return X
    raise ValueError(
        "X must be images of shape (n_samples, height, width, channels), "
        f"(n_samples, height, width) or (n_samples, n_features); got {X.ndim}-D "
        f"input of shape {X.shape}."
    )


class _TargetScaler(RegressorTargetEncoder):
    """scikeras' target encoder, standardising y when ``scale`` is True."""

    def __init__(self, scale=True):
        self.scale = scale

    def fit(self, y):
        super().fit(y)
        y = np.asarray(y, dtype=np.float64)
        if self.scale:
            self.mean_ = y.mean(axis=0)
            std = y.std(axis=0)
            # A constant target would divide by zero; leave it unscaled.
            self.scale_ = np.where(std > 0, std, 1.0)
        else:
            self.mean_, self.scale_ = 0.0, 1.0
        return self

    def transform(self, y):
        y = super().transform(y)
        return ((np.asarray(y, dtype=np.float64) - self.mean_) / self.scale_).astype(np.float32)

    def inverse_transform(self, y):
        y = np.asarray(y, dtype=np.float64) * self.scale_ + self.mean_
        return super().inverse_transform(y)


class _ContinuedEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping, resumable: a continued fit carries on the run's count.

    Keras resets the patience count and best weights at the start of every
    ``fit``; a run trained in pieces would then wait ``patience`` epochs
    afresh after each piece.
    """

    resume = None  # (wait, best, best_weights, best_epoch) of the run being continued

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.resume is not None:
            self.wait, self.best, self.best_weights, self.best_epoch = self.resume


class CNNLikesRegressor(FixedKerasRegressor):
    """Predict like counts from images with a small convolutional network.

    The default network is the seed project's: Conv2D(32, 3x3, relu) ->
    MaxPooling(2) -> Conv2D(64, 3x3, relu) -> MaxPooling(2) -> Flatten ->
    Dense(128, relu) -> Dropout(0.2) -> Dense(1, linear), trained with Adam
    on the mean squared error. On 64x64x3 input it has 1,625,281 weights.
    It subclasses scikeras' :class:`~scikeras.wrappers.KerasRegressor`, so
    routed parameters such as ``optimizer__beta_1`` or ``fit__shuffle``
    work as they do there.

    Parameters
    ----------
    epochs : int, default=50
        Passes over the training data.
    batch_size : int, default=32
        Samples per gradient step. A batch larger than the data is one
        step per epoch.
    learning_rate : float, default=1e-4
        Adam's step size. Chosen by measurement: on ``make_posts(200)``
        (64x64, 50 epochs, 5-fold shuffled CV, two data seeds) the mean
        R^2 was 0.27 at 1e-2, 0.50 and 0.57 at 1e-3, 0.59 at 3e-4 and 0.59
        and 0.62 at 1e-4. Applies to an ``optimizer`` named by a string or
        class (the default ``"adam"``); an optimizer instance, such as
        ``keras.optimizers.Adam(learning_rate=3e-3)`` or one built on a
        ``LearningRateSchedule``, keeps its own rate and this is ignored.
        A routed ``optimizer__learning_rate`` takes precedence.
    conv_filters : tuple of int, default=(32, 64)
        Filters of each convolution block (3x3 convolution, then 2x2 max
        pooling); one block per entry.
    dense_units : int, default=128
        Width of the hidden dense layer.
    dropout : float, default=0.2
        Dropout rate before the output, in ``[0, 1)``.
    rotations : tuple of {0, 90, 180, 270}, default=(0,)
        Rotation augmentation: each training image is added once per angle,
        with its like count repeated. Applied inside :meth:`fit` only, so
        cross-validation folds never leak. Angles of 90 and 270 need square
        images.
    tta : bool, default=False
        Test-time augmentation: :meth:`predict` averages the predictions
        over ``rotations``. By default predictions are not augmented.
    scale_target : bool, default=True
        Standardise the like counts inside :meth:`fit` and undo it in
        :meth:`predict`; raw counts in the hundreds train badly with a
        linear output.
    validation_split : float, default=0.0
        Fraction of the training data, taken from its end (the latest
        posts when the data are in posting order), held out to report
        ``val_loss`` each epoch. Held-out images are never augmented.
    early_stopping : bool or int, default=False
        Stop when the validation loss (the training loss without a
        validation split) has not improved for this many epochs (5 if
        True), and keep the best weights.
    random_state : int, RandomState instance or None, default=None
        Seed for weights, shuffling and dropout; the same seed and data
        give identical predictions.
    verbose : int, default=0
        Keras' progress output.
    optimizer, loss, metrics, callbacks, shuffle, warm_start, \
run_eagerly, validation_batch_size
        As in :class:`~scikeras.wrappers.KerasRegressor`; ``optimizer``
        defaults to ``"adam"`` and ``loss`` to ``"mse"``. A fit that
        continues a run (``partial_fit``, or ``fit(X, y, initial_epoch=k)``
        with ``warm_start=True``) draws the shuffle orders a single fit
        would use from epoch ``k`` on, and early stopping keeps its
        patience count and best weights from the run it continues.
    **kwargs
        Routed parameters, e.g. ``optimizer__beta_1=0.8``.

    Attributes
    ----------
    model_ : keras.Model
        The fitted network.
    history_ : dict of str to list of float
        Per-epoch ``loss`` (and ``val_loss`` with a validation split), in
        the scaled target's units.
    n_features_in_ : int
        ``X.shape[1]`` seen in :meth:`fit` (the image height).
    X_shape_ : tuple
        Shape of the training input.

    See Also
    --------
    spe.ImageLoader : Turns image paths into the arrays this takes.

    Examples
    --------
    >>> import numpy as np
    >>> from spe import CNNLikesRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(20, 8, 8, 3).astype("float32")
    >>> y = 100 + 50 * X.mean(axis=(1, 2, 3))
    >>> reg = CNNLikesRegressor(epochs=2, batch_size=8, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> sorted(reg.history_)
    ['loss']
    """

    # scikeras reads these; they are not parameters of this class.
    model = None
    build_fn = None

    def __init__(
        self,
        *,
        epochs=50,
        batch_size=32,
        learning_rate=1e-4,
        conv_filters=(32, 64),
        dense_units=128,
        dropout=0.2,
        rotations=(0,),
        tta=False,
        scale_target=True,
        validation_split=0.0,
        early_stopping=False,
        random_state=None,
        verbose=0,
        optimizer="adam",
        loss="mse",
        metrics=None,
        callbacks=None,
        shuffle=True,
        warm_start=False,
        run_eagerly=False,
        validation_batch_size=None,
        **kwargs,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.conv_filters = conv_filters
        self.dense_units = dense_units
        self.dropout = dropout
        self.rotations = rotations
        self.tta = tta
        self.scale_target = scale_target
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.random_state = random_state
        self.verbose = verbose
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.callbacks = callbacks
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.run_eagerly = run_eagerly
        self.validation_batch_size = validation_batch_size
        # Routed parameters (``optimizer__beta_1=...``), as scikeras stores them.
        vars(self).update(kwargs)
        if kwargs:
            self._user_params = set(kwargs)

    # -- validation -------------------------------------------------------

    def _check_settings(self):
        name = type(self).__name__
        check_scalar(self.epochs, "epochs", Integral, min_val=1)
        check_scalar(self.batch_size, "batch_size", Integral, min_val=1)
        check_scalar(self.learning_rate, "learning_rate", Real, min_val=0, include_boundaries="neither")
        check_scalar(self.dense_units, "dense_units", Integral, min_val=1)
        check_scalar(self.dropout, "dropout", Real, min_val=0, max_val=1, include_boundaries="left")
        check_scalar(
            self.validation_split, "validation_split", Real, min_val=0, max_val=1, include_boundaries="left"
        )
        filters = self.conv_filters
        if not isinstance(filters, (tuple, list)) or not all(
            isinstance(f, Integral) and not isinstance(f, bool) and f >= 1 for f in filters
        ):
            raise ValueError(
                f"{name} parameter 'conv_filters' must be a tuple of positive integers, got {filters!r}."
            )
        rotations = self.rotations
        if (
            not isinstance(rotations, (tuple, list))
            or not rotations
            or any(r not in _ROTATIONS for r in rotations)
        ):
            raise ValueError(
                f"{name} parameter 'rotations' must be a non-empty tuple of angles from "
                f"{_ROTATIONS}, got {rotations!r}."
            )
        if not isinstance(self.early_stopping, (bool, Integral)) or self.early_stopping < 0:
            raise ValueError(
                f"{name} parameter 'early_stopping' must be a bool or a patience in epochs, "
                f"got {self.early_stopping!r}."
            )

    def _check_rotations(self, X):
        if X.shape[1] != X.shape[2] and any(r in (90, 270) for r in self.rotations):
            raise ValueError(
                f"rotations={tuple(self.rotations)!r} includes 90 or 270 degrees, which need "
                f"square images; got images of {X.shape[1]}x{X.shape[2]} pixels. Use "
                "rotations=(0, 180) or a square ImageLoader size."
            )

    # -- scikeras hooks -----------------------------------------------------

    @property
    def feature_encoder(self):
        return FunctionTransformer(as_images)

    @property
    def target_encoder(self):
        return _TargetScaler(scale=self.scale_target)

    def _get_compile_kwargs(self):
        compile_kwargs = super()._get_compile_kwargs()
        # An optimizer instance keeps its own rate (or schedule); one named
        # by a string or class is built here and gets ``learning_rate``.
        named = isinstance(self.optimizer, (str, type))
        if named and "optimizer__learning_rate" not in vars(self):
            compile_kwargs["optimizer"].learning_rate = float(self.learning_rate)
        return compile_kwargs

    def _keras_build_fn(self, meta, compile_kwargs):
        _, height, width, channels = as_images(np.empty((0, *meta["X_shape_"][1:]))).shape
        inputs = keras.Input(shape=(height, width, channels))
        x = inputs
        # Each layer's own seed, derived from random_state: Keras' default
        # draws layer seeds from Python's global random module, which other
        # threads of the process (a Dask worker's, say) may also draw from.
        seed = getattr(self, "_fit_seed", None)
        seeds = iter(range(seed, seed + 100)) if seed is not None else iter(lambda: None, 0)

        def init():
            return keras.initializers.GlorotUniform(seed=next(seeds))

        for filters in self.conv_filters:
            # Kernels and pools shrink to fit inputs smaller than them, so
            # tiny images and one-row feature vectors still work; at 64x64
            # this is exactly the seed's network.
            kernel = (min(3, height), min(3, width))
            x = keras.layers.Conv2D(filters, kernel, activation="relu", kernel_initializer=init())(x)
            height, width = height - kernel[0] + 1, width - kernel[1] + 1
            pool = (min(2, height), min(2, width))
            x = keras.layers.MaxPooling2D(pool)(x)
            height, width = height // pool[0], width // pool[1]
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(self.dense_units, activation="relu", kernel_initializer=init())(x)
        x = keras.layers.Dropout(self.dropout, seed=next(seeds))(x)
        outputs = keras.layers.Dense(1, kernel_initializer=init())(x)
        model = keras.Model(inputs, outputs, name="cnn_likes")
        model.compile(**compile_kwargs)
        return model

    def _initialize_callbacks(self):
        super()._initialize_callbacks()
        if self.early_stopping:
            patience = 5 if self.early_stopping is True else int(self.early_stopping)
            monitor = "val_loss" if self.validation_split > 0 else "loss"
            self._fit_callbacks = [
                *self._fit_callbacks,
                _ContinuedEarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True),
            ]

    def _fit(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        self._check_settings()
        X = np.asarray(X) if not hasattr(X, "shape") else X
        if getattr(X, "ndim", 2) not in (2, 3, 4):
            as_images(X)  # raises, naming the shape
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        if len(X) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to train, got n_samples={len(X)}."
            )
        super()._fit(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=warm_start,
            epochs=epochs,
            initial_epoch=initial_epoch,
            **kwargs,
        )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        # Hold out the validation part before augmenting, so no rotated copy
        # of a validation image is trained on (Keras' own validation_split
        # would slice the augmented array).
        self._check_rotations(X)
        n_val = int(len(X) * self.validation_split)
        if n_val:
            kwargs["validation_data"] = (X[-n_val:], y[-n_val:])
            X, y = X[:-n_val], y[:-n_val]
            sample_weight = None if sample_weight is None else sample_weight[:-n_val]
        kwargs["validation_split"] = 0.0
        rotations = tuple(dict.fromkeys(self.rotations))
        seed = getattr(self, "_fit_seed", None)
        stoppers = [c for c in getattr(self, "_fit_callbacks", ()) if isinstance(c, _ContinuedEarlyStopping)]
        for stopper in stoppers:  # a continued run keeps its patience count and best weights
            stopper.resume = getattr(self, "_early_stopping_state", None) if initial_epoch else None
        if X.dtype == np.uint8 or keras.backend.backend() != "tensorflow":
            # One batch read and converted at a time: uint8 memory maps stay
            # on disk, rotated copies are made per batch instead of stored.
            if n_val:
                kwargs["validation_data"] = ImageBatches(*kwargs["validation_data"], None, self.batch_size)
            X = ImageBatches(
                X,
                y,
                sample_weight,
                self.batch_size,
                rotations=rotations,
                shuffle=self.shuffle,
                seed=seed,
                initial_epoch=initial_epoch,
            )
            y = sample_weight = None
            kwargs["shuffle"] = False  # ImageBatches shuffles
        else:
            if rotations != (0,):
                X = np.concatenate([rotate(X, r) for r in rotations])
                y = np.concatenate([y] * len(rotations))
                if sample_weight is not None:
                    sample_weight = np.concatenate([sample_weight] * len(rotations))
            if self.shuffle:
                # Float images in memory: a tf.data pipeline, ~10% faster
                # per epoch than ImageBatches here (benchmarks/bench_fit.py).
                X = tensorflow_batches(X, y, sample_weight, self.batch_size, seed, initial_epoch)
                y = sample_weight = None
                kwargs["shuffle"] = False  # the pipeline shuffles
        super()._fit_keras_model(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=warm_start,
            epochs=epochs,
            initial_epoch=initial_epoch,
            **kwargs,
        )
        for stopper in stoppers:
            self._early_stopping_state = (
                stopper.wait,
                stopper.best,
                stopper.best_weights,
                stopper.best_epoch,
            )

    def predict(self, X, **kwargs):
        """Predict like counts.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels)
            Images as :class:`~spe.ImageLoader` returns them (2-D and 3-D
            input are accepted as for :meth:`fit`).
        **kwargs
            Passed to ``keras.Model.predict``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted like counts.
        """
        if getattr(X, "dtype", None) == np.uint8:
            if len(X) > _PREDICT_CHUNK:
                return np.concatenate(
                    [
                        self.predict(X[i : i + _PREDICT_CHUNK], **kwargs)
                        for i in range(0, len(X), _PREDICT_CHUNK)
                    ]
                )
            X = float_images(X)
        if not self.tta or tuple(self.rotations) == (0,):
            return super().predict(X, **kwargs)
        X = as_images(X)
        self._check_rotations(X)
        angles = tuple(dict.fromkeys(self.rotations))
        if X.shape[1:] != tuple(self.X_shape_[1:]):
            return super().predict(X, **kwargs)  # raises the shape error
        return np.mean(
            [super(CNNLikesRegressor, self).predict(rotate(X, r), **kwargs) for r in angles], axis=0
        )


# Saved model files name these by their public home (spe.models.CNNLikesRegressor ...):
# moving this module never breaks a saved model.
for _obj in (CNNLikesRegressor, _TargetScaler, as_images):
    _obj.__module__ = "spe.models"
del _obj
__test__ = {"CNNLikesRegressor": CNNLikesRegressor}  # its examples, which doctest now finds by name only
