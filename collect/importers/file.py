"""Import a KoboToolbox or ODK Central export file (CSV, XLSX or Central's `.csv.zip`, "XML values and headers").

CSV: the delimiter is sniffed (Kobo's default is `;`, Central's `,`) and a UTF-8 byte-order mark (Excel) is
skipped; every cell is text, exactly as exported, so codes such as "007" keep their zeros. XLSX: the first sheet
holds the main table, later sheets the repeat groups (rows linked by `_parent_index` to the main row's `_index`:
a field answered only there keeps its first value, every row stays in the source record); Kobo writes typed
cells (numbers, `today` as a date, `start`/`end` as datetimes without offset), read back as ODK's XML text.

Central's `.csv.zip` (Central's `lib/data/briefcase.js`): `{form}.csv` is the main table, `{form}-{repeat}.csv`
one table per repeat group whose rows point at their submission through `PARENT_KEY` (`uuid:…` or
`uuid:…/group/repeat[1]` when nested), and with "include media files" `media/{file}` holds the attachments,
stored with their submission as OpenRosa attachments are.
"""

import csv
import io
import mimetypes
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from collect.errors import ImportRowError
from collect.importers.records import FormMapping
from collect.store import Attachment, ImportSummary, Store
from forms.xform import read_xform


@dataclass
class FileImport:
    """What an import did: the store's summary and the columns that matched no field of the form."""

    summary: ImportSummary
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class Export:
    """An export file read: the main table, repeat rows by submission key, media files by name."""

    main: pd.DataFrame
    repeats: dict[str, list[dict]] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)


def _read_csv(handle: io.BufferedIOBase | Path) -> pd.DataFrame:
    data = handle.read_bytes() if isinstance(handle, Path) else handle.read()
    text = data.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text[: 64 * 1024], delimiters=",;\t")
    return pd.read_csv(io.StringIO(text), sep=dialect.delimiter, dtype=str, keep_default_na=False)


def _read_zip(path: Path) -> Export:
    """Central's `.csv.zip`: the table without PARENT_KEY is the main one; the others are repeats."""
    with zipfile.ZipFile(path) as archive:
        tables = {
            name: _read_csv(archive.open(name))
            for name in archive.namelist()
            if name.lower().endswith(".csv") and not name.startswith("media/")
        }
        media = {
            PurePosixPath(name).name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("media/") and not name.endswith("/")
        }
    mains = [name for name, table in tables.items() if "PARENT_KEY" not in table.columns]
    if len(mains) != 1:
        raise ImportRowError(
            f"{path.name}: expected one main table (a .csv without PARENT_KEY) in the archive, found {len(mains)}: {', '.join(mains) or 'none'}"
        )
    repeats: dict[str, list[dict]] = {}
    for name, table in tables.items():
        if name == mains[0]:
            continue
        for row in table.to_dict("records"):
            root = str(row.get("PARENT_KEY", "")).split("/", 1)[0]
            repeats.setdefault(root, []).append({"_repeat": PurePosixPath(name).stem, **row})
    return Export(tables[mains[0]], repeats, media)


def _read_xlsx(path: Path) -> Export:
    """Kobo's XLSX: the first sheet is the main table; each later sheet a repeat group whose rows name their
    submission's `_index` in `_parent_index` (formpack's `export.py`)."""
    sheets = pd.read_excel(path, sheet_name=None, dtype=object, keep_default_na=False)
    tables = {name: frame.astype(object).where(frame.notna(), "") for name, frame in sheets.items()}
    names = list(tables)
    repeats: dict[str, list[dict]] = {}
    for name in names[1:]:
        if "_parent_index" not in tables[name].columns:
            continue
        for row in tables[name].to_dict("records"):
            repeats.setdefault(f"_index:{row['_parent_index']}", []).append({"_repeat": name, **row})
    return Export(tables[names[0]], repeats)


def read_export(path: Path) -> Export:
    """An export file as its tables ("" for empty cells); raises ImportRowError for unreadable files."""
    path = Path(path)
    name = path.name.lower()
    suffix = ".csv.zip" if name.endswith(".csv.zip") else path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path)
        if suffix == ".csv":
            return Export(_read_csv(path))
        if suffix in (".csv.zip", ".zip"):
            return _read_zip(path)
    except (ValueError, csv.Error, UnicodeDecodeError, OSError, zipfile.BadZipFile, KeyError) as error:
        # The reason without the file's place on the server (an uploaded file lives in a temporary folder).
        reason = str(error).replace(str(path), path.name).replace(str(path.parent), "…")
        raise ImportRowError(f"{path.name} cannot be read as {suffix[1:].upper()} ({reason})") from None
    raise ImportRowError(f"{path.name}: only .csv, .xlsx and ODK Central's .csv.zip exports can be imported")


def _attachments(row: Mapping[str, object], mapping: FormMapping, media: Mapping[str, bytes]) -> list[Attachment]:
    """The media files a row's file questions name, when the archive carries them."""
    names = {
        str(value)
        for key, value in row.items()
        if key in mapping.fields and mapping.fields[key].type == "binary" and value
    }
    return [Attachment(name, media[name], mimetypes.guess_type(name)[0]) for name in sorted(names) if name in media]


def import_file(
    store: Store,
    path: Path,
    form_id: str,
    version: str | None = None,
    source: str = "file",
    progress: Callable[[int, int], None] | None = None,
    kobo_versions: Mapping[str, str] | None = None,
) -> FileImport:
    """Import an export file onto the fields of a published form, all rows or none.

    `version` is recorded for rows without a `FormVersion` column (default: the latest published version);
    `kobo_versions` maps Kobo's `__version__` ids to versions published here (needed when a Kobo export mixes
    several). `progress(done, total)` is called per row. Row numbers in errors are the spreadsheet's (header = 1).
    """
    form = store.form_version(form_id, version)
    mapping = FormMapping(
        form_id, form.version, read_xform(store.form_xml(form_id, form.version)).fields(), source, kobo_versions
    )
    export = read_export(path)
    frame = export.main.rename(columns=mapping.header_names([str(c) for c in export.main.columns]))
    _check_kobo_versions(frame, mapping)
    total = len(frame)

    def records():
        for number, row in enumerate(frame.to_dict("records"), start=2):
            key = str(row["KEY"]) if row.get("KEY") else f"_index:{row.get('_index', '')}"
            yield mapping.record(row, number, export.repeats.get(key, ()), _attachments(row, mapping, export.media))

    summary = store.import_records(records(), progress=None if progress is None else lambda done: progress(done, total))
    return FileImport(summary, mapping.unmatched(list(frame.columns)))


def _check_kobo_versions(frame: pd.DataFrame, mapping: FormMapping) -> None:
    """A Kobo export with rows of several deployments needs the map, or the version-drift check goes blind."""
    if "__version__" not in frame.columns or "FormVersion" in frame.columns:
        return
    versions = sorted(set(frame["__version__"].astype(str)) - {""})
    unmapped = [v for v in versions if v not in (mapping.kobo_versions or {})]
    if len(versions) > 1 and unmapped:
        raise ImportRowError(
            f"la exportación de Kobo mezcla {len(versions)} despliegues ({', '.join(versions)}); indique a qué versión del formulario corresponde cada uno "
            f"con --kobo-version KOBO=VERSIÓN / the Kobo export mixes {len(versions)} deployments ({', '.join(versions)}): map each to a form version "
            "with --kobo-version KOBO=VERSION (nothing was imported)"
        )
