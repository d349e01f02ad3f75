"""Compile the XLSForms in `forms/` into XForms that phones and servers can use.

One call turns a coordinator's spreadsheet into everything a client needs: the XForm XML (pyxform), checked by
ODK Validate (the javarosa validator bundled with pyxform, so the form that passes here also opens in ODK Collect
and KoboCollect), and the form's media files (e.g. `neighbourhoods.csv` for `select_one_from_file`) copied next
to it in ODK's usual layout::

    _build/forms/sdg16_perception.xml
    _build/forms/sdg16_perception-media/neighbourhoods.csv
    _build/forms/sdg16_perception.build.json     (what was built from which inputs: the cache stamp)

Why a stamp: ODK Validate starts a JVM (about a second), and the collection server and the tests build on every
start. A build is skipped when the xlsx bytes, every media file's bytes, the pyxform version and the validation
flag are the same as in the stamp; the stamp is written last, so an interrupted build is simply redone.

Media files are looked up first next to the xlsx, then in `data/` at the repository root, where the project keeps
its single neighbourhood list (the same file `analysis` reads for strata and margins).

Public API (used by `sdg16 forms build`, the collection server and the tests):

- `build_form(xlsx_path, out_dir=BUILD_DIR, validate=True) -> BuiltForm`
- `build_all(forms_dir=FORMS_DIR, out_dir=BUILD_DIR, validate=True) -> list[BuiltForm]` (`xlsform_paths` lists them)
- `FormBuildError`: raised with pyxform's or ODK Validate's own message (pyxform names the sheet and row).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pyxform
from pyxform.errors import PyXFormError
from pyxform.validators.odk_validate import ODKValidateError
from pyxform.xls2xform import convert

from forms.paths import BUILD_DIR, DATA_DIR, FORMS_DIR

# The questionnaire this project ships; the default analysis plan and the dashboard are written for it.
SHIPPED_FORM_ID = "sdg16_perception"

XHTML, XFORMS = "{http://www.w3.org/1999/xhtml}", "{http://www.w3.org/2002/xforms}"
# Attachments an XForm can reference; ODK clients fetch each as a media file listed in the manifest.
MEDIA_REF = re.compile(r"jr://(?:file|file-csv|images|audio|video)/([^\s\"'<>]+)")
STAMP_FORMAT = 1


class FormBuildError(Exception):
    """An XLSForm that does not compile, fails ODK Validate, or lacks a media file.

    The message starts with the xlsx file name and then carries the tool's own text unchanged, because pyxform's
    messages already say what a coordinator must fix ("[row : 12] On the 'survey' sheet, ...").
    """

    def __init__(self, xlsx_path: Path, message: str):
        super().__init__(f"{xlsx_path.name}: {message}")
        self.xlsx_path = xlsx_path
        self.message = message


@dataclass(frozen=True)
class MediaFile:
    """One form attachment as an OpenRosa manifest lists it: file name, where the built copy is, its md5."""

    name: str
    path: Path
    md5: str


@dataclass(frozen=True)
class BuiltForm:
    """A compiled form: identity from the settings sheet, the files on disk, and the checks it passed.

    `xform_path` and every `media[i].path` live under the build folder; `xlsx_path` is the source spreadsheet
    (served as-is to KoboToolbox / ODK Central uploads). `validated` says whether ODK Validate accepted it.
    """

    form_id: str
    version: str
    title: str
    xlsx_path: Path
    xform_path: Path
    media: tuple[MediaFile, ...]
    warnings: tuple[str, ...]
    validated: bool

    @property
    def xform_bytes(self) -> bytes:
        return self.xform_path.read_bytes()

    @property
    def xlsx_bytes(self) -> bytes:
        return self.xlsx_path.read_bytes()

    @property
    def xform_md5(self) -> str:
        """The hex md5 that an OpenRosa formList announces as `md5:<hash>` (clients re-download on change)."""
        return hashlib.md5(self.xform_bytes).hexdigest()


def xlsform_paths(forms_dir: Path = FORMS_DIR) -> list[Path]:
    """The XLSForms in `forms_dir`, sorted by name.

    Excel's lock files (`~$name.xlsx`, present while a coordinator has the form open) are not forms.
    """
    return sorted(p for p in Path(forms_dir).glob("*.xlsx") if not p.name.startswith("~$"))


def build_all(forms_dir: Path = FORMS_DIR, out_dir: Path = BUILD_DIR, validate: bool = True) -> list[BuiltForm]:
    """Build every XLSForm in `forms_dir` (see `xlsform_paths`), stopping at the first broken form."""
    return [build_form(p, out_dir, validate=validate) for p in xlsform_paths(forms_dir)]


def build_form(xlsx_path: Path, out_dir: Path = BUILD_DIR, validate: bool = True) -> BuiltForm:
    """Compile one XLSForm into `out_dir`, or return the previous build if none of its inputs changed.

    Raises `FormBuildError` when pyxform rejects the spreadsheet, ODK Validate rejects the XForm (only with
    `validate=True`; needs Java), or a media file the form references cannot be found.
    """
    xlsx_path = Path(xlsx_path).resolve()
    out_dir = Path(out_dir)
    stamp_path = out_dir / f"{xlsx_path.stem}.build.json"
    cached = _load_if_current(stamp_path, xlsx_path, validate)
    if cached is not None:
        return cached

    xlsx_hash = _sha256(xlsx_path)  # before compiling: if the file changes meanwhile, the next build redoes it
    warnings: list[str] = []
    try:
        result = convert(xlsform=str(xlsx_path), warnings=warnings, validate=validate, pretty_print=True)
    except (PyXFormError, ODKValidateError, OSError) as err:  # OSError: pyxform's "Java could not be found"
        raise FormBuildError(xlsx_path, str(err)) from err

    out_dir.mkdir(parents=True, exist_ok=True)
    xform_path = out_dir / f"{xlsx_path.stem}.xml"
    media_dir = out_dir / f"{xlsx_path.stem}-media"
    _write_atomic(xform_path, result.xform.encode("utf-8"))
    media, media_hashes = _copy_media(xlsx_path, result.xform, result.itemsets, media_dir)

    form_id, version, title = _identity(result.xform)
    built = BuiltForm(
        form_id=form_id,
        version=version,
        title=title,
        xlsx_path=xlsx_path,
        xform_path=xform_path,
        media=media,
        warnings=tuple(warnings),
        validated=validate,
    )
    _write_stamp(stamp_path, built, {"": xlsx_hash, **media_hashes})
    return built


def _identity(xform: str) -> tuple[str, str, str]:
    """form_id, version and title as the XForm itself states them (what an OpenRosa server announces)."""
    root = ET.fromstring(xform.encode("utf-8"))
    title = root.find(f"{XHTML}head/{XHTML}title")
    instance = root.find(f"{XHTML}head/{XFORMS}model/{XFORMS}instance")[0]
    return instance.get("id", ""), instance.get("version", ""), (title.text or "") if title is not None else ""


def _copy_media(
    xlsx_path: Path, xform: str, itemsets: str | None, media_dir: Path
) -> tuple[tuple[MediaFile, ...], dict[str, str]]:
    """Copy each file the XForm references into `media_dir` (pyxform's generated itemsets.csv is written there).

    Returns the copies and the sha256 of each source file as read, for the stamp (see `_input_hashes`).
    """
    names = sorted(set(MEDIA_REF.findall(xform)))
    if media_dir.is_dir():
        for stale in media_dir.iterdir():  # a file the form no longer references must not stay in its manifest
            if stale.name not in names:
                stale.unlink(missing_ok=True)
    if names:
        media_dir.mkdir(parents=True, exist_ok=True)
    media, hashes = [], {}
    for name in names:
        if name == "itemsets.csv" and itemsets is not None:
            data = itemsets.encode("utf-8")
        else:
            data = _find_media(xlsx_path, name).read_bytes()
            hashes[name] = hashlib.sha256(data).hexdigest()
        _write_atomic(media_dir / name, data)
        media.append(MediaFile(name=name, path=media_dir / name, md5=hashlib.md5(data).hexdigest()))
    return tuple(media), hashes


def _find_media(xlsx_path: Path, name: str) -> Path:
    """Where a referenced media file lives: beside the xlsx first (a form's own file), then the shared `data/`."""
    candidates = [xlsx_path.parent / name, DATA_DIR / name]
    for path in candidates:
        if path.is_file():
            return path
    searched = ", ".join(str(p.parent) for p in candidates)
    raise FormBuildError(xlsx_path, f"media file '{name}' is referenced by the form but was not found in: {searched}")


def _input_hashes(xlsx_path: Path, media_names: list[str]) -> dict[str, str]:
    """sha256 of the xlsx (key "") and of the named media source files: the inputs a build depends on.

    A generated itemsets.csv is not among them: it comes from the xlsx, so the xlsx's hash covers it.
    """
    return {"": _sha256(xlsx_path), **{name: _sha256(_find_media(xlsx_path, name)) for name in media_names}}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_stamp(stamp_path: Path, built: BuiltForm, inputs: dict[str, str]) -> None:
    stamp = {
        "format": STAMP_FORMAT,
        "pyxform": pyxform.__version__,
        "validated": built.validated,
        "inputs": inputs,
        "form_id": built.form_id,
        "version": built.version,
        "title": built.title,
        "warnings": list(built.warnings),
        "media": [{"name": m.name, "md5": m.md5} for m in built.media],
    }
    _write_atomic(stamp_path, json.dumps(stamp, ensure_ascii=False, indent=2).encode("utf-8"))


def _load_if_current(stamp_path: Path, xlsx_path: Path, validate: bool) -> BuiltForm | None:
    """The previous build, if its stamp matches today's inputs and its output files are still there."""
    try:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        if stamp["format"] != STAMP_FORMAT or stamp["pyxform"] != pyxform.__version__:
            return None
        if validate and not stamp["validated"]:
            return None
        if stamp["inputs"] != _input_hashes(xlsx_path, [name for name in stamp["inputs"] if name]):
            return None
    except (OSError, ValueError, KeyError, FormBuildError):
        return None
    out_dir = stamp_path.parent
    xform_path = out_dir / f"{xlsx_path.stem}.xml"
    media = tuple(
        MediaFile(name=m["name"], path=out_dir / f"{xlsx_path.stem}-media" / m["name"], md5=m["md5"])
        for m in stamp["media"]
    )
    if not xform_path.is_file() or not all(m.path.is_file() for m in media):
        return None
    return BuiltForm(
        form_id=stamp["form_id"],
        version=stamp["version"],
        title=stamp["title"],
        xlsx_path=xlsx_path,
        xform_path=xform_path,
        media=media,
        warnings=tuple(stamp["warnings"]),
        validated=stamp["validated"],
    )


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a server reading the build never sees half a file."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
