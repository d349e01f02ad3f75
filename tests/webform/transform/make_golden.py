"""Golden outputs of enketo-transformer itself, for `test_enketo_transform.py` (the suite does not need Node).

    python tests/webform/transform/make_golden.py     # needs `cd webform && npm ci` and Debian's chromium

1. builds the fixture XForms from the XLSForms here (`*.md`, with pyxform and ODK Validate; `\\n` in a cell is a line
   break, which a Markdown table cannot hold); `sdg16_perception_*.xml` is a copy of a questionnaire as published;
2. runs enketo-transformer's own browser build (the version in webform/package-lock.json) on each, in Chromium while
   it still has XSLT, with the media URLs the server gives (`attachments/NAME`);
3. writes NAME.form.html and NAME.model.xml beside each XForm.
Rerun it when enketo-transformer is upgraded, and commit what changed.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from pyxform.xls2xform import convert

HERE = Path(__file__).resolve().parent
WEBFORM = HERE.parents[2] / "webform"
ENTRY = "import { transform } from 'enketo-transformer/web'; window.enketoTransform = transform;"


def media_of(xform: str) -> dict[str, str]:
    """The media a fixture refers to, at the URLs collect.webform gives them."""
    names = set(re.findall(r"jr://(?:images|file-csv|file)/([^\"<]+)", xform))
    return {name: f"attachments/{name}" for name in sorted(names)}


def build_fixtures() -> None:
    for source in sorted(HERE.glob("*.md")):
        warnings: list[str] = []
        result = convert(
            source.read_text(encoding="utf-8"), warnings=warnings, validate=True, file_type=".md", pretty_print=True
        )
        source.with_suffix(".xml").write_text(result.xform.replace("\\n", "\n"), encoding="utf-8")


def reference_bundle(folder: Path) -> Path:
    out = folder / "transformer.js"
    esbuild = WEBFORM / "node_modules" / ".bin" / "esbuild"
    command = [
        str(esbuild),
        "--bundle",
        "--format=iife",
        f"--outfile={out}",
        "--log-level=warning",
        "--external:libxslt",
    ]
    subprocess.run(command, input=ENTRY, text=True, cwd=WEBFORM, check=True)
    return out


def main() -> None:
    build_fixtures()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        bundle = reference_bundle(Path(tmp))
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        page.set_content("<!doctype html><title>transformer</title>")
        page.add_script_tag(path=str(bundle))
        for xform_path in sorted(HERE.glob("*.xml")):
            if xform_path.name.endswith(".model.xml"):
                continue
            xform = xform_path.read_text(encoding="utf-8")
            survey = page.evaluate(
                "([xform, media]) => window.enketoTransform({ xform, media })", [xform, media_of(xform)]
            )
            stem = xform_path.with_suffix("")
            Path(f"{stem}.form.html").write_text(survey["form"], encoding="utf-8")
            Path(f"{stem}.model.xml").write_text(survey["model"], encoding="utf-8")
            print(
                xform_path.name,
                json.dumps(survey["languageMap"], ensure_ascii=False),
                survey["transformerVersion"],
                file=sys.stderr,
            )
        browser.close()


if __name__ == "__main__":
    main()
