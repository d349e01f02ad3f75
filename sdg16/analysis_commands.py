"""`sdg16 estimate`, `sdg16 export microdata`, `sdg16 margins default|import`: the analysis from the command line.

The CLI is the one place allowed to join the parts: it reads responses from a CSV/XLSX export or from the store
(`collect.store`), the choice labels from the XLSForm, and hands DataFrames to `analysis/`, which imports
nothing of the project.

Registered in sdg16/cli.py:
    app.command("estimate")(analysis_commands.estimate)
    app.add_typer(analysis_commands.export_app, name="export")
    app.add_typer(analysis_commands.margins_app, name="margins")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from analysis.errors import AnalysisError

if TYPE_CHECKING:  # the analysis modules are imported when a command runs: `--help` stays instant
    import pandas as pd

    from analysis.pipeline import Result
    from analysis.plan import Plan

# Metadata columns of ODK Central and KoboToolbox exports → the store frame's names (docs/DESIGN.md, "Store → analysis frame")
EXPORT_COLUMNS = {
    "instanceID": "instance_id",
    "SubmitterName": "volunteer",
    "_submitted_by": "volunteer",
    "ReviewState": "review_state",
    "FormVersion": "form_version",
    "DeviceID": "device_id",
    "SubmissionDate": "received_at",
    "_submission_time": "received_at",
}

export_app = typer.Typer(help="Weighted microdata for researchers.", no_args_is_help=True)
margins_app = typer.Typer(help="Raking margins (population totals).", no_args_is_help=True)

RESPONSES_HELP = "A CSV/XLSX export (store frame, ODK Central or KoboToolbox), or `store` / `store:FORM_ID`."
PLAN_OPTION = typer.Option(None, "--plan", help="Analysis plan (TOML).", show_default="analysis/plans/sdg16.toml")


def estimate(
    responses: str = typer.Argument(..., help=RESPONSES_HELP),
    plan: Path = PLAN_OPTION,
    out: Path = typer.Option(..., "--out", help="OUT.csv or OUT.xlsx (OUT.csv with --format sdmx)."),
    format: str = typer.Option("tidy", "--format", help="tidy (the estimate table) or sdmx (SDMX-CSV)."),
    geo_info_url: str = typer.Option(
        None, help="SDMX GEO_INFO_URL: where the survey area's boundary (GeoJSON) is published."
    ),
    time_period: str = typer.Option(None, help="SDMX TIME_PERIOD (default: this year)."),
) -> None:
    """Weighted SDG 16 estimates with CIs for every indicator and breakdown of the plan."""
    if format not in ("tidy", "sdmx"):
        _fail(f"--format must be tidy or sdmx, not {format!r}")
    if out.suffix.lower() not in ((".csv",) if format == "sdmx" else (".csv", ".xlsx")):
        _fail(f"--out {out.name}: write .csv or .xlsx (SDMX-CSV: .csv)")
    from analysis import export
    from analysis import margins as margins_module
    from analysis.methods import methods_note

    loaded, result = _run(responses, plan)
    _warn(result)
    metadata = export.table_metadata(
        loaded,
        result,
        margins_module.margin_assumption(loaded),
        methods=methods_note(loaded, result),
        responses=responses,
    )
    try:
        export.write_table(
            result.estimates,
            out,
            metadata=metadata,
            sdmx_csv=format == "sdmx",
            plan=loaded,
            time_period=time_period,
            geo_info_url=geo_info_url,
        )
    except AnalysisError as error:
        _fail(str(error))
    typer.echo(f"wrote {out}: {len(result.estimates)} estimates ({(result.estimates['flag'] == 'ok').sum()} ok)")
    if format == "sdmx":
        from analysis.sdmx import left_out

        reasons = left_out(result.estimates)["reason"].value_counts()
        for reason, count in reasons.items():
            typer.echo(f"  no incluidas en SDMX / not in SDMX: {count} — {reason}")


@export_app.command("microdata")
def microdata(
    responses: str = typer.Argument(..., help=RESPONSES_HELP),
    plan: Path = PLAN_OPTION,
    out: Path = typer.Option(..., "--out", help="OUT.csv, OUT.dta (Stata 12, R foreign) or OUT.sav (SPSS)."),
    level: str = typer.Option(
        "researcher",
        "--level",
        help="researcher (no identifiers, disclosure control) or full (admins: "
        "everything, logged; needs --reason and --user).",
    ),
    reason: str = typer.Option("", "--reason", help="Why full detail is needed (logged)."),
    user: str = typer.Option("", "--user", help="Who takes the full-detail file (logged)."),
    k: int = typer.Option(5, "--k", help="k-anonymity threshold of the researcher level."),
) -> None:
    """Weighted respondent-level data with labels; researcher level under disclosure control (report beside it)."""
    if out.suffix.lower() not in (".csv", ".dta", ".sav"):
        _fail(f"--out {out.name}: write .csv, .dta or .sav")
    if level not in ("researcher", "full"):
        _fail(f"--level debe ser researcher o full / --level must be researcher or full, not {level!r}")
    if level == "full" and not (reason.strip() and user.strip()):
        _fail(
            "--level full requiere --reason y --user (se registra) / --level full needs --reason and --user (it is logged)"
        )
    from analysis import export
    from forms.choices import read_form_fields

    loaded, result = _run(responses, plan)
    _warn(result)
    fields = read_form_fields(loaded.form) if loaded.form else None
    choices = _choices(loaded)
    if level == "full":
        frame, metadata = export.full_microdata(result.microdata, fields, choices)
    else:
        frame, metadata = export.researcher_microdata(
            result.microdata, fields, choices, keep=tuple(c for c in [loaded.design.psu] if c), k=k
        )
    try:
        export.write_microdata(frame, out, choices, fields, file_label=metadata["microdata_level"])
    except AnalysisError as error:
        _fail(str(error))
    if level == "full":
        from collect.access_log import record_full_download

        record_full_download(user, reason, f"microdata {out.name}", len(frame), "cli")
    note = out.with_name(out.name + ".metadata.md")
    note.write_text(export.metadata_text(metadata), encoding="utf-8")
    typer.echo(
        f"escrito / wrote {out}: {len(frame)} encuestados / respondents, {frame.shape[1]} variables; "
        f"metadatos / metadata: {note}"
        + (" (CON identificadores / WITH identifiers, logged)" if level == "full" else "")
    )
    if level == "researcher":
        typer.echo(metadata["k_anonymity_after"])


@margins_app.command("default")
def margins_default(
    out: Path = typer.Option(None, help="Folder for the three files.", show_default="analysis/plans"),
    data: Path = typer.Option(
        None, help="Folder with neighbourhoods.csv and population_trujillo_2017.csv.", show_default="data/"
    ),
) -> None:
    """Write margins_sex.csv, margins_age.csv and margins_default.md (the stated assumption) from data/."""
    from analysis.plan import DEFAULT_PLAN

    for path in write_default_margins(out or DEFAULT_PLAN.parent, data):
        typer.echo(f"wrote {path}")


@margins_app.command("import")
def margins_import(
    census: Path = typer.Option(
        ..., "--census", help="INEI Cuadro N° 1 (district × sex × single year of age), CSV or XLSX."
    ),
    frame: Path = typer.Option(
        ..., "--frame", help="The frame of blocks (neighbourhood, dwellings): neighbourhood shares of each district."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for margins_sex.csv, margins_age.csv, margins_census.md."),
    source: str = typer.Option(
        "INEI, Censos Nacionales 2017, Resultados Definitivos, Tomo I, Cuadro N° 1",
        help="Where the table comes from (written in the plan).",
    ),
    neighbourhoods: Path = typer.Option(
        None, help="The neighbourhood list (name, district).", show_default="data/neighbourhoods.csv"
    ),
    min_age: int = typer.Option(18, help="Youngest age in the survey's population."),
) -> None:
    """Margins from a census table (replacing the assumed split of `sdg16 margins default`)."""
    import pandas as pd

    from analysis import census as census_module
    from analysis import margins as margins_module
    from analysis.sampling import read_frame

    neighbourhoods = neighbourhoods or margins_module.DATA / "neighbourhoods.csv"

    try:
        places = pd.read_csv(neighbourhoods)
        blocks = read_frame(pd.read_csv(frame, dtype=str, keep_default_na=False, na_values=[""]), places)
        made = census_module.census_margins(census_module.read_cuadro1(census), blocks, places, min_age, source)
    except (AnalysisError, OSError) as error:
        _fail(str(error))
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "margins_sex.csv", out / "margins_age.csv", out / "margins_census.md"]
    made.sex.to_csv(paths[0], index=False, lineterminator="\n")
    made.age.to_csv(paths[1], index=False, lineterminator="\n")
    paths[2].write_text(
        f"# Raking margins from a census table\n\nMade by `sdg16 margins import --census {census.name} "
        f"--frame {frame.name}`.\n\n{made.note}\n",
        encoding="utf-8",
    )
    for path in paths:
        typer.echo(f"escrito / wrote {path}")
    typer.echo(
        "En el plan / in the plan:\n"
        + "".join(
            f'[[margins]]\nfile = "{p.name}"\nsource = "{source}; neighbourhoods by the frame\'s dwellings (margins_census.md)"\n'
            for p in paths[:2]
        )
    )


def write_default_margins(out: Path, data: Path | None = None) -> list[Path]:
    """The files committed under analysis/plans/, reproducible from data/ (a test checks they are equal)."""
    from analysis import margins as margins_module

    made = margins_module.default_margins_from(data or margins_module.DATA)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "margins_sex.csv", out / "margins_age.csv", out / "margins_default.md"]
    made.sex.to_csv(paths[0], index=False, lineterminator="\n")
    made.age.to_csv(paths[1], index=False, lineterminator="\n")
    paths[2].write_text(
        "# Default raking margins\n\nMade by `sdg16 margins default --out analysis/plans/`.\n\n"
        + made.assumption.replace("\n", "\n\n")
        + "\n",
        encoding="utf-8",
    )
    return paths


def _run(responses: str, plan_path: Path | None) -> tuple[Plan, Result]:
    from analysis.pipeline import run
    from analysis.plan import DEFAULT_PLAN, load_plan

    try:
        plan = load_plan(plan_path or DEFAULT_PLAN)
        frame = read_responses(responses)
        return plan, run(plan, frame, _choices(plan))
    except AnalysisError as error:
        _fail(str(error))


def _warn(result: Result) -> None:
    """Every warning of the run on stderr (collapsed cells, respondents set aside, …): the table is written."""
    for warning in result.warnings:
        typer.echo(f"Aviso / Warning: {warning}", err=True)


def _choices(plan: Plan) -> pd.DataFrame | None:
    import pandas as pd

    from analysis.recode import derived_choices
    from forms.choices import read_form_choices

    if plan.form is None:
        return None
    return pd.concat([read_form_choices(plan.form), derived_choices()], ignore_index=True)


def read_responses(source: str) -> pd.DataFrame:
    """`store[:FORM_ID]` → the store's current submissions; a file → its rows with bare field names."""
    if source == "store" or source.startswith("store:"):
        from collect.store import Store  # only this branch needs a database
        from forms.build import SHIPPED_FORM_ID

        store = Store.open()
        try:
            return store.submissions_frame(source.partition(":")[2] or SHIPPED_FORM_ID)
        finally:
            store.close()
    from collect.errors import ImportRowError
    from collect.importers.file import read_export
    from collect.importers.records import xml_text

    path = Path(source)
    if not path.is_file():
        _fail(f"responses file not found: {path} (or use `store` / `store:FORM_ID`)")
    try:
        frame = read_export(path).main.map(xml_text)  # typed XLSX cells as the XML text the frame has
    except ImportRowError as error:
        _fail(str(error))
    return bare_names(frame)


def bare_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Group paths (Kobo `a/b/name`, Central `a-b-name`) → bare field names, export metadata → store names,
    empty cells → NaN. Field names are unique in the form, so the last path segment is the field."""
    import numpy as np
    import pandas as pd

    renamed = {}
    for column in frame.columns:
        bare = str(column).replace("/", "-").rsplit("-", 1)[-1]
        renamed[column] = EXPORT_COLUMNS.get(bare, bare)
    duplicated = pd.Index(renamed.values())
    if duplicated.has_duplicates:
        _fail(f"columns {sorted(set(duplicated[duplicated.duplicated()]))} appear twice after removing group paths")
    out = frame.rename(columns=renamed)
    return out.astype(object).where(out.notna() & (out.astype(str) != ""), np.nan)


def _fail(message: str):
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)
