"""Publishing forms into the store: the shipped XLSForms (built by `forms.build`) or any XLSForm file.

A published version keeps its XLSForm, its XForm bytes exactly as phones will download them, and its media files;
old versions stay, so a phone that has not updated yet still lands its submissions.
"""

import logging
import shutil
from pathlib import Path

from collect.store import FormVersion, Store
from forms.build import BUILD_DIR, FORMS_DIR, BuiltForm, build_all, build_form


def publish_built(store: Store, built: BuiltForm) -> FormVersion:
    """Store one built form (xlsx, XForm, media) as a form version; publishing the same build twice is a no-op."""
    media = {file.name: file.path.read_bytes() for file in built.media}
    return store.publish_form(built.xform_bytes, xlsform=built.xlsx_bytes, media=media)


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
