"""forms/releases.py: a released form version keeps its content; a changed form needs a new version."""

import pytest
from typer.testing import CliRunner

from forms.releases import RELEASES, ReleaseError, check_release, form_content, record_release
from sdg16.forms_commands import app

runner = CliRunner()

FORM = """
| survey   |
|          | type    | name | label     |
|          | integer | age  | {label}   |
| settings |
|          | form_id | version    |
|          | tiny    | {version}  |
"""


@pytest.fixture
def tiny(xlsform_from_md):
    def write(label="Age", version="2026112801"):
        return xlsform_from_md(FORM.format(label=label, version=version), "tiny")

    return write


def test_the_shipped_questionnaire_is_recorded_as_released_with_its_current_content(questionnaire):
    """Fails when the spreadsheet was edited without bumping `version` and running `sdg16 forms release`."""
    assert check_release(form_content(questionnaire), RELEASES) is True


def test_a_change_under_a_released_version_is_refused_with_the_next_step(tiny, tmp_path):
    registry = tmp_path / "releases.csv"
    assert record_release(form_content(tiny()), registry) is True

    with pytest.raises(ReleaseError, match=r"tiny version 2026112801 was released with other content.*Bump `version`"):
        check_release(form_content(tiny(label="Age in years")), registry)


def test_a_bumped_version_is_new_and_recording_twice_adds_nothing(tiny, tmp_path):
    registry = tmp_path / "releases.csv"
    record_release(form_content(tiny()), registry)

    bumped = form_content(tiny(label="Age in years", version="2026112802"))
    assert check_release(bumped, registry) is False
    assert record_release(bumped, registry) is True
    assert record_release(bumped, registry) is False
    assert registry.read_text().count("\n") == 3  # header + two versions


def test_the_fingerprint_ignores_the_file_and_follows_the_content(tiny, tmp_path):
    first = form_content(tiny())
    assert form_content(tiny()) == first
    assert form_content(tiny(label="Edad")).sha256 != first.sha256


def test_build_command_stops_on_a_changed_released_form(tiny, tmp_path):
    registry = tmp_path / "releases.csv"
    xlsx = tiny()
    args = ["--forms-dir", str(xlsx.parent), "--out", str(tmp_path / "out"), "--releases", str(registry)]
    released = runner.invoke(app, ["release", *args])
    assert released.exit_code == 0, released.output
    assert "tiny version 2026112801: recorded" in released.stdout

    tiny(label="Age in years")
    result = runner.invoke(app, ["build", "--no-validate", *args])
    assert result.exit_code == 1
    assert "was released with other content" in result.stderr
