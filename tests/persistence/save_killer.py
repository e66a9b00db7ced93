"""Kill a process saving a model at random moments, many times (see test_save_load.py).

``python tests/persistence/save_killer.py MODEL_A MODEL_B WORKDIR TRIALS SEED`` loads two
saved models once, then for each trial forks a child that saves one of
them (a new model, or replacing the other) and kills it with SIGKILL at a
random moment of the save, and checks with :func:`spe.persistence.load_model`
that the folder holds the whole old or the whole new model. Forking keeps a
trial cheap: nothing is imported again. Prints one JSON line of counts.
"""

import json
import os
import random
import signal
import struct
import sys
import time
from pathlib import Path

_STAMP = struct.Struct("d")


def _child_save(save, write_end):
    """In the child: stamp the start, save, stamp the end (or -1 on an error), wait to be killed."""
    os.write(write_end, _STAMP.pack(time.monotonic()))
    try:
        save()
        os.write(write_end, _STAMP.pack(time.monotonic()))
    except BaseException:
        os.write(write_end, _STAMP.pack(-1.0))
    time.sleep(600)


def run_one(save, kill_after):
    """Fork a child that runs ``save``; SIGKILL it ``kill_after()`` s after it starts.

    With ``kill_after=None`` the child is killed once the save has finished.

    Returns (seconds from the start to the kill, whether the save had
    finished, the save's duration if it finished).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _child_save(save, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        start = _STAMP.unpack(os.read(read_end, _STAMP.size))[0]
        if kill_after is None:
            rest = os.read(read_end, _STAMP.size)
        else:
            time.sleep(max(0.0, start + kill_after() - time.monotonic()))
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if kill_after is not None:
            rest = os.read(read_end, _STAMP.size)
    finally:
        os.close(read_end)
    end = _STAMP.unpack(rest)[0] if len(rest) == _STAMP.size else None
    if end == -1.0:
        raise RuntimeError("the save raised an error in the child")
    return killed_at - start, end is not None and end <= killed_at, None if end is None else end - start


def main(model_a, model_b, work, trials, seed):
    import numpy as np

    from spe.persistence import load_model, save_model

    models = {"A": load_model(model_a), "B": load_model(model_b)}
    weights = {k: m.named_steps["cnn"].model_.get_weights() for k, m in models.items()}
    checked = {}

    def identify(path):
        """Which model the folder holds, by a full load; the same files are loaded once."""
        files = tuple(
            sorted((e.name, e.inode(), e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(path))
        )
        if files not in checked:
            loaded = load_model(path)
            key = loaded.spe_metadata_["scores"]["model"]
            got = loaded.named_steps["cnn"].model_.get_weights()
            if not all(np.array_equal(x, y) for x, y in zip(got, weights[key], strict=True)):
                raise AssertionError(f"{path}: spe.json says model {key}, the network is another one")
            checked[files] = key
        return checked[files]

    def saver(key, target):
        return lambda: save_model(models[key], target, scores={"model": key})

    def run_case(case, rng, result):
        counts = result[case] = {"trials": 0, "old": 0, "new": 0, "finished_before_kill": 0}
        counts["phase"] = [0] * 12  # kills by tenth of a save's duration (10, 11: after it)
        folder, target, current = Path(work) / case, Path(work) / case / "model", None
        durations = []  # of whole saves, re-measured every 10 trials: a loaded machine varies
        for i in range(-3, trials):
            if i < 0 or i % 10 == 9:  # a whole save, timed
                wanted = "B" if current == "A" else "A"
                probe = folder / f"probe{i}" if case == "new" else target
                durations.append(run_one(saver(wanted, probe), None)[2])
                current = wanted if case == "replace" else None
                if i < 0:
                    continue
            if case == "new":
                target = folder / f"m{i}"
            wanted = "B" if current == "A" else "A"
            expected = float(np.median(durations[-5:]))
            delay = rng.uniform(0, 1.25 * expected)  # over the whole save, and a little after
            try:
                at, finished, _ = run_one(saver(wanted, target), lambda d=delay: d)
                held = identify(target) if target.exists() else None
                if held not in (current, wanted) or (finished and held != wanted):
                    raise AssertionError(f"trial {i}: holds {held}, old {current}, new {wanted}")
            except Exception as exc:  # noqa: BLE001 - reported, then this case stops
                result["errors"].append(f"{case}: {type(exc).__name__}: {exc}")
                return
            counts["trials"] += 1
            counts["new" if held == wanted else "old"] += 1
            counts["finished_before_kill"] += finished
            counts["phase"][min(11, int(at / expected * 10))] += 1
            current = held if case == "replace" else None
            if case == "new" and i % 10 == 0:  # the next save cleans what the killed one left
                save_model(models["A"], target, scores={"model": "A"})
                left = sorted(p.name for p in folder.iterdir() if p.name.startswith(f".m{i}."))
                if left:
                    result["errors"].append(f"new: left after the next save: {left}")
        result["save_seconds"][case] = float(np.median(durations))
        if case == "replace":
            save_model(models["A"], target, scores={"model": "A"})
            left = sorted(p.name for p in folder.iterdir())
            if left != ["model"]:
                result["errors"].append(f"replace: left after the next save: {left}")

    rng = random.Random(seed)
    result = {"errors": [], "save_seconds": {}}
    for case in ("new", "replace"):
        run_case(case, rng, result)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
