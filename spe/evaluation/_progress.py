"""How far :func:`~spe.evaluation.evaluate` has got: what its ``progress`` callback receives."""

from fractions import Fraction
from typing import NamedTuple


class EvaluationProgress(NamedTuple):
    """One step of :func:`~spe.evaluation.evaluate`, as its ``progress`` callback receives it.

    A step is one fit: one fold of one model (``"time"``, ``"kfold"``), or
    one refit of one model's walk (``"walk"``: the posts up to a refit
    point, then the block of posts predicted from them), so a network that
    trains for minutes still moves the count. The count is in models: each
    model evaluated counts 1, and the model under way the share of its
    folds or refits done, so a cheap model refitted at every post weighs
    no more than a network refitted five times. ``done`` grows with every
    call and ends at ``total``. When the walks run in parallel processes
    (``n_jobs``), the refits of a model are reported together when its
    walk comes back.

    Attributes
    ----------
    done : float
        Models evaluated so far, the ones under way by the share of their
        folds or refits done.
    total : int
        Models evaluated, the baselines included.
    description : str
        What was just done, e.g. ``"CNN, refit 2/5"``; also the text of
        ``str(step)``, as a callback that printed the step received before.

    Examples
    --------
    >>> step = EvaluationProgress(3.4, 4, "CNN, refit 2/5")
    >>> f"{step.done / step.total:.0%}"
    '85%'
    >>> str(step)
    'CNN, refit 2/5'
    """

    done: float
    total: int
    description: str

    def __str__(self):
        return self.description


class ProgressCounter:
    """Adds up the models' shares done for one evaluation's ``progress`` callback (``None``: nothing)."""

    def __init__(self, progress, models):
        self.progress, self.total, self.done = progress, len(models), Fraction(0)

    def __call__(self, description, steps, of):
        """``steps`` more of the ``of`` steps of one model are done."""
        self.done += Fraction(steps, of)  # exact: the shares add up to the number of models
        if self.progress is not None:
            self.progress(EvaluationProgress(float(self.done), self.total, description))
