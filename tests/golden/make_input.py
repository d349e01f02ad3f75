"""Write the synthetic survey that R's golden files are computed from (fixed seed: reruns give the same file).

The data exercise what a real round in Trujillo contains: neighbourhoods as strata, blocks as PSUs numbered
within each neighbourhood (so the design needs nest=TRUE), unequal design weights (household size), women and
young people over-represented relative to the margins, don't know / refused answers (NaN in the 1/0
indicators), indicators defined on sub-populations (victims; people with contact with an official), a rare
indicator that is 0 in some groups, a neighbourhood with a single PSU (lonely PSU) and a tiny neighbourhood.

Run: python tests/golden/make_input.py   (writes survey.csv, margins_sex.csv, margins_age.csv next to it)
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
SEED = 20261128
NEIGHBOURHOODS = {  # name: (population 18+, number of PSUs)
    "buenos_aires": (42_000, 6),
    "el_bosque": (18_500, 4),
    "la_esperanza": (61_000, 6),
    "rio_seco": (9_800, 3),
    "san_andres": (27_300, 5),
    "vista_alegre": (3_100, 1),  # tiny neighbourhood, one block: the lonely PSU
}
AGE_GROUPS = ["18_29", "30_44", "45_64", "65_plus"]
AGE_SHARES = [0.30, 0.30, 0.27, 0.13]
SEX_SHARES = {"female": 0.515, "male": 0.485}


def respondents(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for name, (_, n_psu) in NEIGHBOURHOODS.items():
        for block in range(1, n_psu + 1):
            size = 8 if n_psu == 1 else int(rng.integers(6, 15))
            for _ in range(size):
                rows.append({"neighbourhood": name, "psu": f"b{block:02d}"})
    frame = pd.DataFrame(rows)
    n = len(frame)
    frame["sex"] = np.where(rng.random(n) < 0.64, "female", "male")  # women over-represented
    frame["age_group"] = rng.choice(AGE_GROUPS, n, p=[0.42, 0.27, 0.21, 0.10])  # young over-represented
    tiny = frame["neighbourhood"] == "vista_alegre"  # every margin cell of the tiny area gets a respondent
    frame.loc[tiny, "sex"] = ["female", "male", "female", "male", "male", "female", "male", "female"]
    frame.loc[tiny, "age_group"] = AGE_GROUPS * 2
    frame["disability"] = np.where(rng.random(n) < 0.14, "yes", "no")
    adults = rng.integers(1, 5, n)
    area_rate = frame["neighbourhood"].map({k: v[0] / 1000 for k, v in NEIGHBOURHOODS.items()})
    frame["design_weight"] = np.round(area_rate * adults * rng.uniform(0.8, 1.25, n), 3)
    young = (frame["age_group"] == "18_29").to_numpy()
    female = (frame["sex"] == "female").to_numpy()
    block_effect = frame.groupby(["neighbourhood", "psu"]).ngroup().map(dict(enumerate(rng.normal(0, 0.6, 40))))
    logit = -0.2 + 0.5 * (~female) + 0.3 * young + block_effect.to_numpy()
    frame["safe_dark"] = _with_dk(rng, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float), 0.09)
    victim = rng.random(n) < 0.22 + 0.08 * young
    frame["victim"] = _with_dk(rng, victim.astype(float), 0.05)
    reported = np.where(frame["victim"] == 1, (rng.random(n) < 0.35).astype(float), np.nan)
    frame["reported"] = _with_dk(rng, reported, 0.1)
    frame["contact"] = rng.random(n) < 0.3
    frame["bribe"] = _with_dk(rng, (rng.random(n) < 0.25).astype(float), 0.08)
    frame["rare"] = (rng.random(n) < 0.03).astype(float)
    frame.insert(0, "id", np.arange(1, n + 1))
    return frame


def _with_dk(rng, values: np.ndarray, share: float) -> np.ndarray:
    """Don't know / refused answers are excluded from the base: NaN in the 1/0 indicator."""
    return np.where(rng.random(len(values)) < share, np.nan, values)


def margins() -> tuple[pd.DataFrame, pd.DataFrame]:
    sex = [
        {"neighbourhood": name, "sex": s, "population": round(total * share)}
        for name, (total, _) in NEIGHBOURHOODS.items()
        for s, share in SEX_SHARES.items()
    ]
    sex = pd.DataFrame(sex)
    totals = sex.groupby("neighbourhood")["population"].sum()
    age = []
    for name in NEIGHBOURHOODS:
        counts = [round(totals[name] * share) for share in AGE_SHARES]
        counts[-1] = totals[name] - sum(counts[:-1])  # the two margins must agree per neighbourhood
        age += [{"neighbourhood": name, "age_group": a, "population": c} for a, c in zip(AGE_GROUPS, counts)]
    return sex, pd.DataFrame(age)


SAY = ["not_at_all", "very_little", "some", "a_lot", "a_great_deal", "dont_know", "refused"]
AGREE = ["strongly_agree", "agree", "disagree", "strongly_disagree", "dont_know", "not_applicable", "refused"]
ATTRIBUTES = ["access", "affordability", "quality", "courtesy", "timeliness"]


def composite_answers(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Questionnaire answers (choice names) for the composites, checked by analysis/pipeline.py's plan run: 16.7.2
    (say_in_government, influence_on_politics; DK/refused leave the base) and 16.6.2 health (five attributes
    among users, with don't know / not applicable / refused, so users rate different numbers of attributes).
    Drawn from their own generator, so the earlier columns (and their golden estimates) do not change."""
    n = len(frame)
    young = (frame["age_group"] == "18_29").to_numpy()
    out = frame.copy()
    for name, p in (
        ("say_in_government", [0.25, 0.25, 0.2, 0.1, 0.06, 0.1, 0.04]),
        ("influence_on_politics", [0.3, 0.25, 0.18, 0.08, 0.05, 0.1, 0.04]),
    ):
        out[name] = rng.choice(SAY, n, p=p)
    out.loc[young & (rng.random(n) < 0.3), "say_in_government"] = "some"  # related to a raking margin
    users = rng.random(n) < 0.55
    out["used_health_12m"] = np.where(users, "yes", rng.choice(["no", "dont_know"], n, p=[0.9, 0.1]))
    for a in ATTRIBUTES:
        out[f"health_{a}"] = np.where(users, rng.choice(AGREE, n, p=[0.2, 0.35, 0.2, 0.1, 0.05, 0.07, 0.03]), None)
    out.loc[np.flatnonzero(users)[:3], [f"health_{a}" for a in ATTRIBUTES]] = "not_applicable"  # users rating none
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    frame = composite_answers(np.random.default_rng(SEED + 1), respondents(rng))
    frame.to_csv(HERE / "survey.csv", index=False)
    sex, age = margins()
    sex.to_csv(HERE / "margins_sex.csv", index=False)
    age.to_csv(HERE / "margins_age.csv", index=False)


if __name__ == "__main__":
    main()
