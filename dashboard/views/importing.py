"""Import (coordinators): bring in a KoboToolbox or ODK Central export file, all rows or none.

collect.importers.file does the work in one transaction; this page uploads, shows a progress bar and reports.
An error names the spreadsheet row and nothing of the file is kept, so the coordinator fixes it and uploads again.
"""

import tempfile
from pathlib import Path

import streamlit as st

from collect.errors import CollectError
from collect.importers.file import import_file
from dashboard import data, signin

SOURCES = {"kobo": "KoboToolbox", "odk-central": "ODK Central", "file": "Other (same column layout)"}


def render() -> None:
    signin.require("admin", "coordinator")
    st.title("Import")
    st.markdown(
        "Upload an export of this questionnaire from **KoboToolbox** (*XLS* or *CSV*, with *XML values and "
        "headers*) or **ODK Central** (*Submissions CSV*). Rows are matched by instanceID, so importing the same "
        "file twice adds nothing. If a row is wrong, the error names it and **nothing** of the file is kept."
    )
    forms = data.store().latest_forms()
    if not forms:
        st.info("No form is published on this server yet: exports are mapped onto a published form's fields.")
        return
    with st.form("import"):
        form_id = st.selectbox("Questionnaire", [f.form_id for f in forms])
        source = st.radio("Exported from", list(SOURCES), format_func=SOURCES.get, horizontal=True)
        upload = st.file_uploader("Export file (CSV, XLSX or ODK Central .csv.zip)", type=["csv", "xlsx", "zip"])
        submitted = st.form_submit_button("Import", type="primary")
    if submitted and upload is not None:
        _import(upload, form_id, source)
    st.caption("From the command line, also straight from the servers' APIs: `sdg16 import file|central|kobo …`.")


def _import(upload, form_id: str, source: str) -> None:
    bar = st.progress(0.0, text=f"Importing {upload.name}…")
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
            st.error(f"{upload.name}: {error}. Nothing was imported.")
            return
    data.changed()
    bar.progress(1.0, text="Done")
    summary = result.summary
    st.success(
        f"{upload.name}: {summary.added:,} submissions added, {summary.unchanged:,} already stored, {summary.reviews:,} review states taken."
    )
    if result.ignored_columns:
        st.warning("Columns that match no field of the form (not imported): " + ", ".join(result.ignored_columns))


if __name__ == "__main__":
    render()
