"""The fast engine equals a slow, obviously correct reference (tests/analysis/reference.py) on random designs:
strata with one to five PSUs (lonely ones included), unequal weights, missing answers, domains, an fpc,
uncalibrated / post-stratified / raked, every lonely-PSU rule, with and without domain-lonely handling; shares,
means and totals, by a breakdown and within areas."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import domain_estimate

from analysis.design import make_design
from analysis.estimate import estimate_many
from analysis.weights import poststratify, rake


def random_survey(seed: int, with_fpc: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strata = rng.integers(1, 5)
    rows = []
    for h in range(strata):
        for u in range(rng.integers(1, 6)):
            for _ in range(rng.integers(1, 8)):
                rows.append((f"s{h}", f"p{u}"))
    frame = pd.DataFrame(rows, columns=["stratum", "psu"])
    n = len(frame)
    frame["w"] = rng.uniform(0.5, 5.0, n)
    frame["sex"] = rng.choice(["f", "m"], n)
    frame["age"] = rng.choice(["young", "old"], n)
    frame["group"] = rng.choice(["a", "b", "c"], n)
    frame["share"] = np.where(rng.random(n) < 0.15, np.nan, (rng.random(n) < 0.4).astype(float))
    frame["x"] = np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 3.0, n))
    if with_fpc:
        psus = frame.groupby("stratum")["psu"].transform("nunique")
        frame["N"] = psus + frame["stratum"].map({f"s{h}": rng.integers(0, 20) for h in range(strata)})
    return frame


def margins(frame: pd.DataFrame, seed: int):
    """Population cell totals that raking can meet: weighted totals of a perturbed weight."""
    rng = np.random.default_rng(seed + 1)
    true_weight = frame["w"] * rng.uniform(0.7, 1.4, len(frame))
    sex = true_weight.groupby([frame["stratum"], frame["sex"]]).sum().rename("population").reset_index()
    age = true_weight.groupby([frame["stratum"], frame["age"]]).sum().rename("population").reset_index()
    return sex, age


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    calibration=st.sampled_from(["none", "poststratify", "rake"]),
    lonely=st.sampled_from(["adjust", "average", "certainty", "remove"]),
    domain_lonely=st.booleans(),
    with_fpc=st.booleans(),
)
def test_fast_equals_reference(seed, calibration, lonely, domain_lonely, with_fpc):
    frame = random_survey(seed, with_fpc)
    frame["x_total"] = frame["x"]
    design = make_design(
        frame,
        strata="stratum",
        psu="psu",
        weight="w",
        lonely_psu=lonely,
        fpc="N" if with_fpc else None,
        adjust_domain_lonely=domain_lonely,
    )
    sex, age = margins(frame, seed)
    if calibration == "poststratify":
        design = poststratify(design, sex)
    elif calibration == "rake":
        # tiny strata with empty sex × age cells converge slowly (seed 5163: 1.2e-10 left after 100 iterations)
        design = rake(design, [sex, age], epsilon=1e-13, maxit=1000)
    table = estimate_many(design, ["share"], means=["x"], totals=["x_total"], by=["group", ("stratum", "group")])
    statistic = {"share": "mean", "x": "mean", "x_total": "total"}
    for row in table.itertuples():
        member = np.ones(len(frame), bool)
        if row.by == "group":
            member = (frame["group"] == row.group).to_numpy()
            if row.area is not None:
                member = member & (frame["stratum"] == row.area).to_numpy()
        y = frame[row.indicator].to_numpy(dtype=float)
        if row.n == 0:
            continue
        estimate, variance = domain_estimate(design, y, member, statistic[row.indicator])
        assert np.isclose(row.estimate, estimate, rtol=1e-10, atol=1e-12), row
        scale = max(abs(estimate), 1.0) ** 2
        if np.isnan(variance):  # no stratum left ("average"), except that answers all alike have variance 0
            assert np.isnan(row.se**2) or (row.indicator == "share" and row.estimate in (0, 1)), row
        else:
            assert np.isclose(row.se**2, variance, rtol=1e-7, atol=1e-12 * scale), (row, variance)
