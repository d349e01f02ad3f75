"""Synthetic responses for the analysis benchmarks: the shape of the SDG 16 suite without the questionnaire.

20 neighbourhoods (strata) of unequal size, one PSU (block) per ~100 respondents, unequal design weights,
women and young people over-represented, 25 binary indicators with 5–10% don't know / refused (NaN) and some
defined on sub-populations (NaN outside), five breakdown variables; margins neighbourhood × sex and
neighbourhood × age group consistent with each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_INDICATORS = 25
AGE_GROUPS = ["18_24", "25_34", "35_44", "45_64", "65_plus"]
EDUCATION = ["none", "primary", "secondary", "technical", "university"]
BREAKDOWNS = ["neighbourhood", "sex", "age_group", "disability", "education"]


def responses(n: int, seed: int = 16) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hoods = np.array([f"nb{i:02d}" for i in range(20)])
    size = rng.uniform(0.5, 2.0, 20)
    neighbourhood = rng.choice(hoods, n, p=size / size.sum())
    psu = rng.integers(0, max(2, n // 2000), n)  # ~100 respondents per block within each neighbourhood
    frame = pd.DataFrame(
        {
            "neighbourhood": neighbourhood,
            "psu": psu.astype(str),
            "sex": np.where(rng.random(n) < 0.62, "female", "male"),
            "age_group": rng.choice(AGE_GROUPS, n, p=[0.3, 0.25, 0.2, 0.17, 0.08]),
            "disability": np.where(rng.random(n) < 0.12, "yes", "no"),
            "education": rng.choice(EDUCATION, n, p=[0.05, 0.2, 0.4, 0.2, 0.15]),
            "design_weight": rng.integers(1, 5, n) * rng.uniform(0.8, 1.25, n),
        }
    )
    for k in range(N_INDICATORS):
        y = (rng.random(n) < rng.uniform(0.05, 0.8)).astype(float)
        y[rng.random(n) < rng.uniform(0.05, 0.1)] = np.nan  # don't know / refused
        if k % 5 == 4:  # a sub-population indicator (victims, contact with officials, service users)
            y[rng.random(n) < 0.7] = np.nan
        frame[f"y{k:02d}"] = y
    return frame


def margins(frame: pd.DataFrame, population: float = 970_016) -> list[pd.DataFrame]:
    """Neighbourhood totals proportional to the sample, split 51.5% women and by a fixed age profile.

    Trujillo's 970,016 inhabitants, or 5 × the sample when the sample is larger (1M responses): a design effect
    against sampling without replacement needs a population larger than the sample."""
    share = frame["neighbourhood"].value_counts(normalize=True).sort_index()
    totals = (share * max(population, 5 * len(frame))).round()
    sex = pd.DataFrame(
        [
            {"neighbourhood": h, "sex": s, "population": t * p}
            for h, t in totals.items()
            for s, p in (("female", 0.515), ("male", 0.485))
        ]
    )
    profile = [0.16, 0.22, 0.2, 0.28, 0.14]
    age = pd.DataFrame(
        [
            {"neighbourhood": h, "age_group": a, "population": t * p}
            for h, t in totals.items()
            for a, p in zip(AGE_GROUPS, profile)
        ]
    )
    return [sex, age]


def indicators() -> list[str]:
    return [f"y{k:02d}" for k in range(N_INDICATORS)]


def breakdown_specs() -> list:
    """Each breakdown, and neighbourhood × each of the others (as the SDG 16 plan asks)."""
    return BREAKDOWNS + [("neighbourhood", b) for b in BREAKDOWNS[1:]]
