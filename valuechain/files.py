"""Files: atomic writes under the outputs folder, write checks, the lock, and reading YAML.

Every file is written to a temporary file and renamed, so a reader never sees half of one, and
gets the mode an ordinary ``open`` would give (0644 under the usual umask 022), so the folder can
be zipped or copied to a file share as it is. An operating-system error on the way (a read-only
file system, a folder the user cannot write, a full disk) becomes one :class:`OutputError` line
naming the path and the fix.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import struct
import tempfile
import threading
from pathlib import Path

import yaml

from valuechain.exceptions import OutputError, RunLockedError

_FIXES = {
    errno.ENOSPC: "the disk is full; free some space, then run again",
    errno.EDQUOT: "the disk quota is exhausted; free some space, then run again",
    errno.EROFS: "it is on a read-only file system; choose a writable folder with --outputs",
    errno.EACCES: "you have no permission to write there; fix the folder's permissions or choose another with --outputs",
    errno.EPERM: "you have no permission to write there; fix the folder's permissions or choose another with --outputs",
    errno.ENOTDIR: "part of the path is a file, not a folder; move that file or choose another folder with --outputs",
}


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says the disk is full."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def output_error(path: Path, exc: OSError) -> OutputError:
    """One line for an operating-system error met while writing ``path``."""
    fix = _FIXES.get(exc.errno, "check that the folder exists and can be written")
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{path}: cannot write ({reason}): {fix}")


def umask() -> int:
    """The process's umask (read without changing it where the system allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader never sees half a file.

    The file gets mode ``0666 & ~umask``, as ``open`` would give it (``mkstemp`` alone gives 0600).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise output_error(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(folder: Path) -> None:
    """Refuse, with one line, a folder that cannot be created or written (checked with a probe file)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise output_error(folder, exc) from None


# ----------------------------------------------------------------------------- the lock

_HELD: set[str] = set()  # lock files this process holds (POSIX locks never conflict inside one process)
_HELD_GUARD = threading.Lock()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has ended; only its parent has not collected it yet
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _holder(fd: int) -> int | None:
    """Pid of the process holding a POSIX write lock on ``fd`` (F_GETLK), or None."""
    request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
        kind, _, _, _, pid = struct.unpack("hhqqi", answer)
    except (OSError, struct.error):
        return None
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def open_lock_file(path: Path):
    """The lock file at ``path``, opened for reading and writing (created if missing) without following a link.

    ``.lock`` is truncated and written with this process's pid, so it must be the folder's own file:
    a symbolic link (whose target would be truncated), a file with other hard links, or anything but an
    ordinary file (a FIFO would block) is refused with one line.
    """
    refuse = (f"{path}: is not an ordinary file of its own (a symbolic link, a hard link or a device), "
              f"and valuechain writes its pid into the lock file; remove it (it holds nothing else), then run again")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(refuse) from None
        raise output_error(path, exc) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise OutputError(refuse)
    return os.fdopen(fd, "r+")


class OutputsLock:
    """An exclusive lock on the outputs folder, so two runs (or a run and a publish) never interleave their writes.

    The lock is a POSIX record lock (``lockf``) held by this process alone: child processes (the
    workers, the kernels) do not inherit it, and the kernel releases it when this process ends,
    however it ends, even by SIGKILL. The pid written into ``.lock`` is informative only; a file
    left by an ended process names a pid that is no longer alive and does not block anything.
    """

    def __init__(self, outputs: Path):
        self.path = Path(outputs) / ".lock"
        self.handle = None

    def __enter__(self):
        key = str(self.path.resolve())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(self.path.parent, exc) from None
        handle = open_lock_file(self.path)
        with _HELD_GUARD:
            if key in _HELD:
                handle.close()
                raise RunLockedError(f"{self.path.parent}: another valuechain run (in this process, pid {os.getpid()}) "
                                     f"is writing here; wait for it to finish, then run again")
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    handle.close()
                    raise output_error(self.path, exc) from None
                pid = _holder(handle.fileno())
                handle.close()  # closing any descriptor of the file would drop a lock this process held
                holder = f"pid {pid}" if pid and process_alive(pid) else "another process"
                raise RunLockedError(f"{self.path.parent}: another valuechain run ({holder}) is writing here; "
                                     f"wait for it to finish, then run again") from None
            _HELD.add(key)
        self.handle, self._key = handle, key
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}\n")
            handle.flush()
        except OSError:
            pass  # the pid is informative only; a full disk must not keep the lock from working
        return self

    def __exit__(self, *exc):
        with _HELD_GUARD:
            try:
                fcntl.lockf(self.handle, fcntl.LOCK_UN)
            finally:
                self.handle.close()
                _HELD.discard(self._key)


# libyaml's safe loader when it is installed (about ten times faster than the pure Python one),
# with the same safe constructors either way
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Bounds on a YAML document, far above anything a scenario or the dataset's YAML needs (the shipped
# scenarios are about 20 kB, a dozen levels deep, a few thousand values), so that a hostile file is
# refused in milliseconds instead of hanging or exhausting memory.
YAML_MAX_BYTES = 1_000_000  # size of the file
YAML_MAX_DEPTH = 40  # lists and mappings nested inside each other
YAML_MAX_VALUES = 200_000  # values the document holds once its aliases are expanded
YAML_MAX_DIGITS = 100  # digits of an integer
_INTEGER = re.compile(r"^[-+]?(0[xob])?[0-9a-fA-F_]+$")


class YamlInputError(yaml.YAMLError):
    """Raised when a YAML file or text cannot be read within the bounds above, is not UTF-8 text, is
    not a regular file, or repeats a key. ``problem`` is one line saying what and how to fix it;
    ``line`` is the 1-based line it was found on, when known."""

    def __init__(self, problem: str, line: int | None = None):
        super().__init__(problem)
        self.problem, self.line = problem, line

    def __str__(self):
        return f"{self.problem} (line {self.line})" if self.line else self.problem


def read_bytes(path: Path, limit: int = YAML_MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused with a :class:`YamlInputError` if it is a device,
    pipe or folder, or larger than ``limit`` bytes.

    The file is opened without blocking (a named pipe cannot hang the read) and read no further than
    the limit (``/dev/zero`` or a growing file cannot exhaust memory). A missing or unreadable file
    raises the :class:`OSError`.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise YamlInputError("is not a regular file (a device, a pipe or a folder); point to a YAML file")
        if info.st_size > limit:
            raise YamlInputError(f"is {info.st_size:,} bytes, more than the {limit:,} allowed; a scenario is a few kB")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise YamlInputError(f"is more than the {limit:,} bytes allowed; a scenario is a few kB")
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: Path, limit: int = YAML_MAX_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` (read with :func:`read_bytes`); text that is not
    UTF-8 is a :class:`YamlInputError` naming the line."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlInputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8", line) from None


def read_yaml(path: Path):
    """The content of the YAML file ``path``, read with :func:`read_text` and :func:`safe_load`."""
    return safe_load(read_text(path))


def safe_load(text: str):
    """The content of a YAML document, built only from plain types (as :func:`yaml.safe_load`), within bounds.

    Refused with a :class:`YamlInputError` (one line, with the line number): a text over
    :data:`YAML_MAX_BYTES`, nesting deeper than :data:`YAML_MAX_DEPTH`, aliases that expand to more
    than :data:`YAML_MAX_VALUES` values (an "alias bomb") or refer to themselves, an integer longer
    than :data:`YAML_MAX_DIGITS` digits, a key repeated in one mapping (YAML would keep the last one
    silently), and a value the safe constructors cannot build (a date such as 2025-02-30). Bad syntax
    is yaml's own :class:`yaml.YAMLError`.
    """
    if len(text) > YAML_MAX_BYTES:
        raise YamlInputError(f"is {len(text):,} characters, more than the {YAML_MAX_BYTES:,} allowed")
    _check_events(text)
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise YamlInputError(f"holds a value YAML cannot build ({str(exc).splitlines()[0][:80]}); quote it or fix it") from None


class _Open:
    """A list or mapping being read: the values it holds so far, and for a mapping the keys seen."""

    __slots__ = ("anchor", "values", "keys", "at_key")

    def __init__(self, anchor, mapping: bool):
        self.anchor, self.values = anchor, 0
        self.keys, self.at_key = (set(), True) if mapping else (None, False)


def _check_events(text: str) -> None:
    """Walk the document's parse events once (no recursion, nothing built) and enforce the bounds."""
    sizes: dict[str, int] = {}  # anchor -> values it stands for, expanded
    stack: list[_Open] = []
    loader = SAFE_LOADER(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= YAML_MAX_DEPTH:
                    raise YamlInputError(f"nests lists or mappings more than {YAML_MAX_DEPTH} deep; flatten it", line)
                if stack and stack[-1].at_key:
                    stack[-1].keys.add(object())  # a list or mapping as a key: never a repeat
                stack.append(_Open(event.anchor, isinstance(event, yaml.MappingStartEvent)))
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = stack.pop()
                size = done.values + 1
                if done.anchor is not None:
                    sizes[done.anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                value = event.value
                if not event.style and len(value) > YAML_MAX_DIGITS and _INTEGER.match(value):
                    raise YamlInputError(f"holds an integer of {len(value):,} digits, more than the {YAML_MAX_DIGITS} "
                                         f"allowed; write it as a float (1.5e300) or quote it as text", line)
                if stack and stack[-1].at_key:
                    if value in stack[-1].keys and value != "<<":
                        raise YamlInputError(f"repeats the key '{value[:60]}' in one mapping; keep only one of them", line)
                    stack[-1].keys.add(value)
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if any(item.anchor == event.anchor for item in stack):
                    raise YamlInputError(f"the alias *{event.anchor[:40]} refers to a value that contains it; "
                                         f"write the value out", line)
                size = sizes.get(event.anchor, 1)
                if stack and stack[-1].at_key:
                    stack[-1].keys.add(object())
            else:
                continue
            if stack:
                stack[-1].values += size
            if size > YAML_MAX_VALUES or (stack and stack[-1].values > YAML_MAX_VALUES):
                raise YamlInputError(f"holds more than {YAML_MAX_VALUES:,} values once its aliases are expanded; "
                                     f"write fewer values, or repeat fewer aliases", line)
            if stack and stack[-1].keys is not None:
                stack[-1].at_key = not stack[-1].at_key
    finally:
        loader.dispose()
