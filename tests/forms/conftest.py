"""Shared fixtures: one validated build of the questionnaire per test session (ODK Validate starts a JVM), the
compiled XForm parsed, and javarosa — the engine inside ODK Collect — filling the form in scenarios."""

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyxform.validators.odk_validate import ODK_VALIDATE_PATH
from pyxform.xls2json import parse_file_to_json
from pyxform.xls2json_backends import md_table_to_workbook

from forms.build import FORMS_DIR, BuiltForm, build_form

QUESTIONNAIRE = FORMS_DIR / "sdg16_perception.xlsx"
FILLER_SOURCE = Path(__file__).parent / "javarosa" / "FormFiller.java"


@pytest.fixture(scope="session")
def questionnaire() -> Path:
    return QUESTIONNAIRE


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def built(build_dir) -> BuiltForm:
    """The questionnaire compiled and accepted by ODK Validate, once per session."""
    return build_form(QUESTIONNAIRE, build_dir, validate=True)


@pytest.fixture(scope="session")
def xform(built) -> ET.Element:
    return ET.fromstring(built.xform_bytes)


@pytest.fixture(scope="session")
def survey() -> dict:
    """pyxform's parse of the questionnaire (names, types, translations and choices as the XLSForm gives them)."""
    return parse_file_to_json(str(QUESTIONNAIRE))


def _walk(element: dict):
    for child in element.get("children", []):
        if child["type"] in ("group", "repeat"):
            yield from _walk(child)
        else:
            yield child


@pytest.fixture(scope="session")
def fields(survey) -> dict[str, dict]:
    """Every non-group element of the questionnaire by name, in form order."""
    return {element["name"]: element for element in _walk(survey)}


@pytest.fixture
def xlsform_from_md(tmp_path):
    """Write a pyxform-style markdown table form as an .xlsx (what coordinators edit) and return its path."""

    def write(md: str, name: str = "form") -> Path:
        path = tmp_path / f"{name}.xlsx"
        md_table_to_workbook(md).save(path)
        return path

    return write


@dataclass
class Filled:
    """What javarosa did with one scenario: fields shown in order, choices offered, verdicts on answers, whether the
    form could be finalised (else the first relevant required field left empty) and the submission XML."""

    asked: list[str] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    verdicts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    finalized: bool = False
    first_missing: str | None = None
    instance: str = ""

    def verdict(self, name: str, value: str) -> str:
        return dict(self.verdicts[name])[value.replace(" ", "+")]


@pytest.fixture(scope="session")
def javarosa(built, tmp_path_factory):
    """A function filling the built form in javarosa: {scenario: [(field, value), ...]} -> {scenario: Filled}.

    Needs a JDK (javac) to compile tests/forms/javarosa/FormFiller.java against pyxform's ODK_Validate.jar.
    """
    if shutil.which("javac") is None:
        pytest.skip("javac not found: the javarosa form-filling tests need a JDK (e.g. default-jdk-headless)")
    classes = tmp_path_factory.mktemp("javarosa")
    subprocess.run(["javac", "-cp", ODK_VALIDATE_PATH, "-d", str(classes), str(FILLER_SOURCE)], check=True)
    media_dir = built.media[0].path.parent

    def fill(scenarios: dict[str, list[tuple[str, str]]]) -> dict[str, Filled]:
        script = tmp_path_factory.mktemp("scenarios") / "scenarios.txt"
        blocks = [
            f"# {name}\n" + "".join(f"{k}={v}\n" for k, v in answers) + "---\n" for name, answers in scenarios.items()
        ]
        script.write_text("".join(blocks), encoding="utf-8")
        run = subprocess.run(
            [
                "java",
                "-cp",
                f"{ODK_VALIDATE_PATH}:{classes}",
                "FormFiller",
                str(built.xform_path),
                str(media_dir),
                str(script),
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        )
        return _parse_filler_output(run.stdout)

    return fill


def _parse_filler_output(stdout: str) -> dict[str, Filled]:
    results: dict[str, Filled] = {}
    current = Filled()
    for line in stdout.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "SCENARIO":
            current = results.setdefault(rest, Filled())
        elif kind == "ASKED":
            current.asked.append(rest)
        elif kind == "CHOICES":
            name, *values = rest.split(" ")
            current.choices[name] = values
        elif kind == "ANSWER":
            name, value, verdict = rest.split(" ")
            current.verdicts.setdefault(name, []).append((value, verdict))
        elif kind == "FINALIZED":
            current.finalized = True
        elif kind == "INCOMPLETE":
            current.first_missing = rest
        elif kind == "INSTANCE":
            current.instance = rest
    return results
