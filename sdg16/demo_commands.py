"""`sdg16 demo`: load the synthetic demo round into the configured store, as the app's first-run button does.

Registered in sdg16/cli.py with `app.command("demo")(demo_commands.demo)`.
"""

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from collect.store import Store
from dashboard.demo import DEMO_SEED, DemoError, load_demo
from forms.xform import XFormError
from forms.xpath import XPathError


def demo(
    size: int = typer.Option(2000, "--size", "-n", min=1, help="Respondents to simulate (the round adds one resend and one interview saved twice)."),
    seed: int = typer.Option(DEMO_SEED, help="Random seed: the same seed gives the same submissions, so loading again adds nothing."),
) -> None:
    """Load a clearly labelled SYNTHETIC demo round: the real form filled by a population model, sent through the
    OpenRosa route by demo volunteers (names ending in "(demo)")."""
    store = Store.open()
    try:
        with Progress(TextColumn("Sending demo submissions"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
            task = bar.add_task("demo", total=None)
            summary = load_demo(store, size, lambda done, total: bar.update(task, completed=done, total=total), seed=seed)
    except (DemoError, XFormError, XPathError) as error:  # the form the store serves cannot be read or filled
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(
        f"Demo round (synthetic data): {summary.posted} submissions sent by {len(summary.round.volunteers)} demo volunteers; "
        f"{summary.created} new, {summary.duplicates} already stored."
    )
    if summary.round.outdated_version is None:
        typer.echo("No phone on an outdated form version: the store already had the current form and no older one.")
