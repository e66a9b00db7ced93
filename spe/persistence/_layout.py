"""A model folder's layout, shared by every format: its file names and who wrote it.

- ``spe.json``: the description (format version, package versions, the model's name ...);
- ``model.skops`` and ``network-<n>.keras`` (formats 2 and 3), or
  ``network.keras`` (format 1);
- ``themes.skops`` (optional): the account's picture themes, plain data.
"""

import re
from importlib.metadata import PackageNotFoundError, version

#: File that proves spe wrote a folder, and so may replace it; it lists every file
#: spe wrote there and what kind of folder it is.
MARKER = ".spe-output"
META_FILE = "spe.json"
SKOPS_FILE = "model.skops"
NETWORK_FILE = "network.keras"  # format 1
#: The account's picture themes (plain data), where ``spe fit`` found them.
THEMES_FILE = "themes.skops"
NETWORK = re.compile(r"network-\d{1,4}\.keras")


def is_network_file(name):
    """Whether ``name`` is one of a folder's network files (``network-0.keras`` ...)."""
    return isinstance(name, str) and NETWORK.fullmatch(name) is not None


def versions():
    """The versions of spe and the packages a model file depends on, by name (None: not installed)."""
    out = {}
    names = ("spe", "keras", "tensorflow", "scikeras", "scikit-learn", "skops", "numpy", "pandas", "pillow")
    for name in (*names, "crepes"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def is_model_folder(folder):
    """A model folder without the marker file: spe's files only (format 1 was written without it)."""
    names = {p.name for p in folder.iterdir()} - {MARKER}
    if names == {META_FILE, NETWORK_FILE}:
        return True
    return (
        META_FILE in names
        and SKOPS_FILE in names
        and all(name in (META_FILE, SKOPS_FILE, THEMES_FILE) or NETWORK.fullmatch(name) for name in names)
    )
