"""Final dispositions (the last visit's) and AAPOR RR1/RR3 against hand computation."""

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.fieldwork import (
    final_dispositions,
    has_visit_records,
    response_rates,
    unplaced,
)

VISITS = pd.DataFrame(
    [  # block, dwelling, visit, disposition, volunteer, review_state
        ("A", "1", "1", "noncontact", "Ana", "received"),
        ("A", "1", "2", "complete", "Ana", "approved"),
        ("A", "2", "1", "refused_door", "Ana", "received"),
        ("A", "3", "1", "noncontact", "Ana", "received"),  # still open: one visit of three
        ("A", "4", "1", "vacant", "Ana", "received"),
        ("B", "1", "1", "unknown_eligibility", "Beto", "received"),
        ("B", "2", "1", "complete", "Beto", "received"),
        ("B", "3", "3", "noncontact", "Beto", "received"),  # final after the third visit
        ("B", "4", "1", "not_eligible", "Beto", "received"),
        ("B", "5", "1", "complete", "Beto", "rejected"),  # a rejected submission is no visit
        ("B", None, "1", "complete", "Beto", "received"),  # no dwelling number: cannot be placed
    ],
    columns=["block", "dwelling_number", "visit_number", "disposition", "volunteer", "review_state"],
)
PLAN = pd.DataFrame({"name": ["A", "B"], "neighbourhood": ["n", "n"], "take": [5, 5], "volunteer": ["Ana", "Beto"]})


def test_the_last_visit_gives_the_final_disposition():
    final = final_dispositions(VISITS)
    assert len(final) == 8 and unplaced(VISITS) == 1
    a1 = final[(final["block"] == "A") & (final["dwelling_number"] == 1)].iloc[0]
    assert a1["disposition"] == "complete" and a1["visits"] == 2 and a1["aapor_code"] == "1.1"
    assert final["open"].sum() == 1  # A3


def test_rr1_rr3_by_hand():
    final = final_dispositions(VISITS)
    whole = response_rates(final).iloc[0]
    # I = 2, R = 1, NC = 2, U = 1, NE = 2; e = 5 / 7
    assert whole[["I", "R", "NC", "U", "NE", "visited"]].tolist() == [2, 1, 2, 1, 2, 8]
    assert whole["e"] == pytest.approx(5 / 7)
    assert whole["RR1"] == pytest.approx(2 / 6)
    assert whole["RR3"] == pytest.approx(2 / (5 + 5 / 7))
    blocks = response_rates(final, "block", PLAN).set_index("block")
    assert blocks.loc["A", "RR1"] == pytest.approx(1 / 3) and blocks.loc["A", "RR3"] == pytest.approx(1 / 3)
    assert blocks.loc["B", "RR3"] == pytest.approx(1 / (2 + 5 / 7))
    assert blocks["planned"].tolist() == [5, 5] and blocks["not_visited"].tolist() == [1, 1]
    volunteers = response_rates(final, "volunteer", PLAN).set_index("volunteer")
    assert volunteers.loc["Beto", "I"] == 1 and volunteers.loc["Ana", "open"] == 1


def test_unknown_dispositions_and_old_forms():
    assert not has_visit_records(VISITS.drop(columns="disposition"))
    assert has_visit_records(VISITS)
    with pytest.raises(AnalysisError, match="unknown disposition.*moved"):
        final_dispositions(VISITS.assign(disposition="moved"))
    with pytest.raises(AnalysisError, match="lack column"):
        final_dispositions(VISITS.drop(columns="block"))
    assert np.isnan(response_rates(final_dispositions(VISITS[VISITS["disposition"] == "vacant"])).iloc[0]["RR1"])
