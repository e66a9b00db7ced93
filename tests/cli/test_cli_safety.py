"""`--out` never loses a model, and what the command prints and writes copes with any file name (issue 22)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import spe
from spe.cli import main
from spe.persistence._staging import MARKER


def _contents(folder):
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def _picture(path):
    Image.new("RGB", (8, 8), "red").save(path, format="JPEG")
    return path


def _no_work(monkeypatch):
    """Make any start of the work fail the test: the refusal must come first."""

    def fail(*args, **kwargs):
        pytest.fail("the work began before --out was refused")

    # Each command module binds the shared loader's name when imported: patched where it is looked up.
    import spe.cli._demo
    import spe.cli._evaluate
    import spe.cli._next  # noqa: F401

    monkeypatch.setattr("spe.persistence._save_load.load_model", fail)
    monkeypatch.setattr("spe.persistence.load_model", fail)
    for module in ("spe.cli._main", "spe.cli._evaluate", "spe.cli._next"):
        monkeypatch.setattr(f"{module}.load_checked", fail)
    monkeypatch.setattr("spe.datasets.make_posts", fail)


# -- item 2: --out never replaces a model, nor another kind of output ------------------------------


def test_predict_out_at_the_model_refuses_before_any_work_and_keeps_it(model, tmp_path, capsys, monkeypatch):
    before = _contents(model)
    picture = _picture(tmp_path / "a.jpg")
    _no_work(monkeypatch)
    assert main(["predict", str(model), str(picture), "--out", str(model)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no ranking printed, then refused
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"spe: error: {model} is a model folder")
    assert "will not replace it with the output of spe predict" in captured.err
    assert f"--out {model.parent / 'spe-predict'}" in captured.err  # beside the model, not inside it
    assert _contents(model) == before
    assert sorted(p.name for p in model.parent.iterdir()) == ["model", "posts"]  # no staging, no lock


@pytest.mark.parametrize("command", ["evaluate", "tune", "demo"])
def test_other_commands_refuse_a_model_folder_before_any_work(model, command, capsys, monkeypatch):
    before = _contents(model)
    _no_work(monkeypatch)
    data = [] if command == "demo" else [str(model.parent / "posts")]
    assert main(["--quiet", command, *data, "--out", str(model)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"spe: error: {model} is a model folder; spe will not replace it with the output")
    assert err.count("\n") == 1
    assert _contents(model) == before


def test_predict_out_at_a_tune_output_holding_a_model_is_refused(model, tmp_path, capsys, monkeypatch):
    tuned = tmp_path / "tuned"
    tuned.mkdir()
    (tuned / "best.json").write_text("{}")
    (tuned / "model").mkdir()
    for path in model.iterdir():
        (tuned / "model" / path.name).write_bytes(path.read_bytes())
    for kind in ("tune", None):  # this spe's marker, and an older one's that names no kind
        entries = sorted(["best.json", "model", *(f"model/{p.name}" for p in model.iterdir())])
        (tuned / MARKER).write_text(json.dumps({"written_by": "spe", "entries": entries, "kind": kind}))
        before = _contents(tuned)
        _no_work(monkeypatch)
        assert main(["predict", str(model), str(_picture(tmp_path / "a.jpg")), "--out", str(tuned)]) == 1
        captured = capsys.readouterr()
        assert captured.out == "" and "spe will not replace it with the output of spe predict" in captured.err
        assert _contents(tuned) == before


def test_predict_out_at_my_own_folder_or_file_refuses_before_printing(model, tmp_path, capsys, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"precious")
    (tmp_path / "a_file.txt").write_text("precious")
    picture = str(_picture(tmp_path / "a.jpg"))
    _no_work(monkeypatch)
    assert main(["predict", str(model), picture, "--out", str(mine)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "holds holiday.jpg, which spe did not write" in captured.err
    assert f"--out {mine / 'spe-predict'}" in captured.err  # a new folder among the user's files is fine
    assert main(["predict", str(model), picture, "--out", str(tmp_path / "a_file.txt")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "a_file.txt exists and is not a folder" in captured.err
    assert "a_file.txt/" not in captured.err and f"--out {tmp_path / 'spe-predict'}" in captured.err
    assert (mine / "holiday.jpg").read_bytes() == b"precious"
    assert (tmp_path / "a_file.txt").read_text() == "precious"


def test_fit_out_at_another_commands_output_is_refused(model, tmp_path, capsys):
    out = tmp_path / "ranked"
    assert main(["predict", str(model), str(_picture(tmp_path / "a.jpg")), "--out", str(out)]) == 0
    assert json.loads((out / MARKER).read_text())["kind"] == "predict"
    capsys.readouterr()
    before = _contents(out)
    assert main(["--quiet", "fit", str(model.parent / "posts"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "is the output of spe predict; spe will not replace it with a model folder" in err
    assert _contents(out) == before
    assert main(["predict", str(model), str(tmp_path / "a.jpg"), "--out", str(out)]) == 0  # same kind: fine


# -- item 9: what is printed and written copes with any file name ---------------------------------


def test_spreadsheet_formulas_in_file_names_are_written_as_text(model, tmp_path, capsys, monkeypatch):
    names = ["=1+2.jpg", "+cmd.jpg", "-2.jpg", "@sum.jpg", "\tx.jpg", "\rx.jpg", "plain.jpg"]
    for name in names:
        _picture(tmp_path / name)
    monkeypatch.chdir(tmp_path)  # bare names, as a shell's `spe predict model *.jpg` gives them
    out = tmp_path / "out"
    assert main(["predict", str(model), "--out", str(out), "--", *names]) == 0
    capsys.readouterr()
    cells = pd.read_csv(out / "predictions.csv", dtype=str, keep_default_na=False)
    assert sorted(cells["image"]) == sorted(
        ["'=1+2.jpg", "'+cmd.jpg", "'-2.jpg", "'@sum.jpg", "\\x09x.jpg", "\\x0dx.jpg", "plain.jpg"]
    )
    for column in cells.columns:  # no other cell starts a formula either
        assert not cells[column].str.startswith(("=", "+", "@", "\t", "\r")).any(), column
    numbers = pd.read_csv(out / "predictions.csv")
    # The trend model gives every picture the same prediction: one rank for all, as on the screen.
    assert numbers["predicted"].dtype.kind == "f" and numbers["rank"].tolist() == [1] * 7


def test_escape_sequences_in_a_name_are_shown_not_sent_to_the_terminal(model, tmp_path, capsys):
    picture = _picture(tmp_path / "\x1b[2J\x1b]0;owned\x07cat\r.jpg")
    assert main(["predict", str(model), str(picture), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\x07" not in printed and "\r" not in printed
    assert "\\x1b[2J\\x1b]0;owned\\x07cat\\x0d.jpg" in printed
    assert main(["predict", str(model), str(tmp_path / "\x1b[2Jgone.jpg")]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2Jgone.jpg" in err


def _spe(*args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(Path(spe.__file__).parents[1]), "LC_ALL": "C.UTF-8"}
    env.pop("PYTHONIOENCODING", None)  # stdout as a user's terminal or pipe has it: UTF-8, strict
    env["PYTHONUTF8"] = "0"
    command = [sys.executable, "-c", "import sys, spe.cli; sys.exit(spe.cli.main())", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux file names are bytes")
def test_a_name_that_is_not_utf8_is_printed_and_written(model, tmp_path):
    picture = os.fsencode(tmp_path) + b"/caf\xe9-\xff.jpg"  # Latin-1 and a stray byte
    _picture(picture.decode("utf-8", "surrogateescape"))
    out = tmp_path / "out"
    with _spe("predict", os.fsencode(model), picture, "--out", os.fsencode(out)) as proc:
        stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode(errors="replace")
    assert b"caf\\xe9-\\xff.jpg" in stdout  # the bytes shown as Python escapes
    csv = (out / "predictions.csv").read_bytes().decode("utf-8")  # strict: the file is UTF-8
    assert "caf\\xe9-\\xff.jpg" in csv
    html = (out / "report.html").read_bytes().decode("utf-8")
    assert "caf\\xe9-\\xff.jpg" in html and html.count("<img") == 1


def test_a_reader_that_stops_early_is_not_an_error(model, tmp_path):
    pictures = [os.fsencode(_picture(tmp_path / f"{i}.jpg")) for i in range(30)]
    out = tmp_path / "out"
    with _spe("predict", os.fsencode(model), *pictures, "--out", os.fsencode(out)) as proc:
        proc.stdout.close()  # `| head -0`: the reader is gone before spe prints anything
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=300) == 0, stderr
    assert not any(text in stderr for text in ("Broken pipe", "BrokenPipeError", "Exception ignored"))
    assert len(pd.read_csv(out / "predictions.csv")) == 30  # the files asked for are written in full


def test_read_only_out_names_the_folder_given(model, tmp_path):
    from tests.persistence.test_staging import run_read_only

    picture = _picture(tmp_path / "a.jpg")
    done = run_read_only(
        tmp_path / "ro",
        f"""
        import spe.cli
        sys.exit(spe.cli.main(["predict", {str(model)!r}, {str(picture)!r}, "--out", str(folder / "out")]))
        """,
    )
    if done is None:
        pytest.skip("cannot make a folder read-only for this process")
    assert done.returncode == 1 and done.stdout == ""
    out = tmp_path / "ro" / "out"
    assert done.stderr == f"spe: error: [Errno 13] cannot write {out}: Permission denied (in {out.parent})\n"
