"""Publishing forms into the store: the shipped XLSForms (built by `forms.build`) or any XLSForm file.

A published version keeps its XLSForm, its XForm bytes exactly as phones will download them, and its media files;
old versions stay, so a phone that has not updated yet still lands its submissions.
"""

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


def publish_shipped_forms(store: Store, forms_dir: Path = FORMS_DIR, validate: bool = True) -> list[FormVersion]:
    """Build and publish every XLSForm shipped in `forms/` (the server does this on start; idempotent).

    An XLSForm changed without a new version raises `Conflict`: bump the version in its settings sheet.
    """
    return [publish_built(store, built) for built in build_all(forms_dir, validate=validate)]
