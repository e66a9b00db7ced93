"""Readers of the model folders earlier releases wrote, kept read-only (as skops keeps ``io/old``).

- format 1 (``_format1``): a CNN pipeline as ``network.keras`` and ``spe.json``;
  :func:`save_format1` still writes one, for the tests;
- format 2 (``_format2``): skops files that name spe's types by the private
  modules of spe 0.1.0, read by renaming those names to today's public ones.
"""

from ._format1 import load_format1, save_format1
from ._format2 import RENAMED, renamed_format2

__all__ = ["RENAMED", "load_format1", "renamed_format2", "save_format1"]
