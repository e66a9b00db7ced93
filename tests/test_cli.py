import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from spe.cli import main

TINY = ["--size", "8", "--folds", "2"]


def test_evaluate_writes_report_and_plots(posts, tmp_path, capsys):
    out = tmp_path / "report"
    assert (
        main(["--quiet", "evaluate", posts.attrs["directory"], *TINY, "--epochs", "1", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "recent average (k=10)" in printed and "time-ordered" in printed
    for name in (
        "report.json",
        "report.csv",
        "report.txt",
        "predictions.csv",
        "likes.png",
        "predicted_vs_actual.png",
    ):
        assert (out / name).is_file(), name
    assert set(json.loads((out / "report.json").read_text())["scores"]) == {
        "mean of training likes",
        "recent average (k=10)",
        "CNN",
    }


def _tune_args(posts, *extra):
    """``spe --quiet tune`` on the test posts, a 2 x 2 grid."""
    return [
        "--quiet",
        "tune",
        posts.attrs["directory"],
        *TINY,
        "--epochs",
        "1,2",
        "--learning-rate",
        "1e-2,1e-3",
        *extra,
    ]


def test_tune_fit_and_predict(posts, tmp_path, capsys):
    out = tmp_path / "tuned"
    assert main(_tune_args(posts, "--out", str(out))) == 0
    assert "Best of 4 settings" in capsys.readouterr().out
    for name in ("cv_results.csv", "best.json", "grid_heatmap.png", "model/spe.json", "model/network.keras"):
        assert (out / name).is_file(), name

    model = tmp_path / "model"
    assert main(["fit", posts.attrs["directory"], "--size", "8", "--epochs", "1", "--out", str(model)]) == 0
    image = posts["image"].iloc[0]
    assert main(["predict", str(model), image, "--actual", "100"]) == 0
    line = capsys.readouterr().out.splitlines()[-2]
    assert line.startswith(f"{image}: predicted ") and "actual 100 (" in line and "%)" in line


def test_errors_are_one_line_and_exit_nonzero(posts, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nope"), "a.jpg"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No model folder" in err and "Traceback" not in err
    assert main(["evaluate", str(tmp_path / "missing")]) == 1
    assert "No such file or folder" in capsys.readouterr().err
    with pytest.raises(Exception, match="No model folder"):
        main(["--debug", "predict", str(tmp_path / "nope"), "a.jpg"])


def test_bad_image_in_data_names_the_file_and_writes_nothing(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for i in (1, 2, 3, 4):
        Image.new("RGB", (8, 8)).save(data / f"{i}.jpg")
    (data / "3.jpg").write_bytes(b"\xff\xd8 half a jpeg")
    (data / "y_likes_data.txt").write_text("1: 1\n2: 2\n3: 3\n4: 4\n")
    out = tmp_path / "out"
    assert (
        main(["evaluate", str(data), "--size", "8", "--folds", "2", "--epochs", "1", "--out", str(out)]) == 1
    )
    assert "3.jpg" in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no staging folder left


def test_interrupted_tune_writes_nothing_and_says_how_far(posts, tmp_path, capsys, monkeypatch):
    from sklearn.model_selection import GridSearchCV

    def interrupt(self, X, y=None, **params):
        self.scoring(self.estimator.fit(X, y), X, y)  # one fit scored, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(GridSearchCV, "fit", interrupt)
    out = tmp_path / "tuned"
    code = main(
        [
            "--quiet",
            "tune",
            posts.attrs["directory"],
            *TINY,
            "--epochs",
            "1",
            "--learning-rate",
            "1e-2",
            "--out",
            str(out),
        ]
    )
    assert code == 130
    assert "interrupted after 1 of 2 fits; nothing was written" in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_demo_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["--quiet", "demo", "--out", str(out), "--posts", "40", "--epochs", "5"]) == 0
    printed = capsys.readouterr().out
    assert "== 3. What will a new picture get? ==" in printed and "predicted" in printed
    for name in (
        "report.txt",
        "likes.png",
        "predicted_vs_actual.png",
        "grid_heatmap.png",
        "loss_curve.png",
        "model/spe.json",
        "realistic/report.txt",
    ):
        assert (out / name).is_file(), name


def _run(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}  # spe must quieten TensorFlow itself
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    return subprocess.run(
        [sys.executable, "-m", "spe.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_subprocess_quiet_output_and_one_line_errors(posts, tmp_path):
    ok = _run("--quiet", "evaluate", posts.attrs["directory"], *TINY, "--epochs", "1")
    assert ok.returncode == 0, ok.stderr
    assert "recent average" in ok.stdout
    assert "oneDNN" not in ok.stderr and "cuda" not in ok.stderr.lower() and "WARNING" not in ok.stderr
    bad = _run("predict", str(tmp_path / "nope"), "a.jpg")
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("spe: error:")


@pytest.mark.parametrize("cache", [False, True], ids=["memory", "cache-dir"])
def test_tune_fast(posts, tmp_path, capsys, cache):
    out = tmp_path / "fast"
    extra = ["--cache-dir", str(tmp_path / "cache")] if cache else []
    assert main(_tune_args(posts, "--fast", "--out", str(out), *extra)) == 0
    printed = capsys.readouterr().out
    assert "Best of 4 settings" in printed
    assert (out / "model" / "spe.json").is_file() and (out / "grid_heatmap.png").is_file()
    if cache:  # all posts once; every fold's parts are read from that file
        assert len(list((tmp_path / "cache").glob("images-*.npy"))) == 1


def test_cache_dir_decodes_once_and_the_saved_model_writes_no_cache(posts, tmp_path, capsys):
    folder = posts.attrs["directory"]
    cache = tmp_path / "cache"
    predictions = {}
    for name, extra in [("memory", []), ("cache", ["--cache-dir", str(cache)])]:
        model = tmp_path / f"model-{name}"
        assert (
            main(["--quiet", "fit", folder, "--size", "8", "--epochs", "2", "--out", str(model), *extra]) == 0
        )
        capsys.readouterr()
        assert main(["predict", str(model), *posts["image"].iloc[:3]]) == 0
        predictions[name] = [line for line in capsys.readouterr().out.splitlines() if "predicted" in line]
    # Streamed batches are shuffled differently, so the networks differ a little.
    assert len(predictions["cache"]) == len(predictions["memory"]) == 3
    assert len(list(cache.glob("images-*.npy"))) == 1  # decoded once, reused by fit
    loader = json.loads((tmp_path / "model-cache" / "spe.json").read_text())["loader"]
    assert loader["dtype"] == "uint8" and loader["cache_dir"] is None  # a saved model writes no cache

    assert main(["--quiet", "evaluate", folder, *TINY, "--epochs", "1", "--cache-dir", str(cache)]) == 0
    assert "CNN" in capsys.readouterr().out
    assert len(list(cache.glob("images-*.npy"))) == 1  # the folds read the account's file, no new one


def test_a_bug_is_not_turned_into_a_user_error(monkeypatch):
    # Only bad input becomes a one-line "spe: error:"; a TypeError from a
    # programming mistake keeps its traceback.
    def buggy(args):
        return len(None)

    monkeypatch.setitem(__import__("spe.cli").cli.COMMANDS, "predict", buggy)
    with pytest.raises(TypeError, match="NoneType"):
        main(["predict", "model", "a.jpg"])
