"""From the demo to your own account: what a new user trips over (issue 28); an instant `--help` (27.4)."""

import argparse
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.dummy import DummyRegressor

from spe import ImageLoader
from spe.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _pictures(folder, *names):
    for i, name in enumerate(names):
        Image.new("RGB", (8, 8), (40 * i, 90, 200)).save(folder / name, format="JPEG")
    return [str(folder / name) for name in names]


# -- item 7 and issue 27.4: the parser ------------------------------------------------------------


def test_help_says_what_to_run_first_with_examples(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0
    assert "Start here:" in out and "spe demo" in out
    assert "spe fit DATA --out my-model" in out and "spe predict my-model a.jpg" in out


def test_every_option_and_argument_has_help():
    from spe.cli._main import _build_parser

    parser = _build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not action.help
    ]
    assert missing == []
    evaluate_out = next(a for a in commands.choices["evaluate"]._actions if a.dest == "out")
    assert "report.html" in evaluate_out.help


def test_a_mistyped_command_gets_did_you_mean(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["fitt", "data.csv"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "did you mean 'fit'?" in err
    with pytest.raises(SystemExit):
        main(["evaluate", "data", "--cv", "wlak"])
    assert "did you mean 'walk'?" in capsys.readouterr().err


def test_actual_before_the_pictures(capsys):
    from spe.cli._main import _build_parser
    from spe.cli._parser import split_actual

    args = _build_parser().parse_args(
        split_actual(["predict", "m", "--actual", "96", "120", "a.jpg", "b.jpg"])
    )
    assert args.images == ["a.jpg", "b.jpg"] and args.actual == [96.0, 120.0]
    args = _build_parser().parse_args(
        split_actual(["predict", "m", "a.jpg", "--actual", "96", "--when", "now"])
    )
    assert args.images == ["a.jpg"] and args.actual == [96.0] and args.when == "now"
    with pytest.raises(SystemExit):
        main(["predict", "m", "--actual", "a.jpg"])
    assert "invalid float value: 'a.jpg'" in capsys.readouterr().err  # no count at all: argparse says so


_HEAVY = (
    "tensorflow",
    "keras",
    "sklearn",
    "pandas",
    "matplotlib",
    "scipy",
    "numpy",
    "PIL",
    "jinja2",
    "skops",
)


@pytest.mark.parametrize("argv", [["--help"], ["fitt"], ["predict", "--help"], ["evaluate"]])
def test_help_and_argument_errors_import_nothing_heavy(argv):
    code = (
        "import sys\n"
        "from spe.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {_HEAVY!r} if m in sys.modules])"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


# -- item 3: a tie shown as a tie; the same rounding in the terminal and on the page ---------------


def test_a_tie_is_shown_as_a_tie_with_a_dash_for_no_reasons(model, tmp_path, capsys):
    pictures = _pictures(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    out = tmp_path / "out"
    assert (
        main(["predict", str(model), *pictures, "--when", "2030-01-01T18:00+00:00", "--out", str(out)]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("all tied:")
    rows = [line.split() for line in lines[2:5]]
    assert [r[0] for r in rows] == ["1", "1", "1"] and all(r[-1] == "-" for r in rows)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="best"' not in page and "all tied" in page
    # predictions.csv ranks them as the screen and the page do (issue 36: it wrote 1, 2, 3)
    assert pd.read_csv(out / "predictions.csv")["rank"].tolist() == [1, 1, 1]
    # the terminal's whole likes are the page's
    predicted = rows[0][2]
    assert f"<td>{predicted}</td>" in page and "\u2014" in page


def test_one_picture_is_not_said_to_be_a_tie(model, tmp_path, capsys):
    (picture,) = _pictures(tmp_path, "a.jpg")
    assert main(["predict", str(model), picture, "--when", "2030-01-01T18:00+00:00"]) == 0
    out = capsys.readouterr().out
    assert "tie" not in out and "order" not in out and "The model is the account's trend" in out


def test_page_and_terminal_round_alike():
    from spe.cli._next import _ranked_lines
    from spe.report import prediction_section

    table = pd.DataFrame(
        {
            "image": ["x.jpg", "y.jpg"],
            "predicted": [152.7, 140.2],
            "low": [108.4, 99.6],
            "high": [197.5, 180.0],
            "trend": [140.0, 140.0],
            "picture factor": [1.09, 1.0],
            "reasons": ["brightness +5%", ""],
        },
        index=pd.RangeIndex(1, 3, name="rank"),
    )
    table.attrs.update(confidence=0.8, when="2026-12-01T18:00:00+00:00", skill="Skill.")
    first = _ranked_lines(table, None, width=100)[1].split()
    rows = prediction_section(table).context["rows"]
    assert first[2] == rows[0]["predicted"] == "153" and first[3] == "108-198"
    assert rows[0]["interval"] == "108 to 198" and rows[1]["reasons"] == "\u2014"


def test_why_column_wraps_to_the_terminal():
    from spe.cli._next import _ranked_lines

    table = pd.DataFrame(
        {
            "image": ["x.jpg"],
            "predicted": [120.0],
            "low": [90.0],
            "high": [150.0],
            "trend": [110.0],
            "picture factor": [1.09],
            "reasons": ["colourfulness +5%, red tones -4%, edges +4%, symmetry -2%, saturation +1%"],
        },
        index=pd.RangeIndex(1, 2, name="rank"),
    )
    table.attrs.update(confidence=0.8)
    lines = _ranked_lines(table, None, width=70)
    assert len(lines) > 2 and max(map(len, lines)) <= 70


# -- item 4: --when ----------------------------------------------------------------------------------


def test_when_day_month_is_refused_with_the_iso_forms(model, tmp_path, capsys):
    pictures = _pictures(tmp_path, "a.jpg")
    assert main(["predict", str(model), *pictures, "--when", "01/12/2026 18:00"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is 01 the day or the month?" in err
    assert "'2026-12-01 18:00'" in err and "'2026-01-12 18:00'" in err


def test_when_without_offset_in_the_past_or_unused_is_said(model, tmp_path, capsys):
    pictures = _pictures(tmp_path, "a.jpg")
    # after the model's last post (April 2024), before now; no offset
    assert main(["predict", str(model), *pictures, "--when", "2025-01-01 18:00"]) == 0
    out = capsys.readouterr().out
    assert "If posted next (2025-01-01 18:00 UTC)" in out
    assert "no UTC offset, so it was read as UTC" in out and "is in the past" in out
    assert "does not use the posting time" in out
    # No --when: now, and the one thing to say is how long ago the account last posted (issue 36).
    assert main(["predict", str(model), *pictures]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Note:")]
    assert len(notes) == 1 and notes[0].startswith("Note: the account's last post was 2024-04-23; predicting")
    assert main(["predict", str(model), *pictures, "--when", "2030-01-01T18:00+00:00"]) == 0
    assert "last post was" not in capsys.readouterr().out


# -- issue 26.4: --actual against the interval -------------------------------------------------------


def test_actual_says_whether_it_fell_inside_the_interval(model, tmp_path, capsys):
    a, b = _pictures(tmp_path, "a.jpg", "b.jpg")
    assert main(["predict", str(model), "--actual", "0", a]) == 0
    out = capsys.readouterr().out
    assert "(below)" in out and "The actual 0 likes fell below the 80% interval." in out
    assert main(["predict", str(model), a, b, "--actual", "1e6", "0", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "0 of 2 actual counts fell inside their 80% intervals." in out
    assert "above" in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")


# -- item 6: a phone's HEIC ----------------------------------------------------------------------------


def test_heic_from_a_phone_is_read_and_ranked(model, tmp_path, capsys):
    from pillow_heif import from_pillow

    source = Image.new("RGB", (32, 24), (200, 30, 30))
    from_pillow(source).save(tmp_path / "IMG_0001.HEIC", quality=90)  # written by pillow-heif itself
    assert (tmp_path / "IMG_0001.HEIC").read_bytes()[4:12] == b"ftypheic"
    pixels = ImageLoader(size=(8, 8), dtype="uint8").fit_transform([str(tmp_path / "IMG_0001.HEIC")])
    assert pixels.shape == (1, 8, 8, 3) and pixels[0, ..., 0].mean() > 150 > pixels[0, ..., 2].mean()
    assert main(["predict", str(model), str(tmp_path / "IMG_0001.HEIC")]) == 0
    assert "IMG_0001.HEIC" in capsys.readouterr().out


# -- issue 36, item 5: the small things ------------------------------------------------------------


def test_a_report_or_a_pictures_folder_given_as_the_model_says_what_it_is(model, tmp_path, capsys):
    (picture,) = _pictures(tmp_path, "a.jpg")
    predicted = tmp_path / "predicted"
    assert main(["--quiet", "predict", str(model), picture, "--out", str(predicted)]) == 0
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.html").write_text("<html></html>")
    (report / "report.json").write_text("{}")
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    _pictures(pictures, "1.jpg", "2.jpg")
    capsys.readouterr()
    for folder, what in [
        (predicted, "the output of spe predict"),
        (report, "a report"),
        (pictures, "pictures"),
    ]:
        assert main(["predict", str(folder), picture]) == 1
        err = capsys.readouterr().err
        assert err == (
            f"spe: error: {folder} is not a model folder (it holds {what}); "
            "`spe fit DATA --out MODEL_DIR` makes one\n"
        ), err
        assert "move that file out" not in err


def test_a_count_is_a_count(model, tmp_path, capsys):
    a, b = _pictures(tmp_path, "a.jpg", "b.jpg")
    assert main(["predict", str(model), a, b, "--actual", "100"]) == 1
    assert "--actual has 1 count for 2 images" in capsys.readouterr().err
    assert main(["predict", str(model), a, "--actual", "100", "120"]) == 1
    assert "--actual has 2 counts for 1 image:" in capsys.readouterr().err


def test_the_demo_says_why_a_setting_was_not_trained():
    from spe.cli._demo import untrained_note
    from spe.tuning import TuningResult

    results = {
        "param_cnn__epochs": np.array([2, 2, 6, 6]),
        "param_cnn__learning_rate": np.array([1e-3, 1e-4, 1e-3, 1e-4]),
        "mean_test_score": np.array([-900.0, -950.0, -800.0, np.nan]),  # 1e-4 halved away after 2 epochs
    }
    search = TuningResult(cv_results_=results, best_params_={}, best_score_=-800.0)
    note = untrained_note(search)
    assert note.startswith(
        '1 of 4 settings were not trained ("stopped early" in the heatmap): successive halving'
    )
    results["mean_test_score"][1] = np.nan  # 1e-4 never scored at all
    assert untrained_note(search) == "2 of 4 never scored: their training diverged."
    results["mean_test_score"][[0, 1, 2, 3]] = [-900.0, np.nan, np.nan, -700.0]
    assert untrained_note(search).endswith(
        "the others stop there; 1 of 4 never scored: their training diverged."
    )
    results["mean_test_score"][:] = -1.0
    assert untrained_note(search) is None


# -- item 7: the small things --------------------------------------------------------------------------


def test_tuning_table_in_words_best_first():
    from spe.cli._main import _settings_table

    results = pd.DataFrame(
        {
            "param_cnn__epochs": [2, 2, 6, 6],
            "param_cnn__learning_rate": [1e-3, 1e-4, 1e-3, 1e-4],
            "mean_test_score": [-900.0, -400.0, -2500.0, -1600.0],
            "rank_test_score": [2, 1, 4, 3],
        }
    )
    lines = _settings_table(results).splitlines()
    assert lines[0].split() == ["epochs", "learning", "rate", "RMSE", "(likes)", "rank"]
    assert [line.split()[-1] for line in lines[1:]] == ["1", "2", "3", "4"]
    assert lines[1].split()[:3] == ["2", "0.0001", "20"]


def test_evaluation_text_fits_the_terminal(posts, monkeypatch):
    from spe.cli._evaluate import _fit_to_terminal
    from spe.evaluation import evaluate

    report = evaluate({"a model with a long name": DummyRegressor()}, posts, cv="time", n_splits=2)
    monkeypatch.setenv("COLUMNS", "72")
    text = _fit_to_terminal(report)
    assert max(len(line) for line in text.splitlines()) <= 72
    assert max(len(line) for line in report.to_string().splitlines()) > 72  # it needed it
    for column in report.scores.columns:
        assert column in text


def test_the_winner_is_plotted_beside_the_model_evaluated(posts, tmp_path):
    from spe.cli._evaluate import run_evaluation

    out = tmp_path / "out"
    out.mkdir()
    models = {"constant 1": DummyRegressor(strategy="constant", constant=1.0)}
    report = run_evaluation(posts, models, out, label="constant 1", cv="time", folds=2, quiet=True)
    winner = report.scores["MAE"].idxmin()
    assert winner != "constant 1" and (out / "predicted_vs_actual_best.png").is_file()
    assert f"{winner} (lowest MAE): predicted vs actual" in (out / "report.html").read_text(encoding="utf-8")


def test_a_venv_file_left_by_tox_is_ignored():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", ".venv"], cwd=ROOT, check=False)
    assert ignored.returncode == 0


def test_readme_says_how_to_go_from_the_demo_to_your_own_data():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    own = readme[readme.index("## Your own account") :]
    assert "python3 -m pip install ." in own and "'.[instagram]'" in own
    assert "pip install 'spe[" not in readme  # not on an index
    assert re.search(r"\[Large accounts\]\(docs/user_guide/scaling\.rst[^)]*\)", readme)


def _readme_commands(readme):
    """The shell lines of the README's "Your own account" block."""
    own = readme[readme.index("## Your own account") :]
    block = own.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


@pytest.mark.slow
def test_readme_own_data_commands_in_a_fresh_venv(tmp_path):
    """The README's own-data commands, as written, in a new virtual environment (installs spe: minutes)."""
    from spe.datasets import make_posts

    commands = _readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    work = tmp_path / "work"
    work.mkdir()
    # 32 px: the own model's backbone refuses picture files under 32 px
    posts = make_posts(40, directory=work / "pictures", image_size=(32, 32), random_state=0)
    posts.to_csv(work / "my-account.csv", index=False)
    for name in ("beach.jpg", "cafe.jpg", "dog.jpg"):
        Image.new("RGB", (32, 32), "teal").save(work / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The new environment sees this one's dependencies (a path, not its .pth files, so not this
    # editable spe): `pip install .` then installs spe itself without downloading TensorFlow.
    # tools/fresh-readme does the whole download, from a fresh clone.
    new_site = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(new_site, "spe_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    for command in commands:
        command = command.replace("python3 -m pip install .", f"python3 -m pip install {ROOT}")
        command = command.replace("'.[instagram]'", f"'{ROOT}[instagram]'")
        run = subprocess.run(
            command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=900
        )
        assert run.returncode == 0, (command, run.stdout[-2000:], run.stderr[-2000:])
    where = subprocess.run(
        ["python3", "-c", "import spe; print(spe.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert where.stdout.startswith(str(venv)), where  # the spe installed by the README's command
    assert (work / "my-model" / "spe.json").is_file() and (work / "next" / "report.html").is_file()
    assert np.isfinite(pd.read_csv(work / "next" / "predictions.csv")["predicted"]).all()
