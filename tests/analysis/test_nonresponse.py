"""Weights from recorded probabilities with non-response adjustment, against R survey (tests/golden/nonresponse.R),
by hand on a small round, and the non-probability fallback."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import nonresponse
from analysis.errors import AnalysisError
from analysis.methods import methods_note
from analysis.pipeline import run
from analysis.plan import (
    NonresponseSpec,
    PlanError,
    SelectionSpec,
    load_plan,
    parse_plan,
)

GOLDEN = Path(__file__).parents[1] / "golden"


@pytest.fixture(scope="module")
def plan():
    return load_plan(GOLDEN / "nonresponse_plan.toml")


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "nonresponse_input.csv", dtype=str)


@pytest.fixture(scope="module")
def result(plan, visits):
    return run(plan, visits)


def test_weights_match_r(plan, visits, result):
    r = pd.read_csv(GOLDEN / "nonresponse_weights.csv").set_index("instance_id")
    adjusted = nonresponse.adjusted_weights(visits, plan.selection, plan.nonresponse, "psu")
    ids = visits.loc[adjusted.weights.index, "instance_id"]
    assert set(ids) == set(r.index)  # the respondents: final complete visits only
    np.testing.assert_allclose(adjusted.base.to_numpy(), r.loc[ids, "base"], rtol=1e-12)
    np.testing.assert_allclose(adjusted.weights.to_numpy(), r.loc[ids, "nonresponse"], rtol=1e-12)
    raked = result.microdata.set_index("instance_id")["weight"]
    np.testing.assert_allclose(raked[r.index], r["raked"], rtol=1e-9)
    assert "+" in " ".join(adjusted.classes["class"])  # thin blocks were merged with a neighbour


def test_estimates_match_r(result):
    r = pd.read_csv(GOLDEN / "nonresponse_estimates.csv", dtype={"group": str})
    ours = result.estimates[result.estimates["area"].isna()].set_index(["by", "group"])
    for row in r.itertuples():
        assert ours.loc[(row.by, row.group), "estimate"] == pytest.approx(row.estimate, rel=1e-9)
        assert ours.loc[(row.by, row.group), "se"] == pytest.approx(row.se, rel=1e-7)


def test_visit_records_enter_the_adjustment_then_leave_the_base(visits, result):
    assert result.sample.probability and "muestra probabilística" in result.sample.note
    completes = (visits["disposition"] == "complete").sum()
    assert len(result.analysis_data) == completes < len(visits)
    assert result.estimates.loc[result.estimates["by"] == "overall", "n"].iloc[0] == completes
    note = methods_note(load_plan(GOLDEN / "nonresponse_plan.toml"), result, language="en")  # Spanish is the default
    assert "1 / (P(block) · P(dwelling | block) · P(person | dwelling))" in note
    assert "non-response adjusted within weighting classes (psu → neighbourhood" in note


def small_round() -> pd.DataFrame:
    """Block X (p = 0.5, take 4 of 8 → w0 = 4): 2 completes, 1 refusal, 1 vacant; block Y (p = 0.25, take 4 of 12
    → w0 = 12): 1 complete, 1 unknown eligibility, 1 never visited, 1 noncontact."""
    rows = [
        ("X", 1, "complete", 2),
        ("X", 2, "complete", 1),
        ("X", 3, "refused", 3),
        ("X", 4, "vacant", None),
        ("Y", 1, "complete", 2),
        ("Y", 2, "unknown_eligibility", None),
        ("Y", 3, "noncontact", None),
    ]
    frame = pd.DataFrame(rows, columns=["psu", "dwelling_number", "disposition", "eligible_adults"])
    frame["prob_block"] = frame["psu"].map({"X": "0.5", "Y": "0.25"})
    frame["block_take"] = "4"
    frame["block_dwellings"] = frame["psu"].map({"X": "8", "Y": "12"})
    frame["neighbourhood"] = "n"
    return frame.astype({"dwelling_number": str, "eligible_adults": object})


def test_adjustment_by_hand():
    spec = NonresponseSpec(classes=("psu", "neighbourhood"), min_respondents=1, max_factor=10)
    adjusted = nonresponse.adjusted_weights(small_round(), SelectionSpec(), spec, "psu")
    # X: no unknown; eligible 3 × 4 over respondents 2 × 4 → f = 1.5; person weights 4·1.5·2, 4·1.5·1
    # Y: all = 4 × 12 (one never visited), known = 2 × 12 → f_U = 2; eligible 2, respondents 1 → f_NR = 2
    np.testing.assert_allclose(adjusted.weights.to_numpy(), [12, 6, 12 * 4 * 2])
    classes = adjusted.classes.set_index("class")
    assert classes.loc["psu = Y", "unknown"] == 2 and classes.loc["psu = Y", "f_unknown"] == 2
    merged = nonresponse.adjusted_weights(small_round(), SelectionSpec(), NonresponseSpec(min_respondents=3), "psu")
    assert merged.classes["class"].tolist() == ["psu = X + psu = Y"]  # X thin (2 respondents): merged with Y
    # one class: all = 4·4 + 4·12 = 64, known = 64 − 24 = 40, eligible = 3·4 + 2·12 = 36, respondents 2·4 + 12
    np.testing.assert_allclose(merged.classes["factor"], 64 / 40 * 36 / 20)  # 2.88: 3 respondents, not thin now
    assert merged.warnings == []
    strict = nonresponse.adjusted_weights(small_round(), SelectionSpec(), NonresponseSpec(max_factor=2.5), "psu")
    assert "kept although thin" in strict.warnings[0]


def test_bad_probabilities_are_named_and_orphans_left_out_by_name(plan, visits):
    bad = small_round().assign(prob_block=lambda f: f["prob_block"].where(f["psu"] == "X", "1.5"))
    with pytest.raises(AnalysisError, match=r"without valid recorded probabilities.*Y/1"):
        nonresponse.adjusted_weights(bad, SelectionSpec(), NonresponseSpec(), "psu")
    extra = visits.iloc[[0]].assign(
        instance_id="uuid:orphan", disposition=np.nan, consent="yes", age="30", sex="female", victim="no"
    )
    result = run(plan, pd.concat([visits, extra], ignore_index=True))  # one bad submission blocks nobody
    assert any("uuid:orphan" in w and "left out" in w for w in result.warnings)
    assert "uuid:orphan" not in set(result.microdata["instance_id"])
    assert len(result.analysis_data) == len(run(plan, visits).analysis_data)


def test_without_a_recorded_sample_calibration_only_and_said_so(plan, visits):
    imported = visits.drop(columns=["prob_block", "block_take", "block_dwellings", "disposition"])
    imported = imported[imported["consent"].notna()]
    result = run(plan, imported)
    assert not result.sample.probability
    assert result.sample.note.startswith(
        "muestra no probabilística: las estimaciones descansan en el modelo de calibración / non-probability sample"
    )
    assert any("record no sample" in w for w in result.warnings)
    assert result.sample.note in methods_note(plan, result)


def test_plan_keys_are_checked(plan):
    with pytest.raises(PlanError) as error:
        parse_plan(
            {
                "design": {"weight_from": "guess"},
                "nonresponse": {"classes": [], "max_factor": 1},
                "indicator": [{"id": "x", "variable": "v", "success": ["y"]}],
                "weights": {"method": "none"},
            }
        )
    message = str(error.value)
    assert "weight_from = 'guess'" in message and "[nonresponse] classes" in message and "max_factor" in message
    with pytest.raises(PlanError, match="needs `psu`"):
        parse_plan(
            {
                "design": {"weight_from": "probabilities"},
                "weights": {"method": "none"},
                "indicator": [{"id": "x", "variable": "v", "success": ["y"]}],
            }
        )


def test_fpc_from_the_frame_matches_r(tmp_path, visits):
    text = (
        (GOLDEN / "nonresponse_plan.toml")
        .read_text()
        .replace(
            'weight_from = "probabilities"',
            f'weight_from = "probabilities"\nfpc = "{GOLDEN / "nonresponse_frame.csv"}"',
        )
    )
    text = text.replace('file = "nonresponse_margins', f'file = "{GOLDEN}/nonresponse_margins')
    (tmp_path / "plan.toml").write_text(text)
    table = run(load_plan(tmp_path / "plan.toml"), visits).estimates
    ours = table[table["area"].isna()].set_index(["by", "group"])
    r = pd.read_csv(GOLDEN / "nonresponse_estimates_fpc.csv", dtype={"group": str})
    for row in r.itertuples():
        assert ours.loc[(row.by, row.group), "se"] == pytest.approx(row.se, rel=1e-7)
    assert ours.loc[("overall", "all"), "se"] < pd.read_csv(GOLDEN / "nonresponse_estimates.csv")["se"][0]


def test_exports_state_the_sample(plan, result, tmp_path):
    from analysis import export

    metadata = export.table_metadata(plan, result, "margins")
    assert metadata["sample"] == result.sample.note and "nonresponse" in metadata
    export.write_table(result.estimates, tmp_path / "t.csv", metadata=metadata)
    assert (pd.read_csv(tmp_path / "t.csv")["sample"] == nonresponse.PROBABILITY).all()
    export.write_table(result.estimates, tmp_path / "t.xlsx", metadata=metadata)
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert nonresponse.PROBABILITY in sheets["metadata"]["value"].tolist()
    assert sheets["nonresponse"]["factor"].between(1, 3).all()
