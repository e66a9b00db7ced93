"""Picture themes in ``spe fit`` and ``spe predict``: found once when fitting, read back when predicting.

``spe fit`` runs the account's model's backbone once over its pictures:
the model's walk reads those embeddings
(:func:`~spe.model_selection.known_pictures`), and the themes read the
same pass's ImageNet probabilities, so the themes cost no second pass.
They are saved beside the model (``themes.skops``, plain data), and
``spe predict`` places each candidate among them.
"""

import contextlib
from dataclasses import dataclass

import numpy as np

__all__ = ["Eyes", "fit_eyes", "fit_themes", "predict_themes"]


@dataclass
class Eyes:
    """One backbone pass over the account's pictures: the model's embedder, fitted, and what it saw."""

    embedder: object  # as the model holds it (unfitted): what its walk looks the rows up by
    fitted: object
    paths: list
    embeddings: np.ndarray
    probabilities: np.ndarray

    def shared(self):
        """A block in which the model's walk reads these embeddings instead of embedding again."""
        from ..model_selection import known_pictures

        return known_pictures(self.embedder, self.paths, self.embeddings)


def fit_eyes(model, data):
    """The backbone pass ``spe fit`` shares between its model and its themes, or None.

    None where the model sees no pictures through an ImageNet Lite
    backbone (``--model`` naming another, random weights) or the account
    has too few posts for themes: the model then embeds as it always has.
    """
    from ..features import PretrainedEmbedder
    from ..features._embedder import WHEELS
    from ..inspection._themes import MIN_POSTS, backbone_pass

    if len(data) < MIN_POSTS:
        return None
    found = [
        part
        for part in _parts(model)
        if isinstance(part, PretrainedEmbedder) and part.backbone in WHEELS and part.weights == "imagenet"
    ]
    if not found:
        return None
    fitted = PretrainedEmbedder(**found[0].get_params()).fit()
    paths = data["image"].astype(str).tolist()
    embeddings, probabilities = backbone_pass(fitted, paths)
    return Eyes(found[0], fitted, paths, embeddings, probabilities)


def _parts(model):
    from .._tree import parts

    return list(parts(model))


def fit_themes(eyes, data):
    """The account's picture themes from ``spe fit``'s backbone pass, or None without one.

    Returns
    -------
    PictureThemes or None
    """
    from ..inspection import picture_themes

    if eyes is None:
        return None
    return picture_themes(eyes.fitted, data, embeddings=eyes.embeddings, probabilities=eyes.probabilities)


def fit_line(themes):
    """``spe fit``'s one line on the themes it saved: how many, and those that stand out."""
    from ..inspection._themes import theme_title

    if themes is None:
        return None
    if themes.centroids is None:
        return themes.note
    out = themes.themes[themes.themes["stands_out"].astype(bool)]
    said = "; ".join(f"theme {row.theme} ({theme_title(row)}) {row.effect:+.0%}" for row in out.itertuples())
    found = f"{len(themes.themes)} picture themes found and saved with the model"
    if not said:
        return f"{found}; none stands out from the rest (spe predict names each picture's theme)."
    return f"{found}; standing out against the other posts: {said}."


def predict_themes(folder, model, table):
    """``spe predict``'s ranking with each candidate's theme and closest posts, where the folder has themes.

    Returns
    -------
    table : DataFrame
        :func:`~spe.inspection.with_themes`' table, or ``table`` itself.
    note : str or None
        One line where the themes could not be used (and why).
    """
    from ..exceptions import ImageLoadError
    from ..inspection import PictureThemes, with_themes
    from ..persistence import load_themes
    from ..persistence._layout import THEMES_FILE

    data = load_themes(folder)
    if data is None:
        return table, None
    themes = PictureThemes.from_data(data, f"{folder}/{THEMES_FILE}")
    try:
        return with_themes(table, themes, model=model), None
    except ImageLoadError as exc:  # a candidate the backbone cannot see (under 32 px): said once
        return table, f"no themes for these pictures: {exc}"


@contextlib.contextmanager
def sharing(eyes):
    """``eyes.shared()``, or nothing without a backbone pass."""
    if eyes is None:
        yield
    else:
        with eyes.shared():
            yield
