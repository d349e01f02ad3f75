"""`sdg16 volunteer …`, `sdg16 status`, `sdg16 import file|kobo|central …` and `sdg16 serve`: the collection side.

Registered in sdg16/cli.py with `app.add_typer(collect_commands.app)` (no name), so the commands read at the top
level. Every command works on the configured store (`SDG16_DATABASE_URL`, else the SQLite file in
`SDG16_DATA_DIR`). The store, the importers and rich are imported inside the commands, so that `--help` starts at
once (benchmarks/cli_startup.py).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from collect.constants import DEFAULT_PROJECT
from collect.errors import CollectError
from sdg16.progress import with_progress

if TYPE_CHECKING:
    from collect.store import Store
    from collect.volunteers import NewVolunteer

app = typer.Typer()
volunteer_app = typer.Typer(
    help="Volunteer accounts: server links with a secret token, QR codes for ODK Collect.", no_args_is_help=True
)
import_app = typer.Typer(
    help="Import submissions from KoboToolbox or ODK Central (files or APIs); all rows or none.", no_args_is_help=True
)
app.add_typer(volunteer_app, name="volunteer")
app.add_typer(import_app, name="import")

STREAMLIT_PORT = 8501


def _store() -> Store:
    from collect.store import Store

    return Store.open()


def _store_with_forms() -> Store:
    """The store with the shipped forms published, so that an import can map onto them before any server ran."""
    from collect.publish import publish_shipped_forms

    store = _store()
    publish_shipped_forms(store)
    return store


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"Error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def default_public_url() -> str:
    """`SDG16_PUBLIC_URL`, else this machine's LAN address on Streamlit's port (what phones on the LAN can reach)."""
    if os.environ.get("SDG16_PUBLIC_URL"):
        return os.environ["SDG16_PUBLIC_URL"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    return f"http://{address}:{STREAMLIT_PORT}"


def _print_access(created: NewVolunteer, base: str) -> None:
    """The server URL with the token (shown only now), the QR code for Collect, the Digest login."""
    from collect.database import data_dir
    from collect.volunteers import collect_settings, write_settings_qr
    from collect.webform import webform_url
    from forms.build import SHIPPED_FORM_ID

    name, project = created.volunteer.name, created.volunteer.project
    url = created.server_url(base)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "volunteer"
    qr = write_settings_qr(collect_settings(url, name, project), data_dir() / "volunteers" / f"{slug}.png")
    typer.echo(f"Server URL (ODK Collect / KoboCollect): {url}")
    typer.echo(f"QR code (Collect: Project settings → Reconfigure with QR code): {qr.resolve()}")
    typer.echo(f"Web form (browser, no Android; offline needs HTTPS): {webform_url(url, SHIPPED_FORM_ID)}")
    digest_name = created.volunteer.digest_name
    typer.echo(
        f"Acceso Digest (red local sin HTTPS) / Digest login for plain-HTTP LANs: servidor / server {base}/projects/{project}, "
        f"usuario / username {digest_name!r}, contraseña / password = el token del URL / the token in the URL."
    )
    if digest_name != name:
        typer.echo(
            f"El nombre tiene caracteres que ODK Collect no envía por Digest: use el usuario {digest_name!r} / "
            f"The name has characters ODK Collect's Digest cannot send: use the username {digest_name!r}."
        )
    typer.echo("The token is shown only now; `sdg16 volunteer reissue` gives a new one.")


@volunteer_app.command("add")
def volunteer_add(
    name: str = typer.Argument(..., help="The volunteer's name: shown in the data and used as Digest username."),
    project: str = typer.Option(DEFAULT_PROJECT, help="Project (group of volunteers) the account belongs to."),
    server_url: str = typer.Option(
        None, help="Public base URL of the server [default: SDG16_PUBLIC_URL or http://<LAN address>:8501]."
    ),
) -> None:
    """Create a volunteer: prints their server URL (with token) and writes their ODK Collect QR code."""
    from collect.volunteers import add_volunteer

    try:
        created = add_volunteer(_store(), name, project)
    except (CollectError, ValueError) as error:
        raise _fail(error) from None
    typer.echo(f"Volunteer {name!r} added to project {project!r}.")
    _print_access(created, (server_url or default_public_url()).rstrip("/"))


@volunteer_app.command("reissue")
def volunteer_reissue(
    name: str,
    server_url: str = typer.Option(
        None, help="Public base URL of the server [default: SDG16_PUBLIC_URL or http://<LAN address>:8501]."
    ),
) -> None:
    """Give a volunteer a new token (and reactivate a revoked one); the old token stops working at once."""
    from collect.volunteers import reissue_token

    try:
        created = reissue_token(_store(), name)
    except CollectError as error:
        raise _fail(error) from None
    typer.echo(f"New token for {name!r}; the old link no longer works.")
    _print_access(created, (server_url or default_public_url()).rstrip("/"))


@volunteer_app.command("list")
def volunteer_list() -> None:
    """List volunteers with their project, creation date and whether they are revoked."""
    from collect.volunteers import list_volunteers

    for volunteer in list_volunteers(_store()):
        state = "active" if volunteer.active else f"revoked {volunteer.revoked_at:%Y-%m-%d %H:%M} UTC"
        typer.echo(f"{volunteer.name}\t{volunteer.project}\tadded {volunteer.created_at:%Y-%m-%d}\t{state}")


@volunteer_app.command("revoke")
def volunteer_revoke(name: str) -> None:
    """Revoke a volunteer's token at once; what they already sent stays stored."""
    from collect.volunteers import revoke_volunteer

    try:
        revoke_volunteer(_store(), name)
    except CollectError as error:
        raise _fail(error) from None
    typer.echo(f"Revoked {name!r}: their phone can no longer download forms or send submissions.")


@app.command("status")
def status() -> None:
    """Per form and version: submissions stored, superseded by edits, current ones by review state, last received."""
    frame = _store().status()
    if frame.empty:
        typer.echo("No submissions stored yet.")
        return
    frame["last_received"] = frame["last_received"].dt.strftime("%Y-%m-%d %H:%M UTC")
    typer.echo(frame.to_string(index=False))


def _report(summary) -> None:
    typer.echo(
        f"Importadas {summary.added} submissions nuevas; {summary.unchanged} ya estaban guardadas con los mismos valores; {summary.reviews} revisiones tomadas. / "
        f"Imported {summary.added} new submissions; {summary.unchanged} were already stored with the same values; {summary.reviews} review states taken."
    )


def _kobo_versions(pairs: list[str] | None) -> dict[str, str] | None:
    """`--kobo-version vAbc=2026112801` options as a map (None when none is given)."""
    if not pairs:
        return None
    bad = [pair for pair in pairs if "=" not in pair]
    if bad:
        raise _fail(ValueError(f"--kobo-version espera KOBO=VERSIÓN / expects KOBO=VERSION, got {', '.join(bad)}"))
    return dict(pair.split("=", 1) for pair in pairs)


KOBO_VERSION_OPTION = typer.Option(
    None,
    "--kobo-version",
    help="Kobo deployment id (__version__) = form version here, e.g. vLnrnT6P=2026112801; repeatable.",
)
ATTACHMENTS_OPTION = typer.Option(
    False, "--attachments", help="Also download every submission's attachments (photos, audio) and store them."
)


@import_app.command("file")
def import_file_command(
    path: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="Kobo or Central export (CSV, XLSX or Central's .csv.zip) with XML values and headers.",
    ),
    form: str = typer.Option(..., help="Form id (as published here) whose fields the columns are."),
    version: str = typer.Option(None, help="Form version for rows without a FormVersion column [default: latest]."),
    kobo_version: list[str] = KOBO_VERSION_OPTION,
) -> None:
    """Import an export file: every row or, if one is bad, none (the error names the row)."""
    from collect.importers.file import import_file

    versions = _kobo_versions(kobo_version)
    try:
        result = with_progress(
            lambda progress: import_file(
                _store_with_forms(), path, form, version, progress=progress, kobo_versions=versions
            ),
            path.name,
        )
    except CollectError as error:
        raise _fail(error) from None
    _report(result.summary)
    if result.ignored_columns:
        typer.echo(f"Columns that are not fields of {form!r} (not imported): {', '.join(result.ignored_columns)}")


@import_app.command("kobo")
def import_kobo_command(
    asset: str = typer.Argument(..., help="The Kobo asset (form) uid, e.g. aNGKgubTJPARiJzgtTBqRN."),
    form: str = typer.Option(..., help="Form id (as published here) whose fields the records are."),
    server: str = typer.Option("https://kf.kobotoolbox.org", help="KoboToolbox server."),
    token: str = typer.Option(..., envvar="KOBO_TOKEN", help="Kobo API token (Account settings → Security)."),
    version: str = typer.Option(None, help="Form version for records without a Kobo deployment id [default: latest]."),
    kobo_version: list[str] = KOBO_VERSION_OPTION,
    attachments: bool = ATTACHMENTS_OPTION,
) -> None:
    """Import every submission of a KoboToolbox asset through its API (paged); edits and reviews made on Kobo follow."""
    import httpx

    from collect.importers.kobo import import_kobo

    versions = _kobo_versions(kobo_version)
    try:
        summary = with_progress(
            lambda progress: import_kobo(
                _store_with_forms(),
                server,
                token,
                asset,
                form,
                version,
                progress=progress,
                attachments=attachments,
                kobo_versions=versions,
            ),
            asset,
        )
    except (CollectError, httpx.HTTPError) as error:
        raise _fail(error) from None
    _report(summary)


@import_app.command("central")
def import_central_command(
    form: str = typer.Option(..., help="Form id (as published here) whose fields the records are."),
    central_form: str = typer.Option(None, help="xmlFormId on Central [default: --form]."),
    project: int = typer.Option(None, help="Central project id [default: pyodk config's default_project_id]."),
    config: Path = typer.Option(None, help="pyodk config file [default: PYODK_CONFIG_FILE or ~/.pyodk_config.toml]."),
    version: str = typer.Option(None, help="Form version for records without one [default: latest]."),
    attachments: bool = ATTACHMENTS_OPTION,
) -> None:
    """Import every submission of an ODK Central form through its OData API (pyodk); edits and reviews follow."""
    from pyodk.client import Client
    from pyodk.errors import PyODKError

    from collect.importers.central import import_central

    try:
        with Client(config_path=config) as client:
            summary = with_progress(
                lambda progress: import_central(
                    _store_with_forms(),
                    client,
                    form,
                    central_form,
                    project,
                    version,
                    progress=progress,
                    attachments=attachments,
                ),
                central_form or form,
            )
    except (CollectError, PyODKError) as error:
        raise _fail(error) from None
    _report(summary)


@app.command("backup")
def backup_command(
    destination: Path = typer.Argument(
        ..., dir_okay=False, help="File to write (SQLite: a database; PostgreSQL: a pg_dump archive)."
    ),
) -> None:
    """Back up the whole store (forms, submissions, attachments, accounts) while the app keeps running."""
    from collect.backup import backup

    try:
        written = backup(destination)
    except CollectError as error:
        raise _fail(error) from None
    typer.echo(f"Copia de seguridad en / Backup written to {written} ({written.stat().st_size:,} bytes).")


@app.command("restore")
def restore_command(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="A file written by `sdg16 backup`."),
    yes: bool = typer.Option(False, "--yes", help="Confirm that the store's current content is to be replaced."),
) -> None:
    """Replace the whole store by a backup. Stop the app first; start it again afterwards."""
    from collect.backup import restore

    if not yes:
        raise _fail(
            ValueError(
                "restaurar reemplaza todo el almacén: repita con --yes / "
                "restoring replaces the whole store: repeat with --yes"
            )
        )
    try:
        restore(source)
    except CollectError as error:
        raise _fail(error) from None
    typer.echo(f"Almacén restaurado desde / Store restored from {source}. Start the app again.")


@app.command("serve")
def serve(
    host: str = typer.Option("0.0.0.0", help="Interface to listen on (0.0.0.0: reachable by phones on the LAN)."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(1, help="Worker processes (PostgreSQL: about two per core; SQLite: 1)."),
) -> None:
    """Serve only the OpenRosa routes (no dashboard), e.g. one of several replicas on one PostgreSQL.

    `streamlit run app.py` serves them together with the dashboard, from worker processes of their own."""
    import uvicorn

    uvicorn.run(
        "collect.asgi:app", host=host, port=port, workers=workers, access_log=False
    )  # access logs would record tokens
