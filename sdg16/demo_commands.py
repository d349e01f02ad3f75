"""`sdg16 demo`: load the synthetic demo round into the configured store, as the app's first-run button does;
`sdg16 demo remove`: delete it (submissions, demo volunteers and their tokens), as the admin's button does.

Registered in sdg16/cli.py with `app.add_typer(demo_commands.app, name="demo")`. The store, the demo and rich are
imported inside the commands, so that `--help` starts at once (benchmarks/cli_startup.py).
"""

import typer

from dashboard.constants import DEMO_SEED
from sdg16.progress import with_progress

app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="The synthetic demo round: load it (no subcommand) or remove it.",
)


@app.callback()
def demo(
    ctx: typer.Context,
    size: int = typer.Option(
        2000,
        "--size",
        "-n",
        min=1,
        help="Visitas a viviendas de la muestra, un envío cada una (más un reenvío y una entrevista guardada dos "
        "veces) / visits to sampled dwellings to simulate, one submission each (plus one resend and one interview "
        "saved twice).",
    ),
    seed: int = typer.Option(
        DEMO_SEED, help="Random seed: the same seed gives the same submissions, so loading again adds nothing."
    ),
) -> None:
    """Load a clearly labelled SYNTHETIC demo round: the real form filled by a population model, sent through the
    OpenRosa route by demo volunteers (names ending in "(demo)")."""
    if ctx.invoked_subcommand is not None:
        return
    from collect.store import Store
    from dashboard.demo import DemoError, load_demo
    from forms.xform import XFormError
    from forms.xpath import XPathError

    store = Store.open()
    try:
        summary = with_progress(
            lambda progress: load_demo(store, size, progress, seed=seed), "Sending demo submissions"
        )
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


@app.command("remove")
def remove() -> None:
    """Delete the demo round: its submissions, the demo volunteers and their tokens (real data stay)."""
    from collect.store import Store
    from dashboard.demo import demo_round, remove_demo

    store = Store.open()
    try:
        loaded = demo_round(store) is not None
        removed = remove_demo(store)
    finally:
        store.close()
    if not loaded and not removed.submissions:
        typer.echo("No hay ronda de demostración en este almacén / There is no demo round in this store.")
        return
    typer.echo(
        f"Ronda de demostración eliminada / Demo round removed: {removed.submissions} envíos / submissions, "
        f"{removed.volunteers} voluntarios / volunteers."
    )
