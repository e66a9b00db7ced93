"""TensorFlow's thread pools: how many threads one process of a grid search or cluster uses."""

import os
import warnings

__all__ = ["limit_threads"]


def limit_threads(n_threads):
    """Limit TensorFlow to ``n_threads`` in this process (if it is the backend).

    TensorFlow fixes its thread pools when it first runs something. In a
    process that already has (a reused worker, say) the count cannot
    change: this warns, naming the count the process keeps, and returns
    it. Other backends are left alone.

    Parameters
    ----------
    n_threads : int
        Intra- and inter-op threads to ask for.

    Returns
    -------
    int or None
        The intra-op threads in effect (0: TensorFlow's default, one per
        core); None on other backends.

    Warns
    -----
    RuntimeWarning
        When TensorFlow already runs with another count.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # TensorFlow may have started already
    ...     n = limit_threads(1)  # 1 in a fresh process, else the count it keeps
    >>> n >= 0
    True
    """
    from ._backend import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(n_threads)
        threading.set_inter_op_parallelism_threads(n_threads)
    except RuntimeError:
        pass  # already initialised: the count below says what it kept
    in_effect = threading.get_intra_op_parallelism_threads()
    if in_effect != n_threads:
        kept = f"{in_effect} threads" if in_effect else "TensorFlow's default of one thread per core"
        warnings.warn(
            f"TensorFlow had already started in this process (pid {os.getpid()}) and keeps {kept}, "
            f"not the {n_threads} asked for: its thread count is fixed at first use.",
            RuntimeWarning,
            stacklevel=2,
        )
    return in_effect
