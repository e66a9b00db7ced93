"""``themes.skops``: an account's picture themes beside its model, as plain data in skops' format.

``spe fit`` saves the themes it found (:meth:`spe.inspection.PictureThemes.to_data`:
numbers, short texts, numpy arrays; no estimator, no picture folder) so
that ``spe predict`` can place candidates among them. The file is read as
the model's own files are (:mod:`._reading`: a plain file, its size and
the archive's checked before opening), holds builtin values and arrays
only (anything else, even a type skops trusts, is refused), and is
optional: a folder without it, or from an older spe, predicts as before.
"""

import io

import numpy as np

from ..exceptions import ModelLoadError
from ._layout import THEMES_FILE
from ._reading import check_archive, check_folder, read_regular
from ._skops_io import holds_raw_bytes

__all__ = ["dump_themes", "load_themes"]

#: At most this many bytes of themes: a million posts' positions at 32 components would be 256 MB.
_MAX_THEMES_BYTES = 64 << 20
_PLAIN = (str, int, float, bool, type(None))


def _plain(value, depth=0):
    """Builtin values, lists, tuples, dicts with text keys and numeric arrays, nested at most 8 deep."""
    if depth > 8:
        return False
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    if isinstance(value, (list, tuple)):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def dump_themes(themes):
    """The bytes of ``themes.skops`` for a dict of plain data.

    Raises
    ------
    TypeError
        If ``themes`` holds anything but builtin values and numeric arrays.
    """
    import skops.io

    if not isinstance(themes, dict) or not _plain(themes):
        raise TypeError("save_model parameter 'themes' must be plain data (PictureThemes.to_data()).")
    return skops.io.dumps(themes)


def load_themes(directory):
    """The picture themes saved beside a model (a dict of plain data), or None where there are none.

    Parameters
    ----------
    directory : str or path-like
        A model folder written by :func:`save_model`.

    Returns
    -------
    dict or None
        Give it to :meth:`spe.inspection.PictureThemes.from_data`, which checks its contents.

    Raises
    ------
    spe.exceptions.ModelLoadError
        If the folder is not a model folder, or its ``themes.skops`` is
        larger than spe reads, damaged, or holds anything but plain data.

    Examples
    --------
    >>> from spe.inspection import PictureThemes
    >>> data = load_themes("my-model")  # doctest: +SKIP
    >>> themes = PictureThemes.from_data(data, "my-model/themes.skops")  # doctest: +SKIP
    """
    from pathlib import Path

    import skops.io

    folder = Path(directory).expanduser()
    if THEMES_FILE not in check_folder(folder):
        return None
    path = folder / THEMES_FILE
    try:
        data = read_regular(path, _MAX_THEMES_BYTES)
    except (ValueError, OSError) as exc:
        raise ModelLoadError(f"{path}: cannot load the themes ({exc})") from None
    schema = check_archive(path, kind="model", source=io.BytesIO(data))
    if holds_raw_bytes(schema):
        raise ModelLoadError(f"{path}: refused to load: it holds raw bytes, which spe's themes never do")
    try:
        if skops.io.get_untrusted_types(data=data):
            raise ModelLoadError(f"{path}: refused to load: it names types; spe's themes are plain data")
        themes = skops.io.loads(data)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a tampered file makes skops raise
        raise ModelLoadError(f"{path}: corrupt themes file ({type(exc).__name__}: {exc})") from None
    if not isinstance(themes, dict) or not _plain(themes):
        raise ModelLoadError(f"{path}: refused to load: spe's themes are plain data, this holds objects")
    return themes
