"""The whole chain on a synthetic population: frame → plan → field round with non-response → weights →
estimates. Over independent rounds (new draw, new field work) the 95 % intervals must cover the population's
true shares at about 95 %, and the estimates must centre on them. Bounded: 40 rounds of ~160 interviews (about 20 s)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from field_round import field_round, frame, population

from analysis.pipeline import run
from analysis.plan import load_plan
from analysis.sampling import SampleSpec, plan_sample, read_frame

GOLDEN = Path(__file__).parents[1] / "golden"
ROUNDS = 40


@pytest.fixture(scope="module")
def rounds():
    blocks = frame()
    dwellings, people = population(blocks)  # the population the golden margins were made from
    truth = {("overall", "all"): (people["victim"] == "yes").mean()}
    truth |= {
        ("neighbourhood", k): v for k, v in (people["victim"] == "yes").groupby(people["neighbourhood"]).mean().items()
    }
    plan = load_plan(GOLDEN / "nonresponse_plan.toml")
    checked = read_frame(blocks)
    rows = []
    for r in range(ROUNDS):
        sample = plan_sample(
            checked, SampleSpec(per_block=6, response_rate=0.6, seed=100 + r), sizes={"a": 60, "b": 60, "c": 60}
        )
        table = run(plan, field_round(sample, dwellings, people, seed=200 + r)).estimates
        table = table[table["area"].isna()].set_index(["by", "group"])
        for key, true in truth.items():
            rows.append({"key": key, "true": true, **table.loc[key, ["estimate", "ci_low", "ci_high", "se"]]})
    return pd.DataFrame(rows)


def test_intervals_cover_the_true_values_at_about_the_stated_rate(rounds):
    covered = ((rounds["ci_low"] <= rounds["true"]) & (rounds["true"] <= rounds["ci_high"])).mean()
    # 160 intervals: 95 % nominal, binomial sd ≈ 1.7 points; below 88 % would be a broken design or variance
    assert covered >= 0.88, f"coverage {covered:.1%}"


def test_estimates_centre_on_the_true_values(rounds):
    for key, part in rounds.groupby("key"):
        bias = part["estimate"].mean() - part["true"].iloc[0]
        spread = part["estimate"].std(ddof=1) / np.sqrt(len(part))
        assert abs(bias) < 3 * spread + 0.01, f"{key}: bias {bias:.3f} (sd of the mean {spread:.3f})"
        assert part["se"].mean() == pytest.approx(part["estimate"].std(ddof=1), rel=0.5)  # the SE is about right
