"""Tests that must fail, not hang, when spe blocks on a named pipe."""

import os
import threading

import pytest

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")


def make_fifo(path):
    """A named pipe at ``path`` (with no writer: opening it for reading blocks)."""
    os.mkfifo(path)
    return path


def finishes(call, *, fifos=(), seconds=10):
    """``call()``'s value, or its exception raised here; a failure if still running after ``seconds``.

    ``call`` runs in a thread, so a call blocked on a named pipe fails the
    test instead of hanging the suite; each of ``fifos`` is then opened for
    writing and closed, which gives a blocked reader its end of file and
    lets the thread end.
    """
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader left
                pass
        thread.join(seconds)
        pytest.fail(f"still blocked after {seconds} s: a named pipe was read as a file")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
