"""The `sdg16` console script: one Typer app whose command groups live beside the parts they drive.

Each group is defined next to the code it calls (forms, collect, analysis, dashboard) and only named here, so
this file stays a table of contents. The groups are imported when their command runs, not before: importing
them all (pandas, scipy, pyxform, SQLAlchemy, Streamlit's helpers) took seconds, and `sdg16 --help` or
`sdg16 status` should start at once (benchmarks/cli_startup.py). `sdg16 --help` lists the commands from the
short help below; tests/test_cli.py checks that it says what each command's own help says.
"""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperCommand, TyperGroup
from typer.core import _click as click  # Typer 0.29 vendors its own click

# command → (module, attribute, how it is registered: "command" a function, "group" a Typer app under this
# name, "merged" a Typer app whose own commands appear at the top level), and its one-line help
COMMANDS = {
    "demo": ("sdg16.demo_commands", "app", "group"),
    "geography": ("sdg16.geography_commands", "app", "group"),
    "estimate": ("sdg16.analysis_commands", "estimate", "command"),
    "forms": ("sdg16.forms_commands", "app", "group"),
    "status": ("sdg16.collect_commands", "app", "merged"),
    "serve": ("sdg16.collect_commands", "app", "merged"),
    "volunteer": ("sdg16.collect_commands", "app", "merged"),
    "import": ("sdg16.collect_commands", "app", "merged"),
    "export": ("sdg16.analysis_commands", "export_app", "group"),
    "margins": ("sdg16.analysis_commands", "margins_app", "group"),
    "backup": ("sdg16.collect_commands", "app", "merged"),
    "restore": ("sdg16.collect_commands", "app", "merged"),
    "sample": ("sdg16.sample_commands", "app", "group"),
    "user": ("sdg16.dashboard_commands", "app", "merged"),
    "app": ("sdg16.dashboard_commands", "app", "merged"),
}
SHORT_HELP = {
    "demo": "The synthetic demo round: load it (no subcommand) or remove it.",
    "estimate": "Weighted SDG 16 estimates with CIs for every indicator and breakdown of the plan.",
    "geography": "Límites de barrios para el mapa / Neighbourhood limits for the map.",
    "forms": "XLSForm questionnaires: compile, validate, document.",
    "status": "Per form and version: submissions stored, superseded by edits, current ones by review state, "
    "last received.",
    "serve": "Serve only the OpenRosa routes (no dashboard), e.g. one of several replicas on one PostgreSQL.",
    "volunteer": "Volunteer accounts: server links with a secret token, QR codes for ODK Collect.",
    "import": "Import submissions from KoboToolbox or ODK Central (files or APIs); all rows or none.",
    "export": "Weighted microdata for researchers.",
    "margins": "Raking margins (population totals).",
    "backup": "Back up the whole store (forms, submissions, attachments, accounts) while the app keeps running.",
    "restore": "Replace the whole store by a backup. Stop the app first; start it again afterwards.",
    "sample": "Muestra probabilística / probability sample: frame → blocks → assignments.",
    "user": "Dashboard accounts (roles: admin, coordinator, researcher).",
    "app": "Start the dashboard and the phones' endpoint: `streamlit run app.py` (extra options go to Streamlit).",
}


def load_command(name: str) -> click.Command:
    """The click command `name`, registered from its module exactly as a plain Typer app would register it."""
    module, attribute, how = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer()
    if how == "command":
        holder.command(name)(target)
    elif how == "group":
        holder.add_typer(target, name=name)
    else:
        holder.add_typer(target)
    holder.callback()(lambda: None)  # a group even with one command, so that commands are looked up by name
    group = typer.main.get_group(holder)
    return group.get_command(click.Context(group), name)


class LazyGroup(TyperGroup):
    """Commands imported on first use; the listing in `--help` comes from SHORT_HELP without importing them."""

    listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if self.listing:
            return TyperCommand(name, help=SHORT_HELP[name])
        return load_command(name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    cls=LazyGroup,
    no_args_is_help=True,
    help="sdg16-survey: SDG 16 perception surveys from XLSForm to weighted estimates.",
)


@app.callback()
def _main() -> None:
    """sdg16-survey: SDG 16 perception surveys from XLSForm to weighted estimates."""


if __name__ == "__main__":
    app()
