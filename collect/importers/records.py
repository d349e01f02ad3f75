"""Turning one exported record (a CSV/XLSX row or an API record, flattened to `group/field` keys) into an
`ImportRecord` of the store.

KoboToolbox and ODK Central spell the same things differently; this module knows both (layouts read from their
exporters: Central's `lib/data/briefcase.js` and `lib/formats/odata.js`, Kobo's formpack and kpi's data API):

| what | KoboToolbox | ODK Central (CSV; API under `__system/`) |
|---|---|---|
| this version's instance ID | `meta/instanceID`, `_uuid` | `meta-instanceID`; `meta/instanceID` |
| the submission across edits | `meta/rootUuid` | `KEY`; `__id` (the first version's instanceID) |
| edit of | `meta/deprecatedID` (API only) | (not exported: the chain is found through `KEY`) |
| received | `_submission_time` (UTC) | `SubmissionDate`; `submissionDate` |
| submitter | `_submitted_by` | `SubmitterName`; `submitterName` |
| review | `_validation_status` (label; API: object with `uid`) | `ReviewState`; `reviewState` |
| form version | `__version__` (Kobo's own deployment id, mapped) | `FormVersion`; `formVersion` |
| geopoint | one column `lat lon alt accuracy` | `gps-Latitude`, `-Longitude`, `-Altitude`, `-Accuracy`; GeoJSON |

An edit made on the platform keeps the submission's key (`KEY`/`__id`, `meta/rootUuid`) and changes the
instanceID: the store finds the version imported before by that key and supersedes it, so re-importing after an
edit still gives one submission per respondent.

Values must be XML values (choice names, not labels), as both platforms export when asked for "XML values".
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pandas as pd

from collect.errors import ImportRowError
from collect.store import Attachment, ImportRecord
from forms.xform import Field

INSTANCE_ID = ("meta/instanceID", "meta-instanceID", "instanceID", "_uuid", "KEY", "__id")
ROOT_ID = ("meta/rootUuid", "meta-rootUuid", "__id", "KEY")
DEPRECATED_ID = ("meta/deprecatedID", "meta-deprecatedID")
RECEIVED_AT = ("_submission_time", "SubmissionDate", "__system/submissionDate")
SUBMITTER = ("_submitted_by", "SubmitterName", "__system/submitterName")
DEVICE = ("DeviceID", "__system/deviceId")
REVIEW = ("_validation_status", "ReviewState", "__system/reviewState")
FORM_VERSION = ("FormVersion", "__system/formVersion")
KOBO_VERSION = "__version__"
GEOPOINT_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")  # Central's CSV columns, in ODK's order
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
JSON_TYPES = (str, int, float, bool, list, dict, type(None))
SELECTED = {"1", "1.0", "True", "true", "TRUE"}
# Platform bookkeeping that is neither a field nor read above: not reported as unmatched.
BOOKKEEPING = {
    "formhub/uuid",
    "meta/rootUuid",
    "meta-rootUuid",
    "SubmitterID",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "Edits",
    KOBO_VERSION,
}
# Where Kobo's XLSX export writes typed cells, the project's clock: start/end arrive without their offset.
LOCAL_TIMEZONE = "America/Lima"


def flatten_record(record: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested API JSON (Central's OData groups) → `group/field` keys, as Kobo's JSON and CSV headers have them."""
    flat: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, Mapping) and value.get("type") != "Point":
            flat.update(flatten_record(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def xml_text(value: object, kind: str = "string", timezone: str = LOCAL_TIMEZONE) -> str:
    """An exported value as the XML text ODK would have written (numbers, GeoJSON points, Kobo's status dicts,
    the typed cells of an XLSX export for a field of XForm type `kind`)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _typed_datetime(value, kind, timezone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, Mapping):
        if value.get("type") == "Point":  # Central's GeoJSON → ODK geopoint "lat lon alt accuracy"
            lon, lat, *alt = value["coordinates"]
            accuracy = (value.get("properties") or {}).get("accuracy")
            return " ".join(str(v) for v in [lat, lon, *(alt or [0]), *([accuracy] if accuracy is not None else [])])
        return str(value.get("uid", ""))  # Kobo's _validation_status object
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _typed_datetime(value: datetime, kind: str, timezone: str) -> str:
    """An XLSX date/time cell as ODK writes the field: `date` a day, `time` a clock time, `dateTime` (start, end)
    an instant with its offset — Kobo's XLSX drops the offset, so a naive cell is read as the project's clock."""
    if kind == "date":
        return value.date().isoformat()
    if kind == "time":
        return value.time().isoformat(timespec="milliseconds")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.isoformat(timespec="milliseconds")


def _first(row: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((row[name] for name in names if row.get(name)), "")


def _uuid(value: str) -> str:
    return value if not value or value.startswith("uuid:") else f"uuid:{value}"


def _received_at(value: str, row_number: int) -> datetime | None:
    if not value:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise ImportRowError(f"row {row_number}: submission time {value!r} is not a date and time") from None
    return (stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)).to_pydatetime()


class FormMapping:
    """How the headers of an export map onto one form's fields; builds an ImportRecord per row.

    `kobo_versions` maps Kobo's deployment ids (`__version__`) to this form's versions: Kobo replaces the form's
    version on deploy, and without the map the version-drift check would see every Kobo row as current.
    """

    def __init__(
        self,
        form_id: str,
        form_version: str,
        fields: list[Field],
        source: str,
        kobo_versions: Mapping[str, str] | None = None,
        timezone: str = LOCAL_TIMEZONE,
    ):
        self.form_id = form_id
        self.form_version = form_version
        self.source = source
        self.kobo_versions = kobo_versions
        self.timezone = timezone
        self.fields: dict[str, Field] = {}
        self.expanded: dict[str, tuple[Field, str]] = {}
        self.geopoint_parts: dict[str, tuple[Field, int]] = {}
        for field in fields:
            for spelling in field.spellings():
                self.fields.setdefault(spelling, field)
                for choice in sorted(field.choices or ()) if field.multiple else ():
                    self.expanded.setdefault(f"{spelling}/{choice}", (field, choice))
                    self.expanded.setdefault(f"{spelling}.{choice}", (field, choice))
                for index, part in enumerate(GEOPOINT_PARTS) if field.type == "geopoint" else ():
                    self.geopoint_parts.setdefault(f"{spelling}-{part}", (field, index))
        self.by_name = {field.name: field for field in self.fields.values()}

    def _known(self, header: str) -> bool:
        metadata = {
            *BOOKKEEPING,
            *INSTANCE_ID,
            *ROOT_ID,
            *DEPRECATED_ID,
            *RECEIVED_AT,
            *SUBMITTER,
            *DEVICE,
            *REVIEW,
            *FORM_VERSION,
        }
        return (
            header in self.fields
            or header in self.expanded
            or header in self.geopoint_parts
            or header in metadata
            or header.startswith("_")
        )

    def unmatched(self, headers: list[str]) -> list[str]:
        """Headers that are neither a field of the form nor metadata this importer reads: reported, not stored."""
        return [h for h in headers if not self._known(h)]

    def header_names(self, headers: Sequence[str]) -> dict[str, str]:
        """Each header → the name this mapping reads, undoing a group separator other than `/` and `-`.

        Kobo's export lets the user pick any separator (`.`, `:`, …). The separator that makes the most headers
        match is taken; if headers still end in a field's name behind an unknown separator, ImportRowError says
        so rather than importing rows without those answers.
        """
        best, best_matches = None, sum(self._known(h) for h in headers)
        for separator in sorted({c for h in headers for c in h if not (c.isalnum() or c in "_/-")}):
            matches = sum(self._known(h.replace(separator, "/")) for h in headers)
            if matches > best_matches:
                best, best_matches = separator, matches
        names = {h: h.replace(best, "/") if best and self._known(h.replace(best, "/")) else h for h in headers}
        hidden = [h for h, name in names.items() if not self._known(name) and self._behind_separator(name)]
        if hidden:
            raise ImportRowError(
                f"las columnas {', '.join(hidden[:5])} parecen preguntas del formulario {self.form_id!r} tras un separador de grupos desconocido; "
                f"exporte de nuevo con el separador «/» / columns {', '.join(hidden[:5])} look like fields of {self.form_id!r} behind an unknown "
                "group separator; export again with '/' as the group separator (nothing was imported)"
            )
        return names

    def _behind_separator(self, header: str) -> bool:
        for name in self.by_name:
            if (
                header.endswith(name)
                and len(header) > len(name)
                and not header[-len(name) - 1].isalnum()
                and header[-len(name) - 1] != "_"
            ):
                return True
        return False

    def _form_version(self, row: Mapping[str, str], row_number: int) -> str:
        version = _first(row, FORM_VERSION)
        if version:
            return version
        kobo = row.get(KOBO_VERSION, "")
        if not kobo or self.kobo_versions is None:
            return self.form_version
        try:
            return self.kobo_versions[kobo]
        except KeyError:
            known = ", ".join(f"{k}={v}" for k, v in self.kobo_versions.items()) or "none"
            raise ImportRowError(
                f"row {row_number}: la versión de Kobo {kobo!r} no tiene equivalente / Kobo version {kobo!r} is not mapped to a version of {self.form_id!r} (mapped: {known})"
            ) from None

    def record(
        self,
        raw: Mapping[str, object],
        row_number: int,
        repeats: Sequence[Mapping[str, object]] = (),
        attachments: Sequence[Attachment] = (),
    ) -> ImportRecord:
        """One exported row as an ImportRecord; ImportRowError names the row and what is wrong with it.

        `repeats` are the row's repeat-group rows (Central's `.csv.zip`): a field answered only there keeps its
        first value, as OpenRosa submissions do, and every row stays in the source record.
        """
        row = {
            key: xml_text(value, self.fields[key].type if key in self.fields else "string", self.timezone)
            for key, value in raw.items()
        }
        instance_id = _first(row, INSTANCE_ID)
        if not instance_id:
            raise ImportRowError(f"row {row_number}: no instance ID (looked for {', '.join(INSTANCE_ID)})")
        if row.get("_uuid") == instance_id:
            instance_id = _uuid(instance_id)
        values = self._values(row)
        for repeat_row in repeats:
            for name, value in self._values({k: xml_text(v) for k, v in repeat_row.items()}).items():
                values.setdefault(name, value)
        for name, value in values.items():
            problem = self.by_name[name].problem(value)
            if problem:
                raise ImportRowError(f"row {row_number}: {problem}")
        review = _first(row, REVIEW)
        if review not in REVIEW_STATES:
            raise ImportRowError(f"row {row_number}: review state {review!r} is not one Kobo or Central uses")
        source_record = {
            key: value if isinstance(value, JSON_TYPES) else row[key] for key, value in raw.items()
        }  # typed XLSX cells as text
        if repeats:
            source_record["repeats"] = [dict(r) for r in repeats]
        return ImportRecord(
            instance_id=instance_id,
            form_id=self.form_id,
            form_version=self._form_version(row, row_number),
            fields=values,
            source=self.source,
            source_record=source_record,
            received_at=_received_at(_first(row, RECEIVED_AT), row_number),
            volunteer=_first(row, SUBMITTER) or None,
            device_id=_first(row, DEVICE) or values.get("deviceid"),
            review_state=REVIEW_STATES[review],
            deprecated_id=_first(row, DEPRECATED_ID) or None,
            root_id=_first(row, ROOT_ID) or None,
            attachments=tuple(attachments),
            row=row_number,
        )

    def _values(self, row: Mapping[str, str]) -> dict[str, str]:
        """Field name → XML value: plain columns, one 0/1 column per choice, a geopoint's four columns."""
        values: dict[str, str] = {}
        chosen: dict[str, list[str]] = {}
        points: dict[str, list[str]] = {}
        for header, value in row.items():
            if header in self.fields and value:
                values.setdefault(self.fields[header].name, value)
            elif header in self.expanded and value in SELECTED:
                field, choice = self.expanded[header]
                chosen.setdefault(field.name, []).append(choice)
            elif header in self.geopoint_parts and value:
                field, index = self.geopoint_parts[header]
                points.setdefault(field.name, ["", "", "", ""])[index] = value
        for name, choices in chosen.items():  # exports with only the one-column-per-choice layout
            values.setdefault(name, " ".join(choices))
        for name, (lat, lon, altitude, accuracy) in points.items():
            if lat and lon:
                values.setdefault(name, " ".join([lat, lon, altitude or "0", *([accuracy] if accuracy else [])]))
        return values
