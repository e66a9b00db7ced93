"""Run ``spe predict`` on model folders under Python's audit hooks; print what it did that it must not.

Usage: ``python tests/audit_predict.py PICTURES_JSON FOLDER [FOLDER ...]``

Used by tests/test_hostile_models.py. The libraries spe uses are imported
first (their own import-time reads and writes, such as Keras creating
``~/.keras``, are not the model folder's doing); then a hook
(:func:`sys.addaudithook`) watches every ``spe predict`` call and records:

- any file opened for writing, and any file or folder created, renamed or
  removed;
- any file read outside the model folder, the candidate pictures and the
  installed Python and libraries (code, data files such as OpenCV's
  cascades), the time zone database, ``/proc``, ``/sys`` and ``/dev``;
- any network use (blocked: the hook raises);
- any unpickling (``pickle.find_class``, blocked) and any ``marshal`` load
  outside the import system;
- any process started (an audit event where Python raises one, and any
  child process seen in ``/proc`` during or right after the call: joblib's
  workers start without an event);
- the most threads the process ran during the call (``threads``), sampled
  every millisecond from ``/proc/self/status``.

The last line printed is JSON: ``{folder: {"code", "violations",
"threads", "output"}}``.
"""

import contextlib
import io
import json
import os
import sys
import sysconfig
import threading
import time

import keras  # noqa: F401  - imported before the hook: see the module docstring
import numpy  # noqa: F401
import PIL.Image
import sklearn  # noqa: F401
import skops.io  # noqa: F401

import spe.cli
import spe.persistence  # noqa: F401

PIL.Image.init()  # Pillow imports its format plugins lazily, once

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {
    "os.mkdir",
    "os.rename",
    "os.remove",
    "os.rmdir",
    "os.chmod",
    "os.symlink",
    "os.link",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "shutil.move",
    "shutil.copyfile",
}
_PROCESSES = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "subprocess.Popen"}
_NETWORK = {"socket.connect", "socket.getaddrinfo", "socket.sendto", "socket.gethostbyname", "urllib.Request"}


def _installed():
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(spe.__file__)}
    roots.update(p for p in sysconfig.get_paths().values() if p)
    return tuple(sorted(os.path.realpath(r) + os.sep for r in roots)) + (
        "/proc/",
        "/sys/",
        "/dev/",
        "/usr/share/zoneinfo/",
    )


class Audit:
    def __init__(self):
        self.allowed = ()
        self.violations = None  # None: not watching
        self.installed = _installed()

    def readable(self, path):
        if isinstance(path, int) or path in sys.path:
            return True  # an already open descriptor; the import system probing its path
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        real = os.path.realpath(path)
        return real.startswith(self.installed) or any(
            real == allowed or real.startswith(allowed + os.sep) for allowed in self.allowed
        )

    def __call__(self, event, args):
        if self.violations is None:
            return
        if event == "open":
            path, mode, flags = args
            writing = (mode is not None and any(c in mode for c in "wax+")) or (flags or 0) & _WRITE_FLAGS
            if writing:
                self.violations.append(f"wrote {path}")
            elif not self.readable(path):
                self.violations.append(f"read {path}")
        elif event in _CHANGES:
            self.violations.append(f"{event} {args[0]!r}")
        elif event in _PROCESSES:
            self.violations.append(f"{event} {args!r:.200}")
        elif event in _NETWORK:
            self.violations.append(f"{event} {args!r:.200}")
            raise RuntimeError("network blocked by the audit")
        elif event == "pickle.find_class":
            self.violations.append(f"unpickled {args[0]}.{args[1]}")
            raise RuntimeError("unpickling blocked by the audit")
        elif event in ("marshal.loads", "marshal.load"):
            frame = sys._getframe(1)
            while frame is not None and not frame.f_code.co_filename.startswith("<frozen importlib"):
                frame = frame.f_back
            if frame is None:
                self.violations.append(f"{event} outside the import system")


def _threads():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def _children():
    found = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as children:
                found.update(children.read().split())
        except OSError:
            pass  # a thread that ended meanwhile
    return found


class Sampler(threading.Thread):
    """Watches the process's threads and children while a call runs (itself one thread throughout)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.children = 0, set()

    def run(self):
        while True:
            self.peak = max(self.peak, _threads())
            self.children |= _children()
            time.sleep(0.001)


def main(pictures_json, *folders):
    pictures = json.loads(pictures_json)
    audit = Audit()
    sampler = Sampler()
    sampler.start()
    sys.addaudithook(audit)
    report = {}
    for folder in folders:
        audit.allowed = (os.path.realpath(folder), *(os.path.realpath(p) for p in pictures))
        audit.violations = []
        sampler.peak, sampler.children = _threads(), _children()
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = spe.cli.main(["predict", folder, *pictures])
        processes = sampler.children | _children()
        audit.violations.extend(f"started process {pid}" for pid in sorted(processes))
        report[folder] = {
            "code": code,
            "violations": audit.violations,
            "threads": sampler.peak,
            "output": out.getvalue()[-2000:],
        }
        audit.violations = None
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
