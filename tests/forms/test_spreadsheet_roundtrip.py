"""The questionnaire is edited by coordinators in Excel or LibreOffice, not in Python: a save by LibreOffice must
leave a form that still compiles to the same questions. Skipped where LibreOffice is not installed (CI does not
install it: it is large and only this check needs it)."""

import shutil
import subprocess

import pytest
from pyxform.xls2json import parse_file_to_json

from forms.build import build_form

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")


def _convert(source, target_format, out_dir):
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{out_dir}/profile",
            "--convert-to",
            target_format,
            str(source),
            "--outdir",
            str(out_dir),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out_dir / f"{source.stem}.{target_format}"


def test_a_libreoffice_save_keeps_every_question_and_choice(questionnaire, survey, tmp_path):
    ods = _convert(questionnaire, "ods", tmp_path / "ods")
    resaved = _convert(ods, "xlsx", tmp_path / "xlsx")

    assert parse_file_to_json(str(resaved)) == survey
    assert build_form(resaved, tmp_path / "build", validate=True).form_id == "sdg16_perception"
