"""Text that comes from outside (file names above all), made safe to print and to write.

A file name is chosen by whoever made the file: it may hold terminal escape
sequences, bytes that are not UTF-8, or begin with ``=`` so that a
spreadsheet opening a CSV runs it as a formula. spe shows such names, it
never lets them act.
"""

import unicodedata

__all__ = ["csv_safe", "visible"]

# Bidirectional controls reorder what a terminal or page shows (the "trojan
# source" trick: a name that reads as one thing and is another).
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Where a spreadsheet starts a formula (OWASP, "CSV Injection"): = + - @, and
# tab and carriage return, which some spreadsheets skip before looking.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(char):
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, kept by Python's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text):
    """``text`` with every character that could act on a terminal or page written as an escape.

    Control characters (an ANSI escape sequence starts with ``\\x1b``, a
    carriage return rewrites the line), line and paragraph separators,
    bidirectional controls and lone surrogates become ``\\xNN``/``\\uNNNN``,
    as in Python's ``repr``. A byte of a file name that is not UTF-8 (on
    POSIX, Python keeps it as a surrogate) is shown as the byte, ``\\xff``.
    Everything else, accents and emoji included, is left as it is.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Safe to print to a terminal and to encode as UTF-8.

    Examples
    --------
    >>> visible("\\x1b[2Jcat.jpg")
    '\\\\x1b[2Jcat.jpg'
    >>> visible("caf\\udce9.jpg")  # b"caf\\xe9.jpg" (Latin-1) as Python reads it on POSIX
    'caf\\\\xe9.jpg'
    >>> visible("café 🌅.jpg")
    'café 🌅.jpg'
    """
    text = str(text)
    if text.isprintable():  # the usual case, and quick
        return text
    return "".join(
        _escape(char) if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI else char
        for char in text
    )


def csv_safe(frame):
    """A copy of ``frame`` whose text cells a spreadsheet shows as text and UTF-8 can encode.

    Each text cell is first made :func:`visible`; one that then begins with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'``, which spreadsheets take as "this is text" (OWASP's advice against
    CSV injection). Numbers, including negative ones, are left alone: only
    cells of text columns are touched.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"image": ["=cmd|' /C calc'!A0.jpg", "a.jpg"], "n": [-1, 2]}))
                        image  n
    0  '=cmd|' /C calc'!A0.jpg -1
    1                   a.jpg  2
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(_safe_cell)
    return out


def _safe_cell(value):
    if not isinstance(value, str):
        return value
    value = visible(value)  # a tab or carriage return is then shown, not kept
    return "'" + value if value.startswith(_FORMULA_START) else value
