"""Downloads (researchers): tidy estimates (CSV, XLSX with metadata, SDMX-CSV), weighted de-identified
microdata (CSV, Stata, SPSS with labels), the codebook and the methods note.

The files are written by analysis.export and forms.codebook; this page only hands them over. Each file is made
when its button is clicked (Streamlit runs the callable then), so opening the page costs nothing.
Microdata come at two levels (analysis.export): the researcher level (no direct identifiers, disclosure control
with its k-anonymity report) for every role that may download, and full detail for admins only, after they state
a reason and tick the choice; each full-detail file made is logged (collect.access_log) when it is made.
"""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis import export
from analysis.errors import AnalysisError
from analysis.methods import methods_note
from analysis.pipeline import Result
from analysis.recode import derived_choices
from collect.access_log import record_full_download
from dashboard import data, demo, freshness, signin
from forms.choices import read_form_choices, read_form_fields
from forms.codebook import codebook_frame

MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".dta": "application/x-stata-dta",
    ".sav": "application/x-spss-sav",
    ".md": "text/markdown",
}


def render() -> None:
    user = signin.require("admin", "coordinator", "researcher")
    st.title("Downloads")
    if freshness.first_snapshot_pending():
        return
    result = data.estimates()
    if result is None or isinstance(result, AnalysisError):
        st.info(
            "Nothing to download yet: the Estimates page says why." if result is not None else "No submissions yet."
        )
        return
    prefix = "SYNTHETIC-demo-" if _synthetic() else ""
    st.subheader("Estimates")
    st.caption(f"{len(result.estimates):,} rows: every indicator × breakdown, with SE, CI, deff, n, flags.")
    _button("Tidy table (CSV)", lambda: _table_file(result, ".csv"), f"{prefix}sdg16-estimates.csv")
    _button(
        "Tidy table with metadata sheets (XLSX)", lambda: _table_file(result, ".xlsx"), f"{prefix}sdg16-estimates.xlsx"
    )
    _button(
        "SDMX-CSV (SDG series, for UN SDG data exchange)",
        lambda: _table_file(result, ".csv", sdmx=True),
        f"{prefix}sdg16-estimates-sdmx.csv",
    )
    st.subheader("Weighted microdata (researcher level, disclosure control)")
    st.caption(
        "One row per respondent with the final weight; names, GPS, device ids, free text, timestamps and "
        "instance ids removed; volunteers coded V001…; age in bands, interview month not day, blocks as "
        "arbitrary cluster codes, rare categories top-coded, k-anonymity checked (report below); "
        "select-multiple answers also as 0/1 columns; labels from the XLSForm in Stata (R reads it too)/SPSS."
    )
    for label, suffix in (("CSV", ".csv"), ("Stata (.dta)", ".dta"), ("SPSS (.sav)", ".sav")):
        _button(label, lambda suffix=suffix: _microdata_file(result, suffix), f"{prefix}sdg16-microdata{suffix}")
    _button(
        "Disclosure report (Markdown)",
        lambda: export.metadata_text(_researcher(result)[1]).encode("utf-8"),
        f"{prefix}sdg16-microdata-metadata.md",
    )
    if user.role == "admin":
        _full_detail(result, user.username, prefix)
    st.subheader("Documentation")
    _button("Codebook (CSV)", _codebook, "sdg16-codebook.csv")
    _button("Methods note (Markdown)", lambda: note(result).encode("utf-8"), f"{prefix}sdg16-methods.md")
    with st.expander("Read the methods note"):
        st.markdown(note(result))


def _button(label: str, make, file_name: str) -> None:
    st.download_button(
        label,
        make,
        file_name,
        MIME[Path(file_name).suffix],
        icon=":material/download:",
        on_click="ignore",
        key=f"download_{file_name}",
    )


def _synthetic() -> bool:
    return demo.demo_round(data.store()) is not None


def note(result: Result) -> str:
    return methods_note(data.plan(), result, synthetic=_synthetic())


def _written(write, suffix: str) -> bytes:
    """Run an analysis writer that takes a path, and return the file's bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out{suffix}"
        write(path)
        return path.read_bytes()


def _table_file(result: Result, suffix: str, sdmx: bool = False) -> bytes:
    metadata = None
    if suffix in (".xlsx", ".csv"):  # the CSV carries the sample statement in a column
        metadata = export.table_metadata(
            data.plan(),
            result,
            data.margins_assumption(),
            methods=note(result),
            synthetic="YES: generated demo round" if _synthetic() else "no",
        )
    return _written(
        lambda path: export.write_table(result.estimates, path, metadata=metadata, sdmx_csv=sdmx, plan=data.plan()),
        suffix,
    )


def _choices() -> pd.DataFrame:
    return pd.concat([read_form_choices(data.plan().form), derived_choices()], ignore_index=True)


def _researcher(result: Result) -> tuple[pd.DataFrame, dict[str, str]]:
    plan = data.plan()
    return export.researcher_microdata(
        result.microdata, read_form_fields(plan.form), _choices(), keep=tuple(c for c in [plan.design.psu] if c)
    )


def _microdata_file(result: Result, suffix: str, full_for: tuple[str, str] | None = None) -> bytes:
    """The microdata file; `full_for` = (user, reason) makes the full-detail file and logs that it was made."""
    fields = read_form_fields(data.plan().form)
    if full_for is None:
        frame, metadata = _researcher(result)
    else:
        frame, metadata = export.full_microdata(result.microdata, fields, _choices())
        record_full_download(*full_for, f"microdata{suffix}", len(frame), "dashboard")
    label = metadata["microdata_level"]
    return _written(lambda path: export.write_microdata(frame, path, _choices(), fields, file_label=label), suffix)


def _full_detail(result: Result, username: str, prefix: str) -> None:
    """Admins only: identifiable microdata after a stated reason and an explicit choice; every file made is logged."""
    with st.expander("Full detail with identifiers (admins only, logged)"):
        st.warning(
            "These files identify respondents (exact age, dates, blocks, GPS, device ids, free text). "
            "Keep them off shared drives and e-mail; every download is logged with your name and reason."
        )
        reason = st.text_input("Reason (logged)", key="full_detail_reason")
        chosen = st.checkbox("I need full detail and take responsibility for protecting it", key="full_detail_choice")
        if not (chosen and reason.strip()):
            st.caption("State a reason and tick the box to get the files.")
            return
        for label, suffix in (("Full CSV", ".csv"), ("Full Stata (.dta)", ".dta"), ("Full SPSS (.sav)", ".sav")):
            _button(
                label,
                lambda suffix=suffix: _microdata_file(result, suffix, (username, reason)),
                f"{prefix}sdg16-microdata-FULL{suffix}",
            )


def _codebook() -> bytes:
    return codebook_frame(data.plan().form).to_csv(index=False).encode("utf-8")


if __name__ == "__main__":
    render()
