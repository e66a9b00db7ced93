"""Every import path a user of spe 0.1.0 wrote still works, and the layout keeps its rules."""

import ast
import importlib
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

import spe

SPE = Path(spe.__file__).parent

#: The public names of spe 0.1.0, by module (spe.__all__ is checked separately).
PUBLIC = {
    "spe.datasets": ["LIKES_FILE", "load_csv", "load_data", "load_folder", "load_instaloader", "make_posts"],
    "spe.evaluation": [
        "EvaluationReport",
        "METRICS",
        "PROTOCOLS",
        "WalkForwardSplit",
        "candidates",
        "evaluate",
        "make_cv",
        "median_absolute_percentage_error",
        "picture_skill",
        "precompute_pictures",
        "spearman_score",
        "spearman_scorer",
        "walk_forward_predict",
    ],
    "spe.tuning": ["TuningResult", "fast_grid_search", "limit_threads"],
    "spe.persistence": [
        "FORMAT_VERSION",
        "META_FILE",
        "NETWORK_FILE",
        "SKOPS_FILE",
        "TRUSTED_TYPES",
        "load_model",
        "save_model",
    ],
    "spe.report": [
        "Section",
        "evaluation_page",
        "evaluation_section",
        "figure_uri",
        "prediction_page",
        "prediction_section",
        "render_page",
        "text_section",
        "thumbnail_uri",
        "tuning_page",
        "tuning_section",
    ],
    "spe.inspection": ["feature_importance", "picture_contributions", "top_reasons"],
    "spe.plotting": ["plot_grid_heatmap", "plot_likes", "plot_loss_curve", "plot_predicted_vs_actual"],
    "spe.distributed": ["LimitTensorFlowThreads"],
    "spe.exceptions": ["DataError", "ImageLoadError", "ModelLoadError", "NotExplainableError"],
    "spe.cli": ["main"],
    # the new public packages
    "spe.features": ["ImageFeatures", "ImageLoader", "PostFeatures", "PretrainedEmbedder"],
    "spe.models": [
        "AutoLikesRegressor",
        "AutoTrendRegressor",
        "CNNLikesRegressor",
        "ConformalLikesRegressor",
        "EWMARegressor",
        "LikesRegressor",
        "RecentAverageRegressor",
        "candidates",
        "next_post_model",
        "predict_next",
        "walk_forward_intervals",
    ],
    "spe.model_selection": [
        "TuningResult",
        "WalkForwardSplit",
        "fast_grid_search",
        "pairwise_accuracy",
        "picture_skill",
        "precompute_pictures",
        "walk_forward_predict",
    ],
}


@pytest.mark.parametrize("name", spe.__all__)
def test_every_name_in_spe_all_imports(name):
    assert getattr(spe, name) is not None
    exec(f"from spe import {name}", {})


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in PUBLIC.items() for n in names])
def test_every_public_path_imports(module, name):
    assert getattr(importlib.import_module(module), name) is not None
    exec(f"from {module} import {name}", {})


def test_the_same_object_under_every_path():
    from spe.evaluation import WalkForwardSplit, candidates
    from spe.model_selection import fast_grid_search
    from spe.tuning import fast_grid_search as old_fast_grid_search

    assert WalkForwardSplit is spe.model_selection.WalkForwardSplit
    assert candidates is spe.models.candidates
    assert fast_grid_search is old_fast_grid_search
    assert spe.CNNLikesRegressor is spe.models.CNNLikesRegressor
    assert spe.PretrainedEmbedder is spe.features.PretrainedEmbedder


def test_the_console_script_is_spe_cli_main():
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "spe"]
    assert script.value == "spe.cli:main"
    assert script.load() is spe.cli.main


def test_importing_spe_and_its_packages_does_not_start_tensorflow():
    packages = ", ".join(m for m in PUBLIC if m != "spe.distributed")
    code = f"import sys, spe, {packages}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_only_spe_keras_imports_keras_and_tensorflow():
    offenders = [
        str(path.relative_to(SPE))
        for path in SPE.rglob("*.py")
        if path.parent.name != "_keras"
        and any(name.split(".")[0] in ("keras", "tensorflow") for name in _imports(path))
    ]
    assert offenders == []


def test_no_spe_estimator_replaces_sklearns_validate_params():
    from sklearn.base import BaseEstimator

    for cls in (spe.ImageLoader, spe.CNNLikesRegressor, spe.ImageFeatures, spe.PretrainedEmbedder):
        assert cls._validate_params is BaseEstimator._validate_params, cls.__name__


def test_the_walk_and_the_explanations_ask_transformers_not_modules():
    """No branching through sys.modules on spe's own classes: a tag on the class says it."""
    for path in (SPE / "model_selection" / "_walk.py", SPE / "inspection" / "_explain.py"):
        assert 'sys.modules.get("spe' not in path.read_text(encoding="utf-8")
    from spe.model_selection._pictures import _is_picture_transformer

    assert _is_picture_transformer(spe.ImageFeatures()) and _is_picture_transformer(spe.PretrainedEmbedder())
    assert not _is_picture_transformer(spe.PostFeatures())


def test_one_walker_of_estimator_trees():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from spe._tree import chain, contains, final, parts

    inner = spe.LikesRegressor(image_model=make_pipeline(spe.ImageFeatures(), StandardScaler()))
    auto = spe.AutoLikesRegressor({"picture": inner})
    found = [type(p).__name__ for p in parts(auto)]
    assert found[:3] == ["AutoLikesRegressor", "LikesRegressor", "Pipeline"] and "ImageFeatures" in found
    assert contains({"a": [auto]}, lambda p: isinstance(p, StandardScaler))
    assert not contains(auto, lambda p: isinstance(p, StandardScaler), fitted=True)  # nothing fitted yet
    auto.estimator_ = inner
    assert list(chain(auto)) == [auto, inner] and final(auto) is inner


class _Copies(BaseEstimator):
    def __init__(self, k=2.0):
        self.k = k + 0.0  # a new float: not the parameter it was given


def test_the_walks_clone_is_sklearns_clone():
    from sklearn.base import clone as sklearn_clone
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import Ridge

    from spe._tree import clone, params, parts
    from spe.evaluation import candidates

    models = candidates(size=16, cnn=False, embeddings=False)
    own = models["account's own model"].candidates["trend x picture"].image_model
    own.steps[1][1].set_output(transform="pandas")
    configs = []
    for model in models.values():
        ours, theirs = list(parts(clone(model))), list(parts(sklearn_clone(model)))
        assert repr(ours[0]) == repr(theirs[0]) and [type(p) for p in ours] == [type(p) for p in theirs]
        assert all(params(p).keys() == p.get_params(deep=False).keys() for p in ours)
        assert not {id(p) for p in ours} & {id(p) for p in parts(model)}  # every estimator a new one
        configs += [[getattr(p, "_sklearn_output_config", None) for p in found] for found in (ours, theirs)]
    assert configs[::2] == configs[1::2] and {"transform": "pandas"} in sum(configs, [])
    assert clone(Ridge(), alpha=3.0).alpha == 3.0
    frozen = FrozenEstimator(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]))
    assert clone(frozen) is frozen  # its own __sklearn_clone__, as scikit-learn calls it
    for cloning in (clone, sklearn_clone):
        with pytest.raises(RuntimeError, match="parameter k"):
            cloning(_Copies())
