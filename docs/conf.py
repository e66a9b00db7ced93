"""Sphinx configuration for spe."""

import os
import socket
from importlib.metadata import version as _version

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "spe"
author = "The spe developers"
copyright = "2026, The spe developers"
release = _version("spe")  # the installed package, not a copy kept here
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "pydata_sphinx_theme"
html_title = f"spe {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}


def _online(host="docs.python.org", port=443, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# Cross-links to the libraries' own docs when their inventories can be
# reached; the build must pass offline (CI has no network), so they are
# skipped there rather than failing on warnings.
intersphinx_mapping = {}
if os.environ.get("SPE_DOCS_OFFLINE") != "1" and _online():
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "pandas": ("https://pandas.pydata.org/docs/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "keras": ("https://keras.io/", None),
    }
# Cross-references to other libraries are plain text offline, not errors.
nitpicky = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"spe": None},
}
