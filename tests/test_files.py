"""Atomic writes, write checks and the outputs lock."""
import errno
import os
import stat
import subprocess
import sys
import time

import pytest

from valuechain import files as iorw
from valuechain.exceptions import OutputError, RunLockedError


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_respects_the_umask(tmp_path, mask, expected):
    old = os.umask(mask)
    try:
        iorw.atomic_write_text(tmp_path / "index.html", "<p>x</p>")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "index.html") == expected
    assert (tmp_path / "index.html").read_text() == "<p>x</p>"


def test_a_full_disk_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.csv"
    target.write_text("previous good output\n")

    real_fdopen = os.fdopen

    class FullDisk:  # a file whose writes fail as on a full disk
        def __init__(self, fd, *args, **kwargs):
            self.handle = real_fdopen(fd, *args, **kwargs)

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(iorw.os, "fdopen", FullDisk)
    with pytest.raises(OutputError) as info:
        iorw.atomic_write_text(target, "new")
    monkeypatch.undo()
    assert "the disk is full" in str(info.value) and str(target) in str(info.value)
    assert "\n" not in str(info.value)
    assert target.read_text() == "previous good output\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]  # no temporary file left behind


def test_check_writable_refuses_a_path_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"file/out: cannot write .*part of the path is a file"):
        iorw.check_writable(tmp_path / "file" / "out")


def test_disk_full_follows_the_chain_of_causes():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert iorw.disk_full(outer)
    assert not iorw.disk_full(OSError(errno.EACCES, "Permission denied"))


_HOLD = """
import sys, time
from pathlib import Path
from valuechain.files import OutputsLock
with OutputsLock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_lock_refuses_another_process_and_names_it(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=rf"another valuechain run \(pid {proc.pid}\) is writing here"):
            with iorw.OutputsLock(tmp_path):
                pass
    finally:
        proc.kill()
        proc.wait()
    with iorw.OutputsLock(tmp_path):  # released by the kernel when the holder died, even by SIGKILL
        pass


def test_a_lock_file_naming_a_dead_pid_blocks_nothing(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(f"pid {dead.pid}\n")
    with iorw.OutputsLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"pid {os.getpid()}\n"


def test_child_processes_do_not_inherit_the_lock(tmp_path):
    with iorw.OutputsLock(tmp_path):
        child = os.fork()
        if child == 0:  # the child outlives its parent's hold on the lock
            time.sleep(5)
            os._exit(0)
    try:
        code = ("import sys\nfrom pathlib import Path\nfrom valuechain.files import OutputsLock\n"
                "with OutputsLock(Path(sys.argv[1])): print('taken')")
        proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert proc.stdout.strip() == "taken", proc.stderr
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)


def test_the_lock_refuses_a_second_holder_in_the_same_process(tmp_path):
    with iorw.OutputsLock(tmp_path):
        with pytest.raises(RunLockedError, match="another valuechain run"):
            with iorw.OutputsLock(tmp_path):
                pass
    with iorw.OutputsLock(tmp_path):
        pass
