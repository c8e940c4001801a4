"""Progress of a batch, on stderr: a live bar on a terminal, one line per finished item elsewhere.

A log file or a CI console keeps every character a bar redraws, so where stderr is not a
terminal each finished item gets one plain line instead.
"""
from __future__ import annotations

import os
import sys


class Progress:
    """Reports a batch of ``total`` items to ``stream`` (default: stderr); silent if not ``enabled``."""

    def __init__(self, total: int, enabled: bool = True, stream=None, desc: str = "notebooks"):
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.done, self.enabled = total, 0, enabled
        self.bar = None
        if enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="item", file=self.stream, dynamic_ncols=True)

    def running(self, labels) -> None:
        """Show the items now running (on the bar only: a log needs only what finished)."""
        if self.bar is not None:
            self.bar.set_postfix_str(", ".join(labels))

    def finished(self, label: str, status: str, seconds: float) -> None:
        """Count one finished item: ``label`` (scenario/notebook), its status and duration."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled:
            width = len(str(self.total))
            print(f"[{self.done:>{width}}/{self.total}] {label}: {status} ({seconds:.1f} s)", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal a bar can be drawn on (some containers' terminals are 0 columns wide)."""
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    try:
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, OSError, ValueError):  # a terminal that cannot tell its size: the bar takes a default width
        return True
