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
