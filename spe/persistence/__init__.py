"""Save and load any fitted spe model without pickle.

:func:`save_model` writes a model folder, :func:`load_model` reads one
back (also the folders of earlier formats, read by ``old/``), and
:func:`load_themes` the account's picture themes saved beside it. See
``_save_load`` for the folder's contents and guarantees.
"""

from ._layout import META_FILE, NETWORK_FILE, SKOPS_FILE  # noqa: F401 (importable, as before)
from ._save_load import (
    FORMAT_VERSION,
    TRUSTED_TYPES,
    load_model,
    save_model,
)
from ._skops_io import Frame, KerasFile
from ._themes_file import load_themes

__all__ = ["FORMAT_VERSION", "TRUSTED_TYPES", "load_model", "load_themes", "save_model"]

# Saved model files name each class by its public home (``spe.persistence.Frame``), not the
# private module defining it, so that moving code never breaks a saved model.
for _cls in (Frame, KerasFile):
    _cls.__module__ = __name__
del _cls
