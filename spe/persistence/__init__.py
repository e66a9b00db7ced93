"""Save and load any fitted spe model without pickle.

:func:`save_model` writes a model folder, :func:`load_model` reads one
back (also the folders of earlier formats, read by ``old/``). See
``_save_load`` for the folder's contents and guarantees.
"""

from ._save_load import (
    FORMAT_VERSION,
    META_FILE,  # noqa: F401 (importable, as before)
    NETWORK_FILE,  # noqa: F401
    SKOPS_FILE,  # noqa: F401
    TRUSTED_TYPES,
    load_model,
    save_model,
)

__all__ = ["FORMAT_VERSION", "TRUSTED_TYPES", "load_model", "save_model"]
