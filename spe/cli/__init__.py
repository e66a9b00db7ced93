"""The ``spe`` command: evaluate, tune, fit, predict and demo (``spe.cli:main``)."""

from ._main import main

__all__ = ["main"]
