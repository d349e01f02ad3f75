"""Publishing forms into the store: the shipped XLSForms (built by `forms.build`) or any XLSForm file.

A published version keeps its XLSForm, its XForm bytes exactly as phones will download them, and its media files;
old versions stay, so a phone that has not updated yet still lands its submissions.
"""

import csv
import hashlib
import io
import logging
import re
import shutil
from pathlib import Path

from collect.errors import SamplePlanError
from collect.store import FormVersion, Store
from forms.build import (
    BUILD_DIR,
    FORMS_DIR,
    SHIPPED_FORM_ID,
    BuiltForm,
    build_all,
    build_form,
)

BLOCKS = "blocks.csv"  # the round's selected blocks (analysis.sampling), the form's select_one_from_file list
# What the form and the volunteers' assignments read of it (analysis.sampling.BLOCK_COLUMNS writes these and the
# dwelling numbers and certainty flags, which stay with the sample plan; collect does not import analysis).
FORM_BLOCK_COLUMNS = (
    "name",
    "label",
    "neighbourhood",
    "district",
    "prob_block",
    "dwellings",
    "take",
    "interval",
    "start",
    "volunteer",
)


def publish_built(store: Store, built: BuiltForm) -> FormVersion:
    """Store one built form (xlsx, XForm, media) as a form version; publishing the same build twice is a no-op.

    A form that lists blocks.csv gets the round's plan when a coordinator published one (`publish_sample`), not the
    shipped file: a new questionnaire version keeps the blocks volunteers are walking."""
    media = {file.name: file.path.read_bytes() for file in built.media}
    plan = store.get_setting(_plan_key(built.form_id))
    if BLOCKS in media and plan is not None:
        media[BLOCKS] = plan.encode("utf-8")
    return store.publish_form(built.xform_bytes, xlsform=built.xlsx_bytes, media=media)


def publish_sample(store: Store, blocks: bytes, form_id: str = SHIPPED_FORM_ID) -> FormVersion:
    """Publish a new sample plan's blocks.csv with the form phones download now, replacing the previous one.

    ODK Collect and KoboCollect fetch media when the form changes, and an OpenRosa server may not change a published
    version's files (phones holding it would disagree), so the plan goes out as a new version of the same XForm:
    version `<current base>-plan-<md5 of blocks.csv, 8 hex>` (text order keeps it after its base version and
    before the next questionnaire release). Publishing the same plan again is a no-op. The plan is also kept as a
    server setting, so that the next questionnaire version is published with it (`publish_built`).
    """
    _check_blocks(blocks)
    latest = store.form_version(form_id)
    names = {m.filename: m.md5 for m in latest.media}
    if BLOCKS not in names:
        raise SamplePlanError(
            f"el formulario {form_id!r} no usa {BLOCKS} / form {form_id!r} has no {BLOCKS} media "
            "file: publish the questionnaire with the visit section first"
        )
    digest = hashlib.md5(blocks).hexdigest()
    store.put_setting(_plan_key(form_id), blocks.decode("utf-8"))
    if names[BLOCKS] == digest:
        return latest
    version = f"{latest.version.split('-plan-')[0]}-plan-{digest[:8]}"
    xform = _with_version(store.form_xml(form_id), version)
    media = {name: store.media_file(form_id, latest.version, name) for name in names}
    media[BLOCKS] = blocks
    return store.publish_form(xform, xlsform=store.form_xlsform(form_id), media=media)


def _plan_key(form_id: str) -> str:
    return f"sample_blocks:{form_id}"[:64]


def _check_blocks(blocks: bytes) -> None:
    """A blocks.csv the form can use: UTF-8, the contract's columns, at least one block, unique names."""
    try:
        rows = list(csv.DictReader(io.StringIO(blocks.decode("utf-8-sig"))))
    except UnicodeDecodeError:
        raise SamplePlanError("blocks.csv debe estar en UTF-8 / must be UTF-8") from None
    header = set(rows[0]) if rows else set()
    missing = [c for c in FORM_BLOCK_COLUMNS if c not in header]
    if not rows or missing:
        raise SamplePlanError(
            f"blocks.csv sin bloques o sin columnas / has no blocks or lacks columns "
            f"{', '.join(missing) or '(rows)'}: make it with `sdg16 sample plan`"
        )
    names = [r["name"] for r in rows]
    if len(set(names)) != len(names):
        raise SamplePlanError("blocks.csv repite manzanas / lists a block twice")


def _with_version(xform: bytes, version: str) -> bytes:
    """The XForm with its primary instance's version attribute set (the first element inside <instance>)."""
    match = re.search(rb"<instance>\s*<([^\s>/]+)([^>]*)>", xform)
    if match is None or b'version="' not in match.group(2):
        raise SamplePlanError("the published XForm has no versioned primary instance")
    tag = re.sub(rb'version="[^"]*"', b'version="' + version.encode() + b'"', match.group(0), count=1)
    return xform[: match.start()] + tag + xform[match.end() :]


def publish_xlsform(store: Store, xlsx_path: Path, out_dir: Path = BUILD_DIR, validate: bool = True) -> FormVersion:
    """Build an XLSForm (pyxform, ODK Validate) and publish it."""
    return publish_built(store, build_form(Path(xlsx_path), out_dir, validate=validate))


log = logging.getLogger(__name__)


def publish_shipped_forms(store: Store, forms_dir: Path = FORMS_DIR, validate: bool | None = None) -> list[FormVersion]:
    """Build and publish every XLSForm shipped in `forms/` (the server does this on start; idempotent).

    `validate=None` runs ODK Validate when Java is installed; without Java the server still starts (the shipped
    forms are validated in CI), with a warning. An XLSForm changed without a new version raises `Conflict`:
    bump the version in its settings sheet.
    """
    if validate is None:
        validate = shutil.which("java") is not None
        if not validate:
            log.warning("Java not found: publishing the shipped forms without ODK Validate")
    return [publish_built(store, built) for built in build_all(forms_dir, validate=validate)]
