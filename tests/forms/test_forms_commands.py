"""sdg16/forms_commands.py: `sdg16 forms build` and `sdg16 forms codebook` as a coordinator runs them."""

import shutil

from typer.testing import CliRunner

from sdg16.forms_commands import app

runner = CliRunner()


def test_build_prints_what_it_built(build_dir, built):
    forms_dir = built.xlsx_path.parent
    result = runner.invoke(app, ["build", "--forms-dir", str(forms_dir), "--out", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert f"sdg16_perception version 2026120401: {built.xform_path}" in result.stdout
    assert "media: blocks.csv, neighbourhoods.csv; ODK Validate OK" in result.stdout


def test_broken_form_exits_non_zero_with_pyxforms_message(tmp_path, xlsform_from_md):
    xlsx = xlsform_from_md(
        """
        | survey |
        |        | type            | name | label |
        |        | select_one nope | a    | A     |
        | choices |
        |        | list_name | name | label |
        |        | yn        | yes  | Yes   |
        """,
        "broken",
    )
    result = runner.invoke(app, ["build", "--forms-dir", str(xlsx.parent), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "error: broken.xlsx: [row : 2]" in result.stderr
    assert "List name not in choices sheet: nope" in result.stderr


def test_empty_forms_folder_is_an_error(tmp_path):
    result = runner.invoke(app, ["build", "--forms-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "no XLSForm" in result.stderr


def test_codebook_writes_csv_and_markdown(tmp_path, questionnaire):
    forms = tmp_path / "forms"
    forms.mkdir()
    shutil.copy(questionnaire, forms)
    result = runner.invoke(app, ["codebook", "--forms-dir", str(forms), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "sdg16_perception.codebook.csv").stat().st_size > 0
    assert (tmp_path / "out" / "sdg16_perception.codebook.md").read_text(encoding="utf-8").startswith("# Codebook")
