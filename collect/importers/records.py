"""Turning one exported record (a CSV/XLSX row or an API record, flattened to `group/field` keys) into an
`ImportRecord` of the store.

KoboToolbox and ODK Central spell the same things differently; this module knows both:

| what | KoboToolbox | ODK Central (CSV; API under `__system/`) |
|---|---|---|
| instance ID | `meta/instanceID`, `_uuid` | `meta-instanceID`, `KEY`; `meta/instanceID`, `__id` |
| edit of | `meta/deprecatedID` | `meta-deprecatedID`; `meta/deprecatedID` |
| received | `_submission_time` (UTC) | `SubmissionDate`; `submissionDate` |
| submitter | `_submitted_by` | `SubmitterName`; `submitterName` |
| review | `_validation_status` | `ReviewState`; `reviewState` |
| form version | (not the form's version) | `FormVersion`; `formVersion` |

Values must be XML values (choice names, not labels), as both platforms export when asked for "XML values".
"""

from collections.abc import Mapping
from datetime import UTC, datetime

import pandas as pd

from collect.errors import ImportRowError
from collect.store import ImportRecord
from forms.xform import Field

INSTANCE_ID = ("meta/instanceID", "meta-instanceID", "instanceID", "_uuid", "KEY", "__id")
DEPRECATED_ID = ("meta/deprecatedID", "meta-deprecatedID")
RECEIVED_AT = ("_submission_time", "SubmissionDate", "__system/submissionDate")
SUBMITTER = ("_submitted_by", "SubmitterName", "__system/submitterName")
DEVICE = ("DeviceID", "__system/deviceId")
REVIEW = ("_validation_status", "ReviewState", "__system/reviewState")
FORM_VERSION = ("FormVersion", "__system/formVersion")
REVIEW_STATES = {
    "": "received",
    "received": "received",
    "edited": "received",
    "hasIssues": "has_issues",
    "approved": "approved",
    "rejected": "rejected",
    "validation_status_approved": "approved",
    "validation_status_not_approved": "rejected",
    "validation_status_on_hold": "has_issues",
    "Approved": "approved",
    "Not Approved": "rejected",
    "On Hold": "has_issues",
}
SELECTED = {"1", "1.0", "True", "true", "TRUE"}
# Platform bookkeeping that is neither a field nor read above: not reported as unmatched.
BOOKKEEPING = {"formhub/uuid", "meta/rootUuid", "meta-rootUuid", "SubmitterID", "AttachmentsPresent", "AttachmentsExpected", "Status", "Edits"}


def flatten_record(record: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested API JSON (Central's OData groups) → `group/field` keys, as Kobo's JSON and CSV headers have them."""
    flat: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, Mapping) and value.get("type") != "Point":
            flat.update(flatten_record(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def xml_text(value: object) -> str:
    """An exported value as the XML text ODK would have written (numbers, GeoJSON points, Kobo's status dicts)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        if value.get("type") == "Point":  # Central's GeoJSON → ODK geopoint "lat lon alt accuracy"
            lon, lat, *alt = value["coordinates"]
            accuracy = (value.get("properties") or {}).get("accuracy")
            return " ".join(str(v) for v in [lat, lon, *(alt or [0]), *([accuracy] if accuracy is not None else [])])
        return str(value.get("uid", ""))  # Kobo's _validation_status object
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _first(row: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((row[name] for name in names if row.get(name)), "")


def _received_at(value: str, row_number: int) -> datetime | None:
    if not value:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise ImportRowError(f"row {row_number}: submission time {value!r} is not a date and time") from None
    return (stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)).to_pydatetime()


class FormMapping:
    """How the headers of an export map onto one form's fields; builds an ImportRecord per row."""

    def __init__(self, form_id: str, form_version: str, fields: list[Field], source: str):
        self.form_id = form_id
        self.form_version = form_version
        self.source = source
        self.fields: dict[str, Field] = {}
        self.expanded: dict[str, tuple[Field, str]] = {}
        for field in fields:
            for spelling in field.spellings():
                self.fields.setdefault(spelling, field)
                for choice in sorted(field.choices or ()) if field.multiple else ():
                    self.expanded.setdefault(f"{spelling}/{choice}", (field, choice))
                    self.expanded.setdefault(f"{spelling}.{choice}", (field, choice))

    def unmatched(self, headers: list[str]) -> list[str]:
        """Headers that are neither a field of the form nor metadata this importer reads: reported, not stored."""
        known = {*BOOKKEEPING, *INSTANCE_ID, *DEPRECATED_ID, *RECEIVED_AT, *SUBMITTER, *DEVICE, *REVIEW, *FORM_VERSION}
        return [h for h in headers if h not in self.fields and h not in self.expanded and h not in known and not h.startswith("_")]

    def record(self, raw: Mapping[str, object], row_number: int) -> ImportRecord:
        """One exported row as an ImportRecord; ImportRowError names the row and what is wrong with it."""
        row = {key: xml_text(value) for key, value in raw.items()}
        instance_id = _first(row, INSTANCE_ID)
        if not instance_id:
            raise ImportRowError(f"row {row_number}: no instance ID (looked for {', '.join(INSTANCE_ID)})")
        if not instance_id.startswith("uuid:") and row.get("_uuid") == instance_id:
            instance_id = f"uuid:{instance_id}"
        values: dict[str, str] = {}
        chosen: dict[str, list[str]] = {}
        for header, value in row.items():
            if header in self.fields and value:
                values.setdefault(self.fields[header].name, value)
            elif header in self.expanded and value in SELECTED:
                field, choice = self.expanded[header]
                chosen.setdefault(field.name, []).append(choice)
        for name, choices in chosen.items():  # exports with only the one-column-per-choice layout
            values.setdefault(name, " ".join(choices))
        by_name = {field.name: field for field in self.fields.values()}
        for name, value in values.items():
            problem = by_name[name].problem(value)
            if problem:
                raise ImportRowError(f"row {row_number}: {problem}")
        review = _first(row, REVIEW)
        if review not in REVIEW_STATES:
            raise ImportRowError(f"row {row_number}: review state {review!r} is not one Kobo or Central uses")
        return ImportRecord(
            instance_id=instance_id,
            form_id=self.form_id,
            form_version=_first(row, FORM_VERSION) or self.form_version,
            fields=values,
            source=self.source,
            source_record=dict(raw),
            received_at=_received_at(_first(row, RECEIVED_AT), row_number),
            volunteer=_first(row, SUBMITTER) or None,
            device_id=_first(row, DEVICE) or values.get("deviceid"),
            review_state=REVIEW_STATES[review],
            deprecated_id=_first(row, DEPRECATED_ID) or None,
            row=row_number,
        )
