"""Model folders of format 2: skops files naming spe's types by the private modules of spe 0.1.0.

Format 2 recorded where each class happened to be defined
(``spe._combined.LikesRegressor``); format 3 records its public name
(``spe.models.LikesRegressor``). A format-2 file is read by renaming, in
memory, each old name on the list below to today's before skops sees it.
Only the names on the list are renamed, each to one public name that is
on today's trusted list: a file naming anything else is refused as
before, by today's check.
"""

import io
import json
import zipfile

from ...exceptions import ModelLoadError

#: Every spe type format 2 trusted, and its public name today.
RENAMED = {
    "spe._baselines.RecentAverageRegressor": "spe.models.RecentAverageRegressor",
    "spe._combined.LikesRegressor": "spe.models.LikesRegressor",
    "spe._embedder.PretrainedEmbedder": "spe.features.PretrainedEmbedder",
    "spe._features.ImageFeatures": "spe.features.ImageFeatures",
    "spe._intervals.ConformalLikesRegressor": "spe.models.ConformalLikesRegressor",
    "spe._loader.ImageLoader": "spe.features.ImageLoader",
    "spe._post_features.PostFeatures": "spe.features.PostFeatures",
    "spe._regressor.CNNLikesRegressor": "spe.models.CNNLikesRegressor",
    "spe._regressor._TargetScaler": "spe.models._TargetScaler",
    "spe._regressor.as_images": "spe.models.as_images",
    "spe._selection.AutoLikesRegressor": "spe.models.AutoLikesRegressor",
    "spe._trend.AutoTrendRegressor": "spe.models.AutoTrendRegressor",
    "spe._trend.EWMARegressor": "spe.models.EWMARegressor",
    "spe._walk._PictureCache": "spe.model_selection._PictureCache",
    "spe._walk._Table": "spe.model_selection._Table",
    "spe._skops_io.Frame": "spe.persistence.Frame",
    "spe._skops_io.KerasFile": "spe.persistence.KerasFile",
}


def rename_schema(schema):
    """Rename, in place, every node of a skops schema that names a type in :data:`RENAMED`."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, name = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(name, str) and f"{module}.{name}" in RENAMED:
                node["__module__"], node["__class__"] = RENAMED[f"{module}.{name}"].rsplit(".", 1)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema


def renamed_format2(path, schema):
    """The skops archive at ``path`` (``schema``: its parsed ``schema.json``) with today's names, in memory.

    The caller has checked the archive's sizes.
    """
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
            for entry in source.infolist():
                if entry.filename == "schema.json":
                    target.writestr(entry, json.dumps(rename_schema(schema)).encode("utf-8"))
                else:
                    target.writestr(entry, source.read(entry))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ModelLoadError(f"{path}: corrupt model file ({type(exc).__name__}: {exc})") from None
    out.seek(0)
    return out
