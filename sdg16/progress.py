"""One progress bar for the long commands (imports, backups, the demo round): rich is imported when a bar is drawn,
not when a command module is, so that `--help` starts at once (benchmarks/cli_startup.py)."""

from collections.abc import Callable


def with_progress(run: Callable[[Callable[[int, int], None]], object], label: str):
    """`run(progress)` under a bar labelled `label`; `progress(done, total)` moves it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=False) as bar:
        task = bar.add_task(label, total=None)
        return run(lambda done, total: bar.update(task, completed=done, total=total))
