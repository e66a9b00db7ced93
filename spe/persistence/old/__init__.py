"""Readers of the model folders earlier releases wrote, kept read-only (as skops' ``io/old``)."""

from ._format1 import save_format1

__all__ = ["save_format1"]
