"""A walk's splits that say when each block of posts is predicted: the ``progress`` of a walk."""


class Reporting:
    """The splits of ``cv``, calling ``progress(done, total)`` once each block is predicted.

    The walk asks for the next split only when it has predicted the block
    of the last one, so the report comes then, with no hook inside the walk.
    """

    def __init__(self, cv, progress):
        self.cv, self.progress = cv, progress

    def split(self, X, y=None, groups=None):
        """Yield ``cv``'s (train, test) splits, reporting each one done when the next is asked for."""
        total = self.cv.get_n_splits(X)
        for done, split in enumerate(self.cv.split(X), start=1):
            yield split
            self.progress(done, total)
