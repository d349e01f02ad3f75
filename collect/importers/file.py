"""Import a KoboToolbox or ODK Central export file (CSV or XLSX, "XML values and headers").

CSV: the delimiter is sniffed (Kobo's default is `;`, Central's `,`) and a UTF-8 byte-order mark (Excel) is
skipped. XLSX: the first sheet holds the main table (later sheets are repeat groups, not imported). Every cell is
read as text, exactly as exported, so codes such as "007" keep their zeros.
"""

import csv
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from collect.errors import ImportRowError
from collect.importers.records import FormMapping
from collect.store import ImportSummary, Store
from forms.xform import read_xform


@dataclass
class FileImport:
    """What an import did: the store's summary and the columns that matched no field of the form."""

    summary: ImportSummary
    ignored_columns: list[str] = field(default_factory=list)


def read_export(path: Path) -> pd.DataFrame:
    """An export file as a frame of strings ("" for empty cells); raises ImportRowError for unreadable files."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                dialect = csv.Sniffer().sniff(handle.read(64 * 1024), delimiters=",;\t")
            return pd.read_csv(path, sep=dialect.delimiter, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, csv.Error, UnicodeDecodeError, OSError, zipfile.BadZipFile) as error:
        # The reason without the file's place on the server (an uploaded file lives in a temporary folder).
        reason = str(error).replace(str(path), path.name).replace(str(path.parent), "…")
        raise ImportRowError(f"{path.name} cannot be read as {suffix[1:].upper()} ({reason})") from None
    raise ImportRowError(f"{path.name}: only .csv and .xlsx exports can be imported")


def import_file(store: Store, path: Path, form_id: str, version: str | None = None, source: str = "file", progress: Callable[[int, int], None] | None = None) -> FileImport:
    """Import an export file onto the fields of a published form, all rows or none.

    `version` is recorded for rows without a `FormVersion` column (default: the latest published version).
    `progress(done, total)` is called per row. Row numbers in errors are the spreadsheet's (header = row 1).
    """
    form = store.form_version(form_id, version)
    mapping = FormMapping(form_id, form.version, read_xform(store.form_xml(form_id, form.version)).fields(), source)
    frame = read_export(path)
    total = len(frame)
    records = (mapping.record(row, number) for number, row in enumerate(frame.to_dict("records"), start=2))
    summary = store.import_records(records, progress=None if progress is None else lambda done: progress(done, total))
    return FileImport(summary, mapping.unmatched(list(frame.columns)))
