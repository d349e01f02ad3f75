"""Import (coordinators): bring in a KoboToolbox or ODK Central export file, all rows or none.

collect.importers.file does the work in one transaction; this page uploads, shows a progress bar and reports.
An error names the spreadsheet row and nothing of the file is kept, so the coordinator fixes it and uploads again.
"""

import tempfile
from pathlib import Path

import streamlit as st

from collect.errors import CollectError
from collect.importers.file import import_file
from dashboard import data, safe, signin
from dashboard.i18n import N_, _

SOURCES = {"kobo": N_("KoboToolbox"), "odk-central": N_("ODK Central"), "file": N_("Other (same column layout)")}


def render() -> None:
    signin.require("admin", "coordinator")
    st.title(_("Import"))
    st.markdown(
        _(
            "Upload an export of this questionnaire from **KoboToolbox** (*XLS* or *CSV*, with *XML values and "
            "headers*) or **ODK Central** (*Submissions CSV*). Rows are matched by instanceID, so importing the same "
            "file twice adds nothing. If a row is wrong, the error names it and **nothing** of the file is kept."
        )
    )
    forms = data.store().latest_forms()
    if not forms:
        st.info(_("No form is published on this server yet: exports are mapped onto a published form's fields."))
        return
    with st.form("import"):
        form_id = st.selectbox(_("Questionnaire"), [f.form_id for f in forms])
        sources = {key: _(name) for key, name in SOURCES.items()}
        source = st.radio(_("Exported from"), list(SOURCES), format_func=sources.get, horizontal=True)
        upload = st.file_uploader(_("Export file (CSV, XLSX or ODK Central .csv.zip)"), type=["csv", "xlsx", "zip"])
        submitted = st.form_submit_button(_("Import"), type="primary")
    if submitted and upload is not None:
        _import(upload, form_id, source)
    st.caption(_("From the command line, also straight from the servers' APIs: `sdg16 import file|central|kobo …`."))


def _import(upload, form_id: str, source: str) -> None:
    bar = st.progress(0.0, text=_("Importing {name}…").format(name=safe.text(upload.name)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            result = import_file(
                data.store(),
                path,
                form_id,
                source=source,
                progress=lambda done, total: bar.progress(done / max(total, 1)),
            )
        except CollectError as error:
            bar.empty()
            st.error(
                _("{name}: {error}. Nothing was imported.").format(
                    name=safe.text(upload.name), error=safe.error_text(error)
                )
            )
            return
    data.changed()
    bar.progress(1.0, text=_("Done"))
    summary = result.summary
    st.success(
        _("{name}: {added:,} submissions added, {unchanged:,} already stored, {reviews:,} review states taken.").format(
            name=safe.text(upload.name), added=summary.added, unchanged=summary.unchanged, reviews=summary.reviews
        )
    )
    if result.ignored_columns:
        st.warning(
            _("Columns that match no field of the form (not imported): {columns}").format(
                columns=safe.text(", ".join(result.ignored_columns))
            )
        )


if __name__ == "__main__":
    render()
