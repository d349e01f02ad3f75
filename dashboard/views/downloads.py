"""Downloads (researchers): tidy estimates (CSV, XLSX with metadata, SDMX-CSV), weighted de-identified
microdata (CSV, Stata, SPSS with labels), the codebook and the methods note.

The files are written by analysis.export and forms.codebook; this page only hands them over. Each file is made
when its button is clicked (Streamlit runs the callable then), so opening the page costs nothing.
Researchers get microdata under disclosure control (analysis.disclosure); full detail is for admins only, after a
stated reason and an explicit choice, and every such file is logged (collect.access_log).
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
from dashboard import data, demo, freshness, i18n, safe, signin
from dashboard.i18n import N_, _
from forms.choices import read_form_choices, read_form_fields
from forms.codebook import codebook_frame

SYNTHETIC = {True: N_("YES: generated demo round"), False: N_("no")}  # the XLSX metadata's "synthetic" row
FILE_NAMES = {
    "estimates": N_("sdg16-estimates"),
    "sdmx": N_("sdg16-estimates-sdmx"),
    "microdata": N_("sdg16-microdata"),
    "codebook": N_("sdg16-codebook"),
    "methods": N_("sdg16-methods"),
}
MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".dta": "application/x-stata-dta",
    ".sav": "application/x-spss-sav",
    ".md": "text/markdown",
}


def render() -> None:
    user = signin.require("admin", "coordinator", "researcher")
    st.title(_("Downloads"))
    if freshness.first_snapshot_pending():
        return
    result = data.estimates()
    if result is None or isinstance(result, AnalysisError):
        st.info(
            _("Nothing to download yet: the Estimates page says why.")
            if result is not None
            else _("No submissions yet.")
        )
        return
    prefix = _("SYNTHETIC-demo-") if _synthetic() else ""
    names = {kind: prefix + _(name) for kind, name in FILE_NAMES.items()}
    st.subheader(_("Estimates"))
    st.caption(
        _("{n:,} rows: every indicator × breakdown, with SE, CI, deff, n, flags.").format(n=len(result.estimates))
    )
    language = i18n.current()  # files are made when clicked, maybe outside this run: they take the language now
    _button(_("Tidy table (CSV)"), lambda: _table_file(result, ".csv"), names["estimates"] + ".csv")
    _button(
        _("Tidy table with metadata sheets (XLSX)"),
        lambda: _table_file(result, ".xlsx", language=language),
        names["estimates"] + ".xlsx",
    )
    _button(
        _("SDMX-CSV (SDG series, for UN SDG data exchange)"),
        lambda: _table_file(result, ".csv", sdmx=True),
        names["sdmx"] + ".csv",
    )
    st.subheader(_("Weighted microdata (researcher level, disclosure control)"))
    st.caption(
        _(
            "One row per respondent with the final weight; names, GPS, device ids, free text, timestamps and "
            "instance ids removed; volunteers coded V001…; age in bands, interview month not day, blocks as "
            "arbitrary cluster codes, rare categories top-coded, k-anonymity checked (report below); "
            "select-multiple answers also as 0/1 columns; labels from the XLSForm in Stata (R reads it too)/SPSS."
        )
    )
    for label, suffix in ((N_("CSV"), ".csv"), (N_("Stata (.dta)"), ".dta"), (N_("SPSS (.sav)"), ".sav")):
        _button(_(label), lambda suffix=suffix: _microdata_file(result, suffix), names["microdata"] + suffix)
    _button(
        _("Disclosure report (Markdown)"),
        lambda: export.metadata_text(_researcher(result)[1]).encode("utf-8"),
        names["microdata"] + "-metadata.md",
    )
    if user.role == "admin":
        _full_detail(result, user.username, names["microdata"])
    st.subheader(_("Documentation"))
    _button(_("Codebook (CSV)"), _codebook, _(FILE_NAMES["codebook"]) + ".csv")
    _button(_("Methods note (Markdown)"), lambda: note(result, language).encode("utf-8"), names["methods"] + ".md")
    with st.expander(_("Read the methods note")):
        st.markdown(note(result, language))


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


def note(result: Result, language: str = i18n.DEFAULT) -> str:
    written = methods_note(data.plan(), result, synthetic=_synthetic(), language=language)
    user = signin.current_user()  # None when a file is made outside a page run: masked, the safe side
    return safe.for_role(written, user.role if user else "researcher")


def _written(write, suffix: str) -> bytes:
    """Run an analysis writer that takes a path, and return the file's bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out{suffix}"
        write(path)
        return path.read_bytes()


def _table_file(result: Result, suffix: str, sdmx: bool = False, language: str = i18n.DEFAULT) -> bytes:
    metadata = None
    if suffix in (".xlsx", ".csv"):  # the CSV carries the sample statement in a column
        words = i18n.translations(language).gettext
        metadata = export.table_metadata(
            data.plan(),
            result,
            data.margins_assumption(),
            methods=note(result, language),
            synthetic=words(SYNTHETIC[_synthetic()]),
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
    with st.expander(_("Full detail with identifiers (admins only, logged)")):
        st.warning(
            _(
                "These files identify respondents (exact age, dates, blocks, GPS, device ids, free text). "
                "Keep them off shared drives and e-mail; every download is logged with your name and reason."
            )
        )
        reason = st.text_input(_("Reason (logged)"), key="full_detail_reason")
        chosen = st.checkbox(
            _("I need full detail and take responsibility for protecting it"), key="full_detail_choice"
        )
        if not (chosen and reason.strip()):
            st.caption(_("State a reason and tick the box to get the files."))
            return
        for label, suffix in (
            (N_("Full CSV"), ".csv"),
            (N_("Full Stata (.dta)"), ".dta"),
            (N_("Full SPSS (.sav)"), ".sav"),
        ):
            _button(
                _(label),
                lambda suffix=suffix: _microdata_file(result, suffix, (username, reason)),
                f"{prefix}-FULL{suffix}",
            )


def _codebook() -> bytes:
    return codebook_frame(data.plan().form).to_csv(index=False).encode("utf-8")


if __name__ == "__main__":
    render()
