"""Run grid searches, cross-validation and :func:`~spe.evaluation.evaluate` on a Dask cluster.

scikit-learn and :func:`~spe.evaluation.evaluate` parallelise through joblib,
and joblib can send the work to a Dask cluster. Needs the optional extra
``spe[distributed]``::

    from dask.distributed import Client
    from joblib import parallel_config
    from spe.distributed import LimitTensorFlowThreads

    client = Client("tcp://scheduler:8786")        # or LocalCluster() for one machine
    client.register_plugin(LimitTensorFlowThreads())
    with parallel_config(backend="dask"):
        grid.fit(posts, posts["likes"])            # GridSearchCV(..., n_jobs=-1)

Estimators travel to the workers by pickling (a fitted network as
``.keras`` bytes). :class:`LimitTensorFlowThreads` keeps each worker's
TensorFlow to its own share of the machine's cores, so workers sharing a
machine do not fight over them.
"""

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError("spe.distributed needs Dask: pip install 'spe[distributed]'") from exc

__all__ = ["LimitTensorFlowThreads"]


class LimitTensorFlowThreads(WorkerPlugin):
    """Dask worker plugin: TensorFlow gets as many threads as the worker has.

    Parameters
    ----------
    n_threads : int, default=None
        Threads per worker; ``None`` uses the worker's own thread count
        (``--nthreads``).

    Examples
    --------
    >>> from spe.distributed import LimitTensorFlowThreads
    >>> LimitTensorFlowThreads(2).n_threads
    2
    """

    name = "spe-limit-tensorflow-threads"

    def __init__(self, n_threads=None):
        self.n_threads = n_threads

    def setup(self, worker):
        """Limit TensorFlow's threads as the worker starts, before it trains anything."""
        from ._keras._threads import limit_threads

        limit_threads(self.n_threads or worker.state.nthreads)

    def teardown(self, worker):
        """Nothing to undo: the limit lasts as long as the worker process."""

    def transition(self, key, start, finish, **kwargs):
        """Task state changes need nothing from this plugin."""
