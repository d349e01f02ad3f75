"""`sdg16 forms ...`: build the questionnaires and write their codebooks from the command line.

pyxform and the modules using it are imported inside the commands, so that `--help` starts at once
(benchmarks/cli_startup.py).
"""

from pathlib import Path

import typer

from forms.paths import BUILD_DIR, FORMS_DIR, RELEASES

app = typer.Typer(help="XLSForm questionnaires: compile, validate, document.", no_args_is_help=True)

FORMS_DIR_OPTION = typer.Option(FORMS_DIR, "--forms-dir", help="Folder holding the XLSForms (*.xlsx).")
OUT_OPTION = typer.Option(BUILD_DIR, "--out", help="Folder for the results (ignored by git).")
RELEASES_OPTION = typer.Option(RELEASES, "--releases", help="The record of released form versions (CSV).")


@app.command()
def build(
    forms_dir: Path = FORMS_DIR_OPTION,
    out: Path = OUT_OPTION,
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Run ODK Validate (needs Java)."),
    releases: Path = RELEASES_OPTION,
) -> None:
    """Compile every XLSForm into XForm XML with its media files, checked by ODK Validate.

    Exits with status 1 and pyxform's message (naming the sheet and row) when a form is broken, or when a form
    changed under a version that was already released (see `sdg16 forms release`).
    """
    from forms.build import FormBuildError, build_all, xlsform_paths
    from forms.releases import ReleaseError, check_release, form_content

    try:
        built = build_all(forms_dir, out, validate=validate)
        for xlsx in xlsform_paths(forms_dir):
            check_release(form_content(xlsx), releases)
    except (FormBuildError, ReleaseError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=1) from err
    if not built:
        typer.echo(f"error: no XLSForm (*.xlsx) in {forms_dir}", err=True)
        raise typer.Exit(code=1)
    for form in built:
        media = ", ".join(m.name for m in form.media) or "none"
        checked = "ODK Validate OK" if form.validated else "not validated"
        typer.echo(f"{form.form_id} version {form.version}: {form.xform_path} (media: {media}; {checked})")
        for warning in form.warnings:
            typer.echo(f"  warning: {warning}", err=True)


@app.command()
def codebook(forms_dir: Path = FORMS_DIR_OPTION, out: Path = OUT_OPTION) -> None:
    """Write each form's codebook as CSV and Markdown: fields, questions (es/en), choices, relevance, indicators."""
    from pyxform.errors import PyXFormError

    from forms.build import xlsform_paths
    from forms.codebook import write_codebook

    paths = xlsform_paths(forms_dir)
    if not paths:
        typer.echo(f"error: no XLSForm (*.xlsx) in {forms_dir}", err=True)
        raise typer.Exit(code=1)
    for xlsx in paths:
        try:
            csv_path, md_path = write_codebook(xlsx, out)
        except PyXFormError as err:  # a broken form: show pyxform's message as the build does
            typer.echo(f"error: {xlsx.name}: {err}", err=True)
            raise typer.Exit(code=1) from err
        typer.echo(f"{xlsx.name}: {csv_path} and {md_path}")


@app.command()
def release(forms_dir: Path = FORMS_DIR_OPTION, out: Path = OUT_OPTION, releases: Path = RELEASES_OPTION) -> None:
    """Record each form's version as released (forms/releases.csv), after it builds and passes ODK Validate.

    From then on the build refuses a spreadsheet that changes under that version: bump `version` first.
    """
    from forms.build import FormBuildError, build_all, xlsform_paths
    from forms.releases import ReleaseError, form_content, record_release

    try:
        build_all(forms_dir, out, validate=True)
        for xlsx in xlsform_paths(forms_dir):
            content = form_content(xlsx)
            added = record_release(content, releases)
            typer.echo(f"{content.form_id} version {content.version}: {'recorded' if added else 'already recorded'}")
    except (FormBuildError, ReleaseError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=1) from err
