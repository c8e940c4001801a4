"""The run's log file: where the libraries' lines go instead of the terminal.

The terminal shows the tool's own lines: the progress, the summary, one line per failure. What the
libraries say while a batch or a sweep works goes to a log file beside its outputs, with the time,
the process and where it came from: Python warnings (numpy's floating-point warnings in a sweep,
a library's deprecation notes), the log records of papermill, nbclient, jupyter_client and Dask
("Kernel died while waiting for execute reply."), and whatever a worker or its kernel writes to
its standard streams. A batch logs to ``<outputs>/run.log``, a sweep to ``sweep.log`` beside its
table. Each run starts its log afresh; a batch with nothing to log (every item cached, no warning)
leaves the previous one as it was, so a rerun that changed nothing rewrites nothing.
"""
from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
import warnings
from pathlib import Path

from valuechain.exceptions import OutputError
from valuechain.files import output_error

NAME = "run.log"  # the batch's log, in the outputs folder
FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"


def open_log(path: Path, fresh: bool = False) -> int:
    """A descriptor of ``path`` open for appending (emptied first if ``fresh``).

    A symbolic link in its place is removed, never followed, and anything but a regular file (a
    folder, a FIFO, a device) is refused with one line: the log is written where the tool put it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()  # the link, not what it points to
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise output_error(path, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"{path}: is not a regular file, so the log cannot be written there; remove it and run again")
    if fresh:
        os.ftruncate(fd, 0)
    return fd


class Log:
    """The log file as a stream: opened at the first line written (or :meth:`open`), so a run with
    nothing to log leaves the file as it was (a rerun that changed nothing rewrites nothing)."""

    def __init__(self, path: Path, fresh: bool = False):
        self.path, self.fresh, self._stream = Path(path), fresh, None
        _check(self.path)

    def open(self):
        """The open stream (emptied first if ``fresh``): call it before starting processes that append to the file."""
        if self._stream is None:
            self._stream = os.fdopen(open_log(self.path, self.fresh), "a", encoding="utf-8", errors="replace",
                                     buffering=1)
        return self._stream

    def write(self, text: str) -> int:
        return self.open().write(text)

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def _check(path: Path) -> None:
    """Refuse now, with one line, a log path held by something other than a file or a link (a folder, a FIFO)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return  # not there yet: created at the first line
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OutputError(f"{path}: is not a regular file, so the log cannot be written there; remove it and run again")


class _Handler(logging.StreamHandler):
    def handleError(self, record):  # a full disk loses a log line, never the run, and prints nothing
        pass


def _stderr_handlers(root: logging.Logger) -> list[logging.StreamHandler]:
    """Handlers of the libraries' own loggers that write to the terminal's stderr (Dask and tornado install some)."""
    loggers = [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)]
    return [h for logger in loggers if logger is not root for h in logger.handlers
            if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.__stderr__)]


@contextlib.contextmanager
def to_log(path: Path, fresh: bool = False, lazy: bool = False):
    """Within the block, this process's warnings and log records go to the log file ``path``, not stderr.

    ``fresh`` empties the file first; ``lazy`` opens it only when a first line is written (or the
    yielded :class:`Log` is opened), so a block with nothing to say leaves it untouched. The logging
    set-up and the display of warnings are restored afterwards.
    """
    stream = Log(path, fresh)
    if not lazy:
        stream.open()
    handler = _Handler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    saved_handlers, saved_level, saved_show = root.handlers[:], root.level, warnings.showwarning
    moved = [(h, h.stream) for h in _stderr_handlers(root)]

    def show(message, category, filename, lineno, file=None, line=None):
        logging.getLogger("py.warnings").warning(
            warnings.formatwarning(message, category, filename, lineno, line).rstrip())

    root.handlers, warnings.showwarning = [handler], show
    root.setLevel(logging.INFO)
    for h, _ in moved:
        h.setStream(stream)
    try:
        yield stream
    finally:
        for h, old in moved:
            h.setStream(old)
        root.handlers, warnings.showwarning = saved_handlers, saved_show
        root.setLevel(saved_level)
        stream.close()


def redirect_process(path: Path) -> None:
    """Send this process's standard output and error, and those of every process it starts, to the log
    ``path`` (a worker's: it has nothing of its own to show on the terminal)."""
    fd = open_log(path)
    for target in (1, 2):
        os.dup2(fd, target)
    os.close(fd)
    # Python's own streams too, whatever they were bound to (a test's capture, a wrapper of the parent's)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
