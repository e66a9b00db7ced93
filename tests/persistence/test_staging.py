import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spe.persistence import _staging
from spe.persistence._staging import MARKER, recover, reserve, staged


def _write(folder, files):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def _read(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_new_folder_gets_the_marker_and_nothing_is_left_beside_it(tmp_path):
    with staged(tmp_path / "out") as folder:
        _write(folder, {"report.txt": "one", "model/spe.json": "{}"})
        assert not (tmp_path / "out").exists()  # nothing published before the block ends
    assert _read(tmp_path / "out").keys() == {MARKER, "report.txt", "model/spe.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder, no lock file


def test_spe_folder_is_replaced_as_a_whole(tmp_path):
    with staged(tmp_path / "out") as folder:
        _write(folder, {"a.txt": "old", "model/x": "old"})
    with staged(tmp_path / "out") as folder:
        _write(folder, {"b.txt": "new"})
    assert _read(tmp_path / "out").keys() == {MARKER, "b.txt"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_foreign_content_is_refused_before_any_work_and_kept(tmp_path):
    _write(tmp_path / "out", {"data/mine.txt": "precious"})
    ran = []
    with pytest.raises(FileExistsError, match=r"holds data, which spe did not write.*use another"):
        with staged(tmp_path / "out", advice="use another") as folder:
            ran.append(folder)
    assert not ran
    assert _read(tmp_path / "out") == {"data/mine.txt": "precious"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_is_own_lets_an_unmarked_folder_be_replaced(tmp_path):
    _write(tmp_path / "m", {"spe.json": "{}"})
    with staged(tmp_path / "m", is_own=lambda p: (p / "spe.json").is_file()) as folder:
        _write(folder, {"spe.json": "new"})
    assert _read(tmp_path / "m")["spe.json"] == "new"


def test_empty_folder_is_used_but_not_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with staged(tmp_path / "empty") as folder:
        _write(folder, {"r.txt": "x"})
    assert (tmp_path / "empty" / "r.txt").is_file()
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(FileExistsError, match="the folder you are working in"):
        with staged("."):
            pass


def test_a_file_is_not_replaced(tmp_path):
    (tmp_path / "out").write_text("mine")
    with pytest.raises(FileExistsError, match="is not a folder"):
        with staged(tmp_path / "out"):
            pass
    assert (tmp_path / "out").read_text() == "mine"


def test_error_inside_keeps_the_old_folder_and_leaves_nothing(tmp_path):
    with staged(tmp_path / "out") as folder:
        _write(folder, {"a.txt": "old"})
    with pytest.raises(RuntimeError, match="boom"):
        with staged(tmp_path / "out") as folder:
            _write(folder, {"a.txt": "new"})
            raise RuntimeError("boom")
    assert _read(tmp_path / "out")["a.txt"] == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_content_that_appears_meanwhile_is_not_overwritten(tmp_path):
    with pytest.raises(FileExistsError, match="notes.txt"):
        with staged(tmp_path / "out") as folder:
            _write(folder, {"a.txt": "new"})
            _write(tmp_path / "out", {"notes.txt": "written by hand during the run"})
    assert _read(tmp_path / "out") == {"notes.txt": "written by hand during the run"}


@pytest.mark.parametrize("swap", ["renameat2", "two renames"])
def test_both_publishing_paths(tmp_path, monkeypatch, swap):
    if swap == "renameat2" and _staging._renameat2 is None:
        pytest.skip("no renameat2 here")
    if swap == "two renames":
        monkeypatch.setattr(_staging, "_renameat2", None)
    for text in ("old", "new"):
        with staged(tmp_path / "out") as folder:
            _write(folder, {"a.txt": text})
    assert _read(tmp_path / "out")["a.txt"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_leftovers_of_a_killed_run_are_removed_by_the_next_writer(tmp_path):
    with staged(tmp_path / "out") as folder:
        _write(folder, {"a.txt": "old"})
    for name in (".out.spe-staging-abcd1234", ".out.saving-x1y2z3_4", ".out.old-0123abcd"):
        _write(tmp_path / name, {"half.txt": "half"})
    _write(tmp_path / ".out.notes", {"mine.txt": "not a leftover"})
    _write(tmp_path / ".out.spe-lock", {})
    (tmp_path / ".out.spe-lock").write_text("12345")  # its process died: the lock is free
    with staged(tmp_path / "out") as folder:
        _write(folder, {"a.txt": "new"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.notes", "out"]


def test_a_folder_left_mid_swap_is_put_back(tmp_path):
    _write(tmp_path / ".model.old-0123abcd", {"spe.json": "old model"})
    with pytest.warns(UserWarning, match=r"was missing.*\.model\.old-0123abcd"):
        assert recover(tmp_path / "model").name == ".model.old-0123abcd"
    assert _read(tmp_path / "model") == {"spe.json": "old model"}
    assert recover(tmp_path / "model") is None  # exists: nothing to do
    with staged(tmp_path / "out") as folder:
        _write(folder, {"a.txt": "old"})
    (tmp_path / "out").rename(tmp_path / ".out.old-0123abcd")
    with pytest.warns(UserWarning, match="was missing"):  # the next writer does it too
        with staged(tmp_path / "out") as folder:
            assert (tmp_path / "out" / "a.txt").read_text() == "old"
            _write(folder, {"a.txt": "new"})
    assert _read(tmp_path / "out")["a.txt"] == "new"


def test_nested_claims_share_the_lock(tmp_path):
    with reserve(tmp_path / "m") as target, staged(tmp_path / "m") as folder:
        _write(folder, {"a.txt": "x"})
    assert target == tmp_path / "m" and (target / "a.txt").is_file()
    assert not (tmp_path / ".m.spe-lock").exists()


def test_a_second_process_is_refused_while_the_first_writes(tmp_path):
    holder = textwrap.dedent(
        f"""
        import sys, time
        from spe.persistence._staging import reserve
        with reserve({str(tmp_path / "out")!r}):
            print("held", flush=True)
            sys.stdin.readline()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(_staging.__file__).parents[2])}
    with subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    ) as proc:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(BlockingIOError, match=rf"another spe \(process {proc.pid}\) is writing"):
            with staged(tmp_path / "out"):
                pass
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    with staged(tmp_path / "out") as folder:  # free again
        _write(folder, {"a.txt": "x"})
    assert (tmp_path / "out" / "a.txt").is_file()


def test_another_thread_is_another_writer(tmp_path):
    import threading

    errors = []

    def second():
        try:
            with staged(tmp_path / "out"):
                pass
        except BlockingIOError as exc:
            errors.append(str(exc))

    with staged(tmp_path / "out") as folder:
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
        _write(folder, {"a.txt": "first"})
    assert len(errors) == 1 and f"process {os.getpid()}" in errors[0]
    assert _read(tmp_path / "out")["a.txt"] == "first"


def test_files_added_to_an_spe_folder_are_not_deleted(tmp_path):
    with staged(tmp_path / "out") as folder:
        _write(folder, {"report.txt": "spe's", "model/spe.json": "{}"})
    _write(tmp_path / "out", {"model/notes.txt": "mine, added later"})
    with pytest.raises(FileExistsError, match=r"is an spe output folder, but it also holds model/notes.txt"):
        with staged(tmp_path / "out") as folder:
            _write(folder, {"report.txt": "new"})
    assert _read(tmp_path / "out")["model/notes.txt"] == "mine, added later"
    (tmp_path / "out" / "model" / "notes.txt").unlink()  # spe's own files only again
    with staged(tmp_path / "out") as folder:
        _write(folder, {"report.txt": "new"})
    assert _read(tmp_path / "out").keys() == {MARKER, "report.txt"}


def test_a_broken_marker_proves_nothing(tmp_path):
    _write(tmp_path / "out", {MARKER: "{not json", "a.txt": "x"})
    with pytest.raises(FileExistsError, match=r"not an spe output folder: it holds \.spe-output, a\.txt"):
        with staged(tmp_path / "out"):
            pass


# -- the kind of folder: one kind never replaces another (issue 22, item 2) ---------------------


def _kind(folder):
    return json.loads((folder / MARKER).read_text())["kind"]


def _old_marker(folder, files):
    """A folder as an older spe wrote it: its files and a marker that names no kind."""
    _write(folder, files)
    (folder / MARKER).write_text(json.dumps({"written_by": "spe", "entries": sorted(_staging._tree(folder))}))


MODEL_FILES = {"spe.json": "{}", "model.skops": "x"}


def test_the_marker_records_the_kind_and_another_kind_is_refused(tmp_path):
    with staged(tmp_path / "model", kind="model") as folder:
        _write(folder, MODEL_FILES)
    assert _kind(tmp_path / "model") == "model"
    with pytest.raises(FileExistsError) as refused:
        with staged(tmp_path / "model", kind="predict", advice=lambda inside: f"inside={inside}"):
            pytest.fail("the work began before the refusal")
    message = str(refused.value)
    assert message == (
        f"{tmp_path / 'model'} is a model folder; spe will not replace it with the output of spe predict. "
        "inside=False"
    )
    assert _read(tmp_path / "model").keys() == {MARKER, *MODEL_FILES}
    with staged(tmp_path / "model", kind="model") as folder:  # the same kind: replaced as before
        _write(folder, {**MODEL_FILES, "spe.json": "new"})
    assert _read(tmp_path / "model")["spe.json"] == "new"
    for kind in ("evaluate", "tune", "demo"):
        with staged(tmp_path / kind, kind=kind) as folder:
            _write(folder, {"report.txt": kind})
        with pytest.raises(FileExistsError, match=f"is the output of spe {kind}"):
            with staged(tmp_path / kind, kind="predict"):
                pass
        assert _read(tmp_path / kind)["report.txt"] == kind


def test_an_older_model_folder_is_known_by_its_files(tmp_path):
    _old_marker(tmp_path / "marked", MODEL_FILES)
    _write(tmp_path / "unmarked", MODEL_FILES)  # format 1 and the first format 2 had no marker
    for name in ("marked", "unmarked"):
        with pytest.raises(FileExistsError, match=rf"{name} is a model folder; spe will not replace it"):
            with staged(tmp_path / name, kind="evaluate"):
                pass
        assert _read(tmp_path / name).keys() >= MODEL_FILES.keys()
    with staged(tmp_path / "marked", kind="model") as folder:
        _write(folder, MODEL_FILES)
    assert _kind(tmp_path / "marked") == "model"


def test_a_folder_holding_a_model_is_not_replaced_by_output_without_one(tmp_path):
    model = {f"model/{name}": text for name, text in MODEL_FILES.items()}
    _old_marker(tmp_path / "tuned", {"best.json": "{}", **model})  # an older spe tune --out
    _old_marker(tmp_path / "odd", {"report.txt": "x", **{f"sub/m/{n}": t for n, t in MODEL_FILES.items()}})
    for name in ("tuned", "odd"):
        for kind in ("predict", "evaluate", "model", "demo"):
            with pytest.raises(FileExistsError, match=rf"{name} is .*spe will not replace it"):
                with staged(tmp_path / name, kind=kind):
                    pass
            assert (tmp_path / name / "model" if name == "tuned" else tmp_path / name / "sub/m").is_dir()
    with staged(tmp_path / "tuned", kind="tune") as folder:  # what wrote it replaces it, as before
        _write(folder, {"best.json": "new"})
    _old_marker(tmp_path / "report", {"report.txt": "x"})  # no model inside: any output, as before
    with staged(tmp_path / "report", kind="predict") as folder:
        _write(folder, {"predictions.csv": "x"})
    assert _kind(tmp_path / "report") == "predict"


def test_nothing_is_written_inside_a_model_folder(tmp_path):
    with staged(tmp_path / "model", kind="model") as folder:
        _write(folder, MODEL_FILES)
    with pytest.raises(FileExistsError, match=r"out is inside the model folder .*model; spe writes nothing"):
        with staged(tmp_path / "model" / "out", kind="predict"):
            pass
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == sorted([MARKER, *MODEL_FILES])


def test_the_advice_says_where_a_new_folder_may_go(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    _write(tmp_path / "mine", {"photo.jpg": "x"})
    for name, inside in [("notes.txt", False), ("mine", True)]:
        with pytest.raises(FileExistsError, match=rf"inside={inside}$"):
            with staged(tmp_path / name, kind="predict", advice=lambda inside: f"inside={inside}"):
                pass


# -- errors that name the folder the user gave (issue 22, item 9) -------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_names_the_folder_being_written(tmp_path):
    with pytest.raises(OSError, match=rf"No space left on device while writing {tmp_path / 'out'}; nothing"):
        with staged(tmp_path / "out"):
            with open("/dev/full", "w") as full:  # the kernel's own ENOSPC, from write or close
                full.write("x" * 100_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


_READ_ONLY = """
import ctypes, os, sys
from pathlib import Path
if os.geteuid() == 0 and "DROPPED" not in os.environ:
    # Root writes anywhere: drop that power, as an ordinary user has none;
    # after exec, root keeps only the capabilities left in the bounding set.
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "DROPPED": "1"})
folder = Path(sys.argv[1])
try:
    (folder / "probe").write_text("x")
except OSError:
    pass
else:
    print("writable")
    sys.exit(0)
{body}
"""


def run_read_only(folder, body):
    """Run ``body`` in a process that cannot write ``folder`` (made read-only); its result, or None.

    Root ignores file permissions, so the process drops that capability
    first; None where it cannot (no privilege to drop it).
    """
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    script = folder.with_name("read_only.py")
    script.write_text(_READ_ONLY.replace("{body}", textwrap.dedent(body)))
    env = {**os.environ, "PYTHONPATH": str(Path(_staging.__file__).parents[1])}
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(folder)], capture_output=True, text=True, env=env, timeout=300
        )
    finally:
        folder.chmod(0o755)
    return None if done.stdout.strip() == "writable" else done


def test_a_read_only_folder_is_named_not_the_lock_file(tmp_path):
    done = run_read_only(
        tmp_path / "ro",
        """
        from spe.persistence._staging import staged
        try:
            with staged(folder / "out"):
                pass
        except PermissionError as exc:
            print(exc)
        """,
    )
    if done is None:
        pytest.skip("cannot make a folder read-only for this process")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "ro" / "out"
    assert done.stdout.strip() == f"[Errno 13] cannot write {out}: Permission denied (in {out.parent})"
    assert "spe-lock" not in done.stdout
