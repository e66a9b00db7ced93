"""A model folder's files, by name: what :mod:`spe.persistence` writes and what else knows one.

Format 2: ``spe.json`` (the description), ``model.skops`` (the estimator)
and ``network-N.keras`` (each Keras network inside it); format 1:
``spe.json`` and ``network.keras``. The output-folder checks
(:mod:`spe._replace`) recognise a model folder by these names too, so they
live here, below both.
"""

import re

__all__ = ["META_FILE", "NETWORK_FILE", "SKOPS_FILE", "is_model_folder", "is_network_file"]

META_FILE = "spe.json"
SKOPS_FILE = "model.skops"
#: The one network of a format-1 folder.
NETWORK_FILE = "network.keras"
_NETWORK = re.compile(r"network-\d{1,4}\.keras")


def is_network_file(name):
    """Whether ``name`` is one of a format-2 folder's network files (``network-0.keras`` ...)."""
    return isinstance(name, str) and _NETWORK.fullmatch(name) is not None


def is_model_folder(folder, ignore=()):
    """Whether ``folder`` (an existing folder) holds an spe model's files and nothing else.

    Parameters
    ----------
    folder : pathlib.Path
    ignore : collection of str
        Names not counted (the marker file of a folder spe wrote).

    Returns
    -------
    bool

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("spe.json", "model.skops", "network-0.keras"):
    ...     _ = (folder / name).write_text("")
    >>> is_model_folder(folder)
    True
    """
    names = {p.name for p in folder.iterdir()} - set(ignore)
    if names == {META_FILE, NETWORK_FILE}:
        return True
    return (
        META_FILE in names
        and SKOPS_FILE in names
        and all(name in (META_FILE, SKOPS_FILE) or is_network_file(name) for name in names)
    )
