"""A finite synthetic population on a frame of blocks and a simulated field round on a drawn sample, for the
weighting tests, the coverage simulation and the R golden input (tests/golden/make_nonresponse_input.py).

The population: every dwelling of every block is vacant, not a dwelling, or a household of 0–6 adults; each adult
has a sex, an age and a yes/no answer `victim` whose probability varies by block (a block effect: clustering),
sex and age. The round visits the plan's listed dwellings up to three times: contact depends on the block (the
non-response the block classes correct), a household may refuse at the door, a few dwellings cannot be reached,
one adult is selected at random (as the next-birthday rule does), and men refuse more than women (what calibration
to the sex margin corrects). Some volunteers stop before the end of their block. Every visit is a submission row
with the questionnaire v2 field names (docs/DESIGN.md, Fieldwork), every value a string as the store gives them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.recode import age_groups
from analysis.sampling import SamplePlan


def frame(areas=("a", "b", "c"), blocks: int = 60, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {
            "block": f"{area.upper()}-{k:03d}",
            "neighbourhood": area,
            "district": "d",
            "dwellings": int(np.clip(round(rng.lognormal(np.log(30), 0.5)), 8, 120)),
        }
        for area in areas
        for k in range(1, blocks + 1)
    ]
    return pd.DataFrame(rows)


def population(frame: pd.DataFrame, seed: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(dwellings: block, dwelling, status, adults; adults: block, dwelling, person, sex, age, victim)."""
    rng = np.random.default_rng(seed)
    block = np.repeat(frame["block"].to_numpy(), frame["dwellings"].to_numpy())
    number = np.concatenate([np.arange(1, m + 1) for m in frame["dwellings"]])
    status = rng.choice(["household", "vacant", "not_dwelling"], size=len(block), p=[0.91, 0.06, 0.03])
    adults = np.where(
        status == "household", np.minimum(rng.poisson(1.6, len(block)) + (rng.random(len(block)) > 0.03), 6), 0
    )
    dwellings = pd.DataFrame({"block": block, "dwelling": number, "status": status, "adults": adults})
    effect = dict(zip(frame["block"], rng.normal(0, 0.6, len(frame))))
    area_effect = {"a": -0.4, "b": 0.0, "c": 0.5}
    person_block = np.repeat(block, adults)
    people = pd.DataFrame(
        {
            "block": person_block,
            "dwelling": np.repeat(number, adults),
            "person": np.concatenate([np.arange(a) for a in adults]),
            "sex": rng.choice(["female", "male"], size=adults.sum(), p=[0.52, 0.48]),
            "age": rng.integers(18, 86, adults.sum()),
        }
    )
    area = people["block"].str[0].str.lower().map(area_effect).fillna(0).to_numpy()
    logit = (
        -0.8
        + area
        + people["block"].map(effect).to_numpy()
        + 0.6 * (people["sex"] == "male")
        - 0.02 * (people["age"] - 40)
    )
    people["victim"] = np.where(rng.random(len(people)) < 1 / (1 + np.exp(-logit)), "yes", "no")
    people["neighbourhood"] = people["block"].map(frame.set_index("block")["neighbourhood"])
    return dwellings, people


def margins(people: pd.DataFrame) -> list[pd.DataFrame]:
    """The population's adults per neighbourhood × sex and × age group (what a census table would give)."""
    groups = people.assign(age_group=age_groups(people["age"]))
    return [
        groups.groupby(["neighbourhood", c]).size().rename("population").reset_index() for c in ("sex", "age_group")
    ]


def field_round(plan: SamplePlan, dwellings: pd.DataFrame, people: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every visit of the round as a submission (strings), the final visit last for each dwelling."""
    rng = np.random.default_rng(seed)
    homes = dict(zip(zip(dwellings["block"], dwellings["dwelling"]), zip(dwellings["status"], dwellings["adults"])))
    persons: dict[tuple, list[dict]] = {}
    for block, number, sex, age, victim in zip(
        people["block"], people["dwelling"], people["sex"], people["age"], people["victim"]
    ):
        persons.setdefault((block, number), []).append({"sex": sex, "age": age, "victim": victim})
    rows = []
    for block in plan.blocks.itertuples():
        contact = rng.beta(6, 3)  # this block's chance of finding someone home at a visit
        numbers = [int(n) for n in block.dwelling_numbers.split()]
        if rng.random() < 0.1:
            numbers = numbers[: len(numbers) - 2]  # the volunteer stopped early
        for number in numbers:
            home = homes[(block.name, number)]
            base = {
                "neighbourhood": block.neighbourhood,
                "district": block.district,
                "psu": block.name,
                "block": block.name,
                "prob_block": repr(block.prob_block),
                "block_take": str(block.take),
                "block_dwellings": str(block.dwellings),
                "dwelling_number": str(number),
            }
            for visit, outcome, answers in _visits(rng, home, persons, (block.name, number), contact):
                rows.append({**base, "visit_number": str(visit), "disposition": outcome, **answers})
    frame = pd.DataFrame(rows)
    frame.insert(0, "instance_id", [f"uuid:sim-{seed}-{k}" for k in range(len(frame))])
    return frame


def _visits(rng, home, persons, key, contact):
    status, adults = home
    if status != "household":
        yield 1, status, {}
        return
    if rng.random() < 0.02:
        yield 1, "unknown_eligibility", {}
        return
    for visit in (1, 2, 3):
        if rng.random() < contact:
            break
        yield visit, "noncontact", {}
    else:
        return
    if rng.random() < 0.08:
        yield visit, "refused_door", {}
        return
    if adults == 0:
        yield visit, "not_eligible", {"eligible_adults": "0"}
        return
    chosen = persons[key][rng.integers(adults)]
    refuses = rng.random() < (0.3 if chosen["sex"] == "male" else 0.12)
    answers = {"eligible_adults": str(adults), "age": str(chosen["age"])}
    if refuses:
        yield visit, "refused", {**answers, "consent": "no"}
        return
    yield visit, "complete", {**answers, "consent": "yes", "sex": chosen["sex"], "victim": chosen["victim"]}
