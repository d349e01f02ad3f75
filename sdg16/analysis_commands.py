"""`sdg16 estimate`, `sdg16 export microdata`, `sdg16 margins default`: the analysis from the command line.

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

# Metadata columns of ODK Central and KoboToolbox exports → the store frame's names (CONTRACT.md)
EXPORT_COLUMNS = {"instanceID": "instance_id", "SubmitterName": "volunteer", "_submitted_by": "volunteer",
                  "ReviewState": "review_state", "FormVersion": "form_version", "DeviceID": "device_id",
                  "SubmissionDate": "received_at", "_submission_time": "received_at"}

export_app = typer.Typer(help="Weighted microdata for researchers.", no_args_is_help=True)
margins_app = typer.Typer(help="Raking margins (population totals).", no_args_is_help=True)

RESPONSES_HELP = "A CSV/XLSX export (store frame, ODK Central or KoboToolbox), or `store` / `store:FORM_ID`."
PLAN_OPTION = typer.Option(None, "--plan", help="Analysis plan (TOML).", show_default="analysis/plans/sdg16.toml")


def estimate(responses: str = typer.Argument(..., help=RESPONSES_HELP), plan: Path = PLAN_OPTION,
             out: Path = typer.Option(..., "--out", help="OUT.csv or OUT.xlsx (OUT.csv with --format sdmx)."),
             format: str = typer.Option("tidy", "--format", help="tidy (the estimate table) or sdmx (SDMX-CSV)."),
             ref_area: str = typer.Option("PE_TRUJILLO", help="SDMX REF_AREA code of the whole survey area."),
             time_period: str = typer.Option(None, help="SDMX TIME_PERIOD (default: this year).")) -> None:
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
    metadata = export.table_metadata(loaded, result, margins_module.margin_assumption(loaded),
                                     methods=methods_note(loaded, result), responses=responses)
    try:
        export.write_table(result.estimates, out, metadata=metadata, sdmx=format == "sdmx", ref_area=ref_area,
                           time_period=time_period)
    except AnalysisError as error:
        _fail(str(error))
    typer.echo(f"wrote {out}: {len(result.estimates)} estimates ({(result.estimates['flag'] == 'ok').sum()} ok)")


@export_app.command("microdata")
def microdata(responses: str = typer.Argument(..., help=RESPONSES_HELP), plan: Path = PLAN_OPTION,
              out: Path = typer.Option(..., "--out", help="OUT.csv, OUT.dta (Stata) or OUT.sav (SPSS)."),
              include_identifiers: bool = typer.Option(False, "--include-identifiers",
                                                       help="Keep GPS, device ids, free text and instance ids.")) -> None:
    """Weighted respondent-level data, value-labelled from the XLSForm, without direct identifiers."""
    if out.suffix.lower() not in (".csv", ".dta", ".sav"):
        _fail(f"--out {out.name}: write .csv, .dta or .sav")
    from analysis import export
    from forms.choices import read_form_fields

    loaded, result = _run(responses, plan)
    _warn(result)
    fields = read_form_fields(loaded.form) if loaded.form else None
    choices = _choices(loaded)
    frame = export.microdata_for_export(result.microdata, fields, keep=tuple(c for c in [loaded.design.psu] if c),
                                        include_identifiers=include_identifiers)
    try:
        export.write_microdata(frame, out, choices, fields)
    except AnalysisError as error:
        _fail(str(error))
    typer.echo(f"wrote {out}: {len(frame)} respondents, {frame.shape[1]} variables"
               + (" (WITH identifiers)" if include_identifiers else ""))


@margins_app.command("default")
def margins_default(out: Path = typer.Option(None, help="Folder for the three files.", show_default="analysis/plans"),
                    data: Path = typer.Option(None, help="Folder with neighbourhoods.csv and "
                                              "population_trujillo_2017.csv.", show_default="data/")) -> None:
    """Write margins_sex.csv, margins_age.csv and margins_default.md (the stated assumption) from data/."""
    from analysis.plan import DEFAULT_PLAN

    for path in write_default_margins(out or DEFAULT_PLAN.parent, data):
        typer.echo(f"wrote {path}")


def write_default_margins(out: Path, data: Path | None = None) -> list[Path]:
    """The files committed under analysis/plans/, reproducible from data/ (a test checks they are equal)."""
    from analysis import margins as margins_module

    made = margins_module.default_margins_from(data or margins_module.DATA)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "margins_sex.csv", out / "margins_age.csv", out / "margins_default.md"]
    made.sex.to_csv(paths[0], index=False, lineterminator="\n")
    made.age.to_csv(paths[1], index=False, lineterminator="\n")
    paths[2].write_text("# Default raking margins\n\nMade by `sdg16 margins default --out analysis/plans/`.\n\n"
                        + made.assumption.replace("\n", "\n\n") + "\n", encoding="utf-8")
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

    path = Path(source)
    if not path.is_file():
        _fail(f"responses file not found: {path} (or use `store` / `store:FORM_ID`)")
    try:
        frame = read_export(path)
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
