"""Everything the engine shows a person goes through one :class:`Reporter` (rich), so tests can capture
it and ``--json`` can send it to stderr. It is thread-safe: stacks deploy in parallel threads.

While stacks are being worked on, a live table (on a terminal only) shows each stack's status, elapsed
time and resource counts; stack events are printed above it as they arrive, with the elapsed time.
Every event line starts with its stack's name, padded to the longest name of the run
(:meth:`Reporter.align_labels`), so the lines of several stacks in flight read as columns.

Without a terminal (a CI log, a pipe, a file) :func:`make_console` wraps and cuts nothing: rich would otherwise
lay everything out for 80 columns (or ``COLUMNS``), splitting names, ARNs and values mid-word and ending table
cells with "…". Colours follow rich's rules: none without a terminal unless ``FORCE_COLOR`` is set, none with
``NO_COLOR`` (https://no-color.org) or ``TERM=dumb``.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import IO, Any, Iterator

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

_EVENT_STYLE = {
    "COMPLETE": "green",
    "IN_PROGRESS": "cyan",
    "FAILED": "bold red",
}


#: The width a console without a terminal lays out for: wide enough that no name, ARN or value is wrapped
#: or cut (a table is only as wide as its content; nothing pads lines to this width).
UNWRAPPED_WIDTH = 100_000


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """A rich Console for stdout (or stderr, or ``file``): on a terminal, rich's own; otherwise one that
    never wraps or truncates (see the module's docstring)."""
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        terminal = False
    if terminal:
        return Console(file=file, stderr=stderr, highlight=False)
    return Console(file=file, stderr=stderr, highlight=False, width=UNWRAPPED_WIDTH, soft_wrap=True)


def notes_once(notes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Stack label -> its notes, each note shown once: a note several stacks share stays under the first of
    them, naming the others (``... (also churn-dev-endpoint, churn-dev-alarms)``), and leaves the rest."""
    owners: dict[str, list[str]] = {}
    for label, texts in notes.items():
        for text in dict.fromkeys(texts):
            owners.setdefault(text, []).append(label)
    shown: dict[str, list[str]] = {label: [] for label in notes}
    for text, labels in owners.items():
        shown[labels[0]].append(text + (f" (also {', '.join(labels[1:])})" if labels[1:] else ""))
    return shown


def elapsed_text(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def status_style(status: str) -> str:
    if "ROLLBACK" in status or status.endswith("FAILED"):
        return "bold red"
    for suffix, style in _EVENT_STYLE.items():
        if status.endswith(suffix):
            return style
    return ""


class Reporter:
    def __init__(self, console: Console | None = None, *, live: bool | None = None) -> None:
        self.console = console or make_console()
        self._live_enabled = self.console.is_terminal if live is None else live
        self._lock = threading.RLock()
        self._start = time.monotonic()
        self._rows: dict[str, dict[str, Any]] = {}
        self._live: Live | None = None
        self._label_width = 0

    def align_labels(self, labels: list[str]) -> None:
        """Pad stack names in event lines to the longest of ``labels`` (the stacks of this run)."""
        self._label_width = max((len(label) for label in labels), default=0)

    # plain output -------------------------------------------------------------------------------
    def print(self, *renderables: Any, **kwargs: Any) -> None:
        with self._lock:
            self.console.print(*renderables, **kwargs)

    def line(self, text: str, style: str | None = None) -> None:
        """Print text that is not rich markup (AWS messages may contain [brackets])."""
        self.print(escape(text), style=style)

    def info(self, text: str) -> None:
        self.line(text)

    def warn(self, text: str) -> None:
        self.print(f"[bold yellow]![/] {escape(text)}")

    def error(self, text: str) -> None:
        self.print(f"[bold red]✗[/] {escape(text)}")

    def success(self, text: str) -> None:
        self.print(f"[bold green]✓[/] {escape(text)}")

    # progress ------------------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def event(self, stack_name: str, event: dict[str, Any]) -> None:
        status = event.get("ResourceStatus", "")
        reason = event.get("ResourceStatusReason")
        text = (
            f"[dim]{elapsed_text(self.elapsed)}[/] {escape(stack_name.ljust(self._label_width))}  "
            f"{escape(event.get('LogicalResourceId', ''))}"
            f"  [dim]{escape(event.get('ResourceType', ''))}[/]  [{status_style(status) or 'default'}]{escape(status)}[/]"
        )
        if reason and (status.endswith("FAILED") or "ROLLBACK" in status or event.get("ResourceType", "").endswith("::Stack")):
            text += f"  [dim]{escape(reason)}[/]"
        self.print(text)

    def stack_progress(self, stack_name: str, status: str, *, done: int | None = None, total: int | None = None) -> None:
        # The live table re-renders itself 4 times a second from self._rows (no explicit refresh here: that
        # would take rich's lock while holding ours).
        with self._lock:
            row = dict(self._rows.get(stack_name) or {"start": time.monotonic()})
            row.update(status=status, done=done, total=total)
            self._rows[stack_name] = row

    def stack_finished(self, stack_name: str) -> None:
        with self._lock:
            self._rows.pop(stack_name, None)

    def _table(self) -> Table:
        # Called from rich's refresh thread: read a snapshot, never take self._lock.
        table = Table(box=None, show_header=False, padding=(0, 1))
        for name, row in list(self._rows.items()):
            counts = ""
            if row.get("done") is not None:
                counts = f"{row['done']}/{row['total']} resources" if row.get("total") else f"{row['done']} resources"
            status = row.get("status", "")
            table.add_row(
                "[cyan]⠿[/]",
                escape(name),
                f"[{status_style(status) or 'default'}]{escape(status)}[/]",
                elapsed_text(time.monotonic() - row["start"]),
                counts,
            )
        return table

    @contextmanager
    def progress(self) -> Iterator[None]:
        """A live status table while stacks are being worked on (terminals only)."""
        if not self._live_enabled:
            yield
            return
        with self._lock:
            self._live = Live(console=self.console, get_renderable=self._table, refresh_per_second=4, transient=True)
            self._live.start()
        try:
            yield
        finally:
            with self._lock:
                live, self._live = self._live, None
                self._rows.clear()
            if live is not None:
                live.stop()
