"""Synthetic submissions with the CONTRACT field names and the form's skip logic, for analysis tests and the
full-pipeline benchmark (benchmarks/analysis_pipeline.py imports this file by path).

Shaped like `collect.store.Store.submissions_frame`: the metadata columns as objects, every answer a pandas
string column (`str`, what the store's `DataFrame.from_records` gives), select_multiple space-separated, NaN where
a question was not asked. Vectorised (no loop over rows), so 1M submissions take seconds to make. With
unequal household sizes, over-representation of women and young people, DK/refused answers, refusals and
minors, a rejected submission and a tiny neighbourhood, so that every rule of recode and the plan is exercised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "data"
YN = ["yes", "no", "dont_know", "refused"]
AGREE = ["strongly_agree", "agree", "disagree", "strongly_disagree", "dont_know", "not_applicable", "refused"]
SATIS = ["very_satisfied", "satisfied", "dissatisfied", "very_dissatisfied", "dont_know", "refused"]
SAY = ["not_at_all", "very_little", "some", "a_lot", "a_great_deal", "dont_know", "refused"]
TRUST = ["a_lot", "some", "little", "none_at_all", "dont_know", "refused"]
WG = ["no_difficulty", "some_difficulty", "a_lot_of_difficulty", "cannot_do_at_all", "dont_know", "refused"]
AUTHORITIES = ["police", "prosecutor", "judiciary", "cem", "linea_100", "serenazgo", "demuna", "other"]
SERVICES = ["health", "school_primary", "school_secondary", "gov_services"]


def synthetic_submissions(n: int = 2000, seed: int = 1, blocks: int = 4) -> pd.DataFrame:
    """`blocks` PSUs (B1, B2, …) per neighbourhood; the benchmark asks for ~100 respondents per block."""
    rng = np.random.default_rng(seed)
    places = pd.read_csv(DATA / "neighbourhoods.csv")
    share = np.full(len(places), 1.0 / len(places))
    share[places["name"] == "poroto"] = 0.0
    share /= share.sum()
    hood = rng.choice(places["name"].to_numpy(), size=n, p=share)
    hood[0] = "poroto"  # a tiny neighbourhood: one respondent
    district = pd.Series(hood).map(places.set_index("name")["district"]).to_numpy()

    def pick(values, p=None, size=n):
        return rng.choice(np.array(values, dtype=object), size=size, p=p)

    def only(mask, values):
        return np.where(mask, values, None)

    frame = pd.DataFrame(
        {
            "instance_id": np.char.add("uuid:", np.char.zfill(np.arange(n).astype(str), 8)).astype(object),
            "form_id": "sdg16_perception",
            "form_version": "2026112801",
            "volunteer": pick([f"vol{i}" for i in range(12)]),
            "device_id": "collect:x",
            "review_state": "received",
            "source": "openrosa",
            "district": district,
            "neighbourhood": hood,
            "psu": np.char.add("B", rng.integers(1, blocks + 1, n).astype(str)).astype(object),
            "consent": pick(["yes", "no"], [0.95, 0.05]),
        }
    )
    start = np.datetime64("2026-11-20T09:00:00") + (rng.integers(0, 7 * 24 * 60, n) * 60).astype("timedelta64[s]")
    end = start + (rng.gamma(9, 2.5, n) * 60).astype("timedelta64[s]")
    frame["start"] = np.char.add(np.datetime_as_string(start, unit="s"), ".000-05:00")
    frame["end"] = np.char.add(np.datetime_as_string(end, unit="s"), ".000-05:00")
    consented = frame["consent"].to_numpy() == "yes"
    age = np.where(rng.random(n) < 0.55, rng.integers(18, 30, n), rng.integers(30, 90, n))
    age[rng.random(n) < 0.03] = 16
    frame["age"] = only(consented, age.astype(str))
    adult = consented & (age >= 18)
    frame.loc[0, ["consent", "age"]] = ["yes", "40"]
    adult[0] = True
    frame["sex"] = only(adult, pick(["female", "male"], [0.62, 0.38]))
    frame["education"] = only(
        adult,
        pick(
            ["none", "primary", "secondary", "technical", "university", "refused"], [0.03, 0.15, 0.45, 0.15, 0.2, 0.02]
        ),
    )
    for d in ["seeing", "hearing", "walking", "remembering", "selfcare", "communicating"]:
        frame[f"wg_{d}"] = only(adult, pick(WG, [0.8, 0.13, 0.03, 0.01, 0.02, 0.01]))
    frame["household_adults"] = only(adult, rng.integers(1, 6, n).astype(str))
    frame["years_in_neighbourhood"] = only(adult, rng.integers(0, 40, n).astype(str))
    lat, lon = np.char.mod("%.6f", -8.08 + rng.normal(0, 0.01, n)), np.char.mod("%.6f", -79.02 + rng.normal(0, 0.01, n))
    frame["gps"] = only(adult, np.char.add(np.char.add(np.char.add(lat, " "), lon), " 50 5"))
    safe = pick(
        ["very_safe", "safe", "unsafe", "very_unsafe", "never_alone_after_dark", "dont_know", "refused"],
        [0.1, 0.3, 0.3, 0.15, 0.1, 0.03, 0.02],
    )
    frame["feels_safe_after_dark"] = only(adult, safe)
    frame["would_feel_safe_after_dark"] = only(
        adult & (safe == "never_alone_after_dark"),
        pick(["very_safe", "safe", "unsafe", "very_unsafe", "dont_know", "refused"]),
    )
    for kind, p_yes in [("physical", 0.12), ("psychological", 0.2), ("sexual", 0.05), ("robbery", 0.25)]:
        victim = pick(YN, [p_yes, 0.95 - p_yes, 0.03, 0.02])
        frame[f"victim_{kind}_12m"] = only(adult, victim)
        reported = pick(YN, [0.4, 0.5, 0.05, 0.05])
        asked = adult & (victim == "yes")
        frame[f"reported_{kind}"] = only(asked, reported)
        first, second = pick(AUTHORITIES), pick(AUTHORITIES)  # one or two authorities, in choice-name order
        two = (rng.random(n) < 0.5) & (first != second)
        low, high = np.where(first < second, first, second), np.where(first < second, second, first)
        to = np.where(two, low + " " + high, first)
        frame[f"reported_to_{kind}"] = only(asked & (reported == "yes"), to)
    contact = pick(YN, [0.4, 0.55, 0.03, 0.02])
    frame["contact_official_12m"] = only(adult, contact)
    frame["bribe_asked_12m"] = only(adult & (contact == "yes"), pick(YN, [0.1, 0.85, 0.03, 0.02]))
    frame["bribe_paid_12m"] = only(adult & (contact == "yes"), pick(YN, [0.08, 0.88, 0.02, 0.02]))
    for s in SERVICES:
        used = pick(YN, [0.5, 0.48, 0.01, 0.01])
        frame[f"used_{s}_12m"] = only(adult, used)
        for a in ["access", "affordability", "quality", "courtesy", "timeliness"]:
            frame[f"{s}_{a}"] = only(adult & (used == "yes"), pick(AGREE, [0.2, 0.4, 0.2, 0.1, 0.04, 0.04, 0.02]))
        frame[f"{s}_satisfaction"] = only(adult & (used == "yes"), pick(SATIS, [0.2, 0.4, 0.25, 0.1, 0.03, 0.02]))
    frame["say_in_government"] = only(adult, pick(SAY, [0.3, 0.25, 0.2, 0.1, 0.05, 0.07, 0.03]))
    frame["influence_on_politics"] = only(adult, pick(SAY, [0.35, 0.25, 0.2, 0.07, 0.03, 0.07, 0.03]))
    five = pick(YN, [0.3, 0.65, 0.03, 0.02])
    frame["discrimination_5y"] = only(adult, five)
    twelve = pick(YN, [0.6, 0.35, 0.03, 0.02])
    frame["discrimination_12m"] = only(adult & (five == "yes"), twelve)
    frame["discrimination_grounds"] = only(
        adult & (five == "yes") & (twelve == "yes"), pick(["sex", "age", "residence ethnicity"])
    )
    dispute = pick(YN, [0.25, 0.72, 0.02, 0.01])
    frame["dispute_2y"] = only(adult, dispute)
    mech = pick(["police", "court lawyer", "municipality", "community_leader", "none"], [0.2, 0.1, 0.1, 0.1, 0.5])
    frame["dispute_mechanisms"] = only(adult & (dispute == "yes"), mech)
    frame["dispute_no_mechanism_reason"] = only(
        adult & (dispute == "yes") & (mech == "none"),
        pick(["not_needed", "resolved_directly", "too_expensive", "no_trust", "dont_know"]),
    )
    frame["main_problems"] = only(
        adult, pick(["robbery extortion", "gangs", "drugs robbery", "violence_women", "none"])
    )
    frame["safety_change_12m"] = only(adult, pick(["safer", "same", "less_safe", "dont_know", "refused"]))
    for t in ["police", "serenazgo", "neighbourhood_committee"]:
        frame[f"trust_{t}"] = only(adult, pick(TRUST))
    for item in ["linea100", "cem"]:
        knows = pick(YN, [0.6, 0.35, 0.03, 0.02])
        frame[f"knows_{item}"] = only(adult, knows)
        frame[f"used_{item}"] = only(adult & (knows == "yes"), pick(YN, [0.1, 0.88, 0.01, 0.01]))
    frame["knows_barrio_seguro"] = only(adult, pick(YN))
    frame["expects_victim_12m"] = only(adult, pick(YN, [0.8, 0.15, 0.04, 0.01]))
    frame.loc[n - 1, "review_state"] = "rejected"
    meta = ["instance_id", "form_id", "form_version", "volunteer", "device_id", "review_state", "source"]
    answers = [c for c in frame.columns if c not in meta]
    return pd.concat([frame[meta].astype(object), frame[answers].astype("str")], axis=1)
