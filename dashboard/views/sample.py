"""Sample plan (coordinators): load a frame of blocks, plan the round, hand out the lists, publish the blocks.

The draw is `analysis.sampling` (the same as `sdg16 sample plan`); this page collects the parameters, shows the
plan, offers its files, publishes its blocks.csv to the phones (`collect.publish.publish_sample`: a new form
version whose media file lists the drawn blocks) and copies its targets to the monitoring page.
"""

import io

import pandas as pd
import streamlit as st

from analysis.errors import AnalysisError
from analysis.paths import FRAME_FILE
from analysis.sampling import (
    SampleSpec,
    plan_files,
    plan_sample,
    plan_zip,
    read_frame,
    read_sizes,
)
from collect.errors import CollectError
from collect.publish import publish_sample
from dashboard import data, signin
from dashboard.i18n import _
from dashboard.targets import TargetError

PLAN = "sample_plan_drawn"  # st.session_state key of the drawn plan


def render() -> None:
    signin.require("admin", "coordinator")
    st.title(_("Sample plan"))
    st.markdown(
        _(
            "Upload a **frame of blocks** (CSV: `block`, `neighbourhood`, `dwellings`; optional `district`, "
            "`description`), choose the precision, and draw the round: blocks with probability proportional "
            "to their dwellings, the dwellings to visit in each, a list per volunteer."
        )
    )
    with st.form("sample_plan"):
        frame_file = st.file_uploader(_("Frame of blocks (CSV)"), type=["csv"])
        st.caption(_("Without a file the SYNTHETIC demo frame is used ({file}).").format(file=FRAME_FILE.name))
        left, right = st.columns(2)
        moe = left.number_input(_("Margin of error per neighbourhood"), 0.01, 0.5, 0.12, 0.01, key="sample_moe")
        deff = left.number_input(_("Design effect"), 1.0, 5.0, 1.5, 0.1, key="sample_deff")
        p = left.number_input(_("Expected share"), 0.05, 0.95, 0.5, 0.05, key="sample_p")
        rate = right.number_input(_("Expected response rate"), 0.1, 1.0, 0.7, 0.05, key="sample_rate")
        per_block = right.number_input(_("Interviews per block"), 1, 50, 8, key="sample_per_block")
        seed = right.number_input(_("Random seed"), 0, 2**31 - 1, 2026, key="sample_seed")
        sizes = st.file_uploader(_("Sizes instead of the formula (CSV: neighbourhood, interviews)"), type=["csv"])
        volunteers = st.file_uploader(_("Volunteers (CSV: volunteer[, neighbourhood])"), type=["csv"])
        drawn = st.form_submit_button(_("Plan the round"), type="primary", key="sample_draw")
    if drawn:
        _draw(
            frame_file,
            sizes,
            volunteers,
            SampleSpec(moe=moe, p=p, deff=deff, response_rate=rate, per_block=int(per_block), seed=int(seed)),
        )
    if PLAN in st.session_state:
        _show(st.session_state[PLAN])


def _read(upload) -> pd.DataFrame | None:
    return (
        None
        if upload is None
        else pd.read_csv(io.BytesIO(upload.getvalue()), dtype=str, keep_default_na=False, na_values=[""])
    )


def _draw(frame_file, sizes, volunteers, spec: SampleSpec) -> None:
    frame = _read(frame_file) if frame_file is not None else pd.read_csv(FRAME_FILE, dtype=str)
    try:
        plan = plan_sample(
            read_frame(frame, data.neighbourhoods()),
            spec,
            read_sizes(_read(sizes)) if sizes is not None else None,
            _read(volunteers),
        )
    except AnalysisError as error:
        st.session_state.pop(PLAN, None)
        st.error(str(error))
        return
    st.session_state[PLAN] = plan


def _show(plan) -> None:
    st.subheader(_("The round"))
    st.caption(
        _(
            "{blocks:,} blocks in {areas} neighbourhoods, {dwellings:,} dwellings to visit, seed {seed} (the same "
            "seed and frame give the same plan)."
        ).format(blocks=len(plan.blocks), areas=len(plan.areas), dwellings=len(plan.assignments), seed=plan.spec.seed)
    )
    st.dataframe(plan.areas, hide_index=True)
    with st.expander(_("Selected blocks (blocks.csv)")):
        st.dataframe(plan.blocks, hide_index=True)
    with st.container(horizontal=True):
        st.download_button(
            _("Download the plan (ZIP)"),
            plan_zip(plan),
            "sample_plan.zip",
            "application/zip",
            icon=":material/download:",
            on_click="ignore",
            key="download_plan",
        )
        st.download_button(
            "blocks.csv",
            plan_files(plan)["blocks.csv"],
            "blocks.csv",
            "text/csv",
            icon=":material/download:",
            on_click="ignore",
            key="download_blocks",
        )
        if st.button(_("Publish blocks.csv to the phones"), key="publish_blocks"):
            _publish(plan)
        if st.button(_("Use these targets on the monitoring page"), key="plan_targets"):
            _targets(plan)


def _publish(plan) -> None:
    try:
        version = publish_sample(data.store(), plan_files(plan)["blocks.csv"])
    except CollectError as error:
        st.error(str(error))
        return
    data.changed()
    st.success(
        _("Published as form version {version}: phones get the new blocks at their next form update.").format(
            version=version.version
        )
    )


def _targets(plan) -> None:
    try:
        for kind, rows in plan.targets.groupby("kind"):
            data.targets().save(kind, rows.rename(columns={"key": kind})[[kind, "target"]])
    except TargetError as error:
        st.error(str(error))
        return
    st.success(_("Targets saved: completed interviews per neighbourhood (and volunteer) as planned."))


if __name__ == "__main__":
    render()
