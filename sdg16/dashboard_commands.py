"""`sdg16 user add|list|disable|enable|remove`: the dashboard's accounts from the command line (e.g. the first
admin); `sdg16 app` starts the app (`streamlit run app.py`, also from an installed wheel).

Registered in sdg16/cli.py with `app.add_typer(dashboard_commands.app)`: without a name, Typer adds this app's
groups at the top level, so the commands read `sdg16 user add …`. The store and the accounts are imported inside
the commands, so that `--help` starts at once (benchmarks/cli_startup.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dashboard.constants import ROLES

if TYPE_CHECKING:
    from dashboard.auth import Accounts

app = typer.Typer()
user_app = typer.Typer(help="Dashboard accounts (roles: admin, coordinator, researcher).", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _accounts() -> Accounts:
    from collect.store import Store
    from dashboard.auth import Accounts

    return Accounts(Store.open())


@user_app.command("add")
def user_add(
    username: str = typer.Argument(None, help="Account name; defaults to the role's name."),
    role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}."),
    set_password: bool = typer.Option(
        False, "--set-password", help="Type the password now instead of getting a one-time password."
    ),
) -> None:
    """Add a dashboard account; prints a one-time password to be changed at first sign-in."""
    from dashboard.auth import AuthError

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if set_password else None
    try:
        one_time = _accounts().add(username or role, role, password)
    except AuthError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(f"Added {username or role!r} ({role}).")
    if password is None:
        typer.echo(f"One-time password (must be changed at first sign-in): {one_time}")


@user_app.command("list")
def user_list() -> None:
    """List the dashboard accounts and their roles."""
    for user in _accounts().list():
        pending = "  (one-time password not yet changed)" if user.must_change_password else ""
        disabled = "  (desactivada / disabled)" if user.disabled else ""
        typer.echo(f"{user.username}\t{user.role}{pending}{disabled}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a dashboard account: it cannot sign in, and every session it has ends at once."""
    from dashboard.auth import AuthError

    try:
        _accounts().disable(username)
    except AuthError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(
        f"Cuenta {username!r} desactivada; sus sesiones terminaron / Account {username!r} disabled; its sessions ended."
    )


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Let a disabled dashboard account sign in again."""
    from dashboard.auth import AuthError

    try:
        _accounts().enable(username)
    except AuthError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(f"Cuenta {username!r} activada / Account {username!r} enabled.")


@user_app.command("remove")
def user_remove(username: str) -> None:
    """Remove a dashboard account (never the last admin)."""
    from dashboard.auth import AuthError

    try:
        _accounts().remove(username)
    except AuthError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(f"Removed {username!r}.")


def app_script() -> Path:
    """The app entry: the checkout's app.py, or sdg16/app.py in an installed wheel (setup.py puts it there)."""
    here = Path(__file__).resolve().parent
    return next((p for p in (here.parent / "app.py", here / "app.py") if p.is_file()), here / "app.py")


@app.command("app", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_app(context: typer.Context) -> None:
    """Start the dashboard and the phones' endpoint: `streamlit run app.py` (extra options go to Streamlit)."""
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(app_script()), *context.args])
