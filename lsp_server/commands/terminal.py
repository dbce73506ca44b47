"""What a command shows on the terminal: messages on stderr, and one progress display shared by all.

Progress (rich) appears only when stderr is a terminal; piped or redirected, a command prints its
result and, on stderr, only what went wrong. One `rich.progress.Progress` serves both the command's
own bars (files refactored) and the client face's work-done progress (the engine's startup), since
rich allows a single live display at a time.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class Terminal:
    def __init__(self, stderr: IO[str] | None = None, interactive: bool | None = None) -> None:
        self.stderr = stderr or sys.stderr
        self.interactive = self.stderr.isatty() if interactive is None else interactive
        self.console = Console(file=self.stderr, force_terminal=self.interactive, highlight=False)
        self._progress: Progress | None = None

    def say(self, text: str) -> None:
        """A line on stderr (above any progress bar)."""
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stderr, flush=True)

    def task(self, description: str, total: float | None = None) -> TaskID | None:
        """A bar (or a spinner, without `total`) on a terminal; None when piped."""
        if not self.interactive:
            return None
        if self._progress is None:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                      console=self.console, transient=True)
            self._progress.start()
        return self._progress.add_task(description, total=total)

    def update(self, task: TaskID | None, **changes: Any) -> None:
        if task is not None and self._progress is not None:
            self._progress.update(task, **changes)

    def done(self, task: TaskID | None) -> None:
        if task is None or self._progress is None:
            return
        self._progress.remove_task(task)
        if not self._progress.tasks:
            self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
