"""Which content each released form version had, so a changed form cannot go out under an old version.

ODK Collect and KoboCollect decide whether to re-download a form by its version (with `form_update_mode =
match_exactly`, by its hash), and the collection server refuses to publish a version whose bytes differ from what
it already serves (409). A coordinator who edits the spreadsheet but forgets to bump `version` (yyyymmddNN) would
therefore stop the server at its next start, or leave phones with two different forms under one version.
`forms/releases.csv` records, for every released version, a fingerprint of the form's content; the build refuses a
form whose version was released with other content, and a test keeps the shipped form and the record in step.

The fingerprint is taken over pyxform's parse of the spreadsheet, not over the xlsx bytes: re-saving the file in
Excel or LibreOffice changes the bytes but not the form, and must not demand a new version.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyxform.xls2json import parse_file_to_json

from forms.paths import RELEASES

COLUMNS = ("form_id", "version", "content_sha256", "released_at")


class ReleaseError(Exception):
    """A form whose version was already released with different content."""


@dataclass(frozen=True)
class FormContent:
    """A spreadsheet's identity (form_id, version from the settings sheet) and the fingerprint of its content."""

    form_id: str
    version: str
    sha256: str


def form_content(xlsx_path: Path) -> FormContent:
    """Read the form's id and version and fingerprint everything pyxform reads from the spreadsheet."""
    parsed = parse_file_to_json(str(xlsx_path))
    canonical = json.dumps(parsed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return FormContent(
        form_id=parsed["id_string"],
        version=str(parsed.get("version", "")),
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def released(registry: Path = RELEASES) -> dict[tuple[str, str], str]:
    """The record as {(form_id, version): content_sha256}; an absent file means nothing was released yet."""
    if not registry.exists():
        return {}
    with registry.open(newline="", encoding="utf-8") as handle:
        return {(row["form_id"], row["version"]): row["content_sha256"] for row in csv.DictReader(handle)}


def check_release(content: FormContent, registry: Path = RELEASES) -> bool:
    """True when this exact content was released; False when its version is new; ReleaseError on a clash."""
    recorded = released(registry).get((content.form_id, content.version))
    if recorded is None:
        return False
    if recorded != content.sha256:
        raise ReleaseError(
            f"{content.form_id} version {content.version} was released with other content: the spreadsheet changed "
            f"but its version did not. Bump `version` on the settings sheet (yyyymmddNN, e.g. "
            f"{_next_version(content.version)}), then run `sdg16 forms release`."
        )
    return True


def record_release(content: FormContent, registry: Path = RELEASES) -> bool:
    """Add the version to the record (False if it was already there with this content); refuse a clash."""
    if check_release(content, registry):
        return False
    new_file = not registry.exists()
    with registry.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new_file:
            writer.writerow(COLUMNS)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow((content.form_id, content.version, content.sha256, stamp))
    return True


def _next_version(version: str) -> str:
    """The suggested next yyyymmddNN: today's date with counter 01, or the same day's counter plus one."""
    today = datetime.now(UTC).strftime("%Y%m%d")
    if version.isdigit() and len(version) == 10 and version[:8] == today:
        return f"{int(version) + 1}"
    return f"{today}01"
