"""Progress of a site build: a tqdm bar on a terminal, plain lines in CI logs, nothing when asked.

A bar needs a terminal that redraws a line; in CI (``CI=true``) or a pipe it would write a mess of
carriage returns, so there each image with work gets one plain line instead.
"""

from __future__ import annotations

import os
import sys

from .. import heavy


def wants_bar(stream=None) -> bool:
    stream = stream or sys.stderr
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    return not ci and hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """Reports one step per image or collection; ``mode`` is "bar", "lines" or "quiet"."""

    def __init__(self, total: int, mode: str | None = None, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.mode = mode or ("bar" if wants_bar(self.stream) else "lines")
        self.total = total
        self.done = 0
        self.bar = None
        if self.mode == "bar" and total:
            self.bar = heavy.tqdm()(total=total, unit="image", file=self.stream, leave=False, dynamic_ncols=True)

    def step(self, name: str, message: str | None) -> None:
        """One item finished; ``message`` is None when it had nothing to do."""
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(name[-40:], refresh=False)
            self.bar.update(1)
            if message:
                self.bar.write(f"{name}: {message}", file=self.stream)
        elif self.mode == "lines" and message:
            print(f"[{self.done}/{self.total}] {name}: {message}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
