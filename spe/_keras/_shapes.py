"""A network built from its config for its shapes only: no weight is allocated."""

from ._backend import keras

__all__ = ["without_weights"]


def without_weights(config):
    """The Keras model a config describes, its variables never allocated.

    Inside a :class:`keras.StatelessScope` Keras makes variables without
    values (their shapes known) and keeps them in a list to initialise when
    the scope ends. Here the scope is told not to, and the list is put back
    as it was, so that no later scope allocates them either: a config
    asking for gigabytes of weights costs nothing to measure. The one
    reach into Keras' internals for this (``global_state``), kept here.

    Parameters
    ----------
    config : dict
        A serialised model (``config.json``), without its compile settings
        (an optimizer cannot be made in a stateless scope).

    Returns
    -------
    keras.Model
        For its layers' shapes and weights' shapes only; it cannot predict.

    Examples
    --------
    >>> inputs = keras.Input((4,))
    >>> config = keras.saving.serialize_keras_object(keras.Model(inputs, keras.layers.Dense(2)(inputs)))
    >>> config["config"]["layers"][-1]["config"]["units"] = 10**9  # 16 GB of weights
    >>> tuple(without_weights(config).layers[-1].kernel.shape)
    (4, 1000000000)
    """
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    pending = list(global_state.get_global_attribute(key, []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            return keras.saving.deserialize_keras_object(config, safe_mode=True)
    finally:
        global_state.set_global_attribute(key, pending)
