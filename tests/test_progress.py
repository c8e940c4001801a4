"""Progress on stderr: a bar on a terminal, one plain line per finished item anywhere else."""
import fcntl
import io
import os
import pty
import struct
import termios

from valuechain.batch.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _report(stream, enabled=True):
    progress = Progress(3, enabled=enabled, stream=stream)
    progress.running(["base/01_profit_capture", "bear/01_profit_capture"])
    for label, status, seconds in (("bear/01_profit_capture", "ok", 4.25), ("base/01_profit_capture", "failed", 12.0),
                                   ("base/02_demand_gap", "ok", 0.04)):
        progress.finished(label, status, seconds)
    progress.close()
    return stream.getvalue()


def test_a_log_gets_one_line_per_finished_item():
    assert _report(io.StringIO()).splitlines() == [
        "[1/3] bear/01_profit_capture: ok (4.2 s)",
        "[2/3] base/01_profit_capture: failed (12.0 s)",
        "[3/3] base/02_demand_gap: ok (0.0 s)",
    ]


def test_a_terminal_gets_the_bar_and_no_item_lines():
    text = _report(_Terminal())
    assert "\r" in text and "3/3" in text and "notebooks" in text
    assert "[1/3]" not in text and ": ok (" not in text


def test_disabled_progress_writes_nothing():
    assert _report(io.StringIO(), enabled=False) == ""
    assert _report(_Terminal(), enabled=False) == ""


def test_a_real_terminal_gets_the_bar_unless_it_has_no_width():
    leader, follower = pty.openpty()
    try:
        with os.fdopen(os.dup(follower), "w") as stream:
            fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 0, 0, 0))
            assert Progress(1, stream=stream).bar is None  # a terminal 0 columns wide: one line per item
            fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
            progress = Progress(1, stream=stream)
            assert progress.bar is not None
            progress.close()
    finally:
        os.close(follower)
        os.close(leader)
