"""The demo round: synthetic interviews made by filling the real questionnaire, sent the way phones send them.

Why: a newcomer opening an empty app must see every page working — monitoring, quality flags, estimates — on data
that behave like a field round, and the data must travel the same road as real data so that the demo also proves
the road. So this module does not write rows into the store. It

1. reads the XForm the store serves to phones and fills it as ODK Collect would (`forms.xform`: relevance,
   constraints and required checked, selects from the form's own choice lists, the metadata and `audit.csv` a
   phone adds), so a form the demo fills is a form a phone can fill;
2. answers the questions from a small model of a plausible population (see `_answers`): more women and young
   people than the population (who is at home when volunteers knock), victims feel less safe, women feel less safe
   after dark, the programme districts report more victimisation but know the help services better, don't-know
   and refusal answers, a few consent refusals and under-18 screen-outs, and privacy checks that skip the
   violence module now and then;
   every visit to a selected dwelling is a submission, as the questionnaire asks: nobody home (visited again up
   to three times), household refusals at the door, vacant dwellings and businesses, unreachable dwellings, no
   adult at home, the selected person away (visited again), the selected person declining — so the round has
   AAPOR dispositions to count, and response rates like a Peruvian face-to-face survey's (RR1 about 0.68);
3. plays a field round on the sample: the blocks of the form's `blocks.csv` media (data/blocks.csv, the plan of
   the synthetic frame), each worked by one volunteer, who visits exactly its `dwelling_numbers` (`_walk`), so the
   analysis weights the round from the recorded probabilities. The round's `size` counts visits (submissions):
   the neighbourhoods are taken in turn, so a short round still reaches each; the whole sample is about 5,000
   visits, and a larger (benchmark) round walks it again. Volunteers (real accounts with tokens, obviously fake
   names) work over three weeks, one of them a speeder, one with many don't-knows, one whose phone has an outdated form
   version, one with an unreliable GPS; a few GPS points outside their neighbourhood; one byte-identical resend
   and one interview saved twice under two instanceIDs (the duplicate a coordinator must catch);
4. posts each submission through the OpenRosa route (`collect.openrosa.routes`: HEAD then multipart POST, 201
   expected), or in bulk through the function that route calls (`Store.receive`) for the 100k benchmark set.

Everything is drawn from one seeded `random.Random`: the same seed gives byte-identical submissions, so loading
twice adds nothing (the store recognises each instanceID's identical resend).

The round is marked synthetic in the store's settings (`demo_round`) and every demo volunteer's name ends in
"(demo)", so pages can say the data are synthetic while they are (`demo_round`, `is_synthetic`).
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import httpx
import pandas as pd
import sqlalchemy as sa
from pyxform.xls2xform import convert
from starlette.applications import Starlette

from analysis.recode import GROUNDS
from collect import tables
from collect.openrosa import routes
from collect.publish import publish_shipped_forms
from collect.store import Attachment, Store
from collect.volunteers import DEFAULT_PROJECT, add_volunteer, list_volunteers, reissue_token
from dashboard.constants import DEMO_SEED
from forms.build import DATA_DIR, FORMS_DIR, BuiltForm, build_form
from forms.xform import Metadata, XForm, audit_log, fill, instance_xml, read_xform

FORM_XLSX = FORMS_DIR / "sdg16_perception.xlsx"
DEMO_SETTING = "demo_round"
DEMO_SUFFIX = " (demo)"
PERU = timezone(timedelta(hours=-5))
FIELD_START = date(2026, 11, 2)  # a Monday; fixed so that the same seed gives the same submissions on any day
FIELD_DAYS = 18  # three weeks, Monday to Saturday
PROGRAMME_DISTRICTS = frozenset({"el_porvenir", "florencia_de_mora", "la_esperanza"})


class DemoError(RuntimeError):
    """The demo cannot be loaded or sent: names the store content or response that stopped it. (A form the demo
    cannot read or answers it would refuse raise `forms.xform.XFormError`/`forms.xpath.XPathError`.)"""


# ---------------------------------------------------------------------------------------------------------------
# The population model: who answers, and how.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A selected block of blocks.csv: its code, the dwellings the plan selected in it (`dwelling_numbers`) and
    the volunteer assigned to it (empty: the round assigns one)."""

    name: str
    dwellings: tuple[int, ...]
    volunteer: str = ""


@dataclass(frozen=True)
class Area:
    """A neighbourhood of data/neighbourhoods.csv with the demo's latent level of insecurity (1 = city average)."""

    name: str
    district: str
    lat: float
    lon: float
    population: float
    risk: float
    blocks: tuple[Block, ...] = ()  # the selected blocks of blocks.csv in this neighbourhood

    @property
    def programme(self) -> bool:
        return self.district in PROGRAMME_DISTRICTS


@dataclass(frozen=True)
class DemoVolunteer:
    """A demo volunteer and the habits that give the quality checks something to find."""

    name: str
    speeder_share: float = 0.015  # interviews rushed through in a few minutes
    dk_factor: float = 1.0  # multiplies the don't-know / refusal rates
    gps_missing: float = 0.03  # no GPS fix (indoors, old phone)
    outdated_form: bool = False  # the phone never updated the form


_FIRST_NAMES = ("Ana", "Bruno", "Carla", "Diego", "Elena", "Fabio", "Gina", "Hugo", "Irene", "Julio", "Karen", "Luis")
_SURNAMES = (
    "Ejemplo",
    "Ficticio",
    "Prueba",
    "Muestra",
    "Simulada",
    "Inventado",
    "Ensayo",
    "Maqueta",
    "Ficcion",
    "Modelo",
    "Borrador",
    "Supuesto",
)


def demo_volunteers(count: int = 12) -> list[DemoVolunteer]:
    """Volunteers with obviously fake names, each with a habit for the quality checks to find: the 4th (Diego) has a
    poor GPS, the 6th (Fabio) gets many don't-knows, the 7th (Gina) has an outdated form, the 8th (Hugo) rushes
    interviews; the 3rd (Carla) will resend one form, the 5th (Elena) save one twice. Repeats every twelve."""
    team = []
    for index in range(count):
        first, surname = _FIRST_NAMES[index % 12], _SURNAMES[(index + index // 12) % 12]
        name = f"{first} {surname}{f' {index // 12 + 1}' if index >= 12 else ''}{DEMO_SUFFIX}"
        habit = index % 12
        team.append(
            DemoVolunteer(
                name,
                speeder_share=0.45 if habit == 7 else 0.015,
                dk_factor=6.0 if habit == 5 else 1.0,
                gps_missing=0.4 if habit == 3 else 0.03,
                outdated_form=habit == 6,
            )
        )
    return team


def read_areas(
    neighbourhoods: bytes, populations: pd.DataFrame, rng: random.Random, blocks: bytes | None = None
) -> list[Area]:
    """The neighbourhoods with their population (district census × assumed share), a drawn insecurity level and
    their selected blocks (the form's blocks.csv media; data/blocks.csv when not given).

    Insecurity is higher in the programme districts (the reason the programme went there) and lower in the
    coastal residential Víctor Larco and the rural inland districts, with noise between neighbourhoods.
    """
    frame = pd.read_csv(io.BytesIO(neighbourhoods))
    frame = frame.merge(populations[["district", "population_2017"]], on="district", how="left")
    selected = pd.read_csv(io.BytesIO(blocks or (DATA_DIR / "blocks.csv").read_bytes()), dtype=str).fillna("")
    by_area: dict[str, tuple[Block, ...]] = {}
    for row in selected.itertuples(index=False):
        block = Block(row.name, tuple(int(n) for n in row.dwelling_numbers.split()), row.volunteer)
        by_area[row.neighbourhood] = (*by_area.get(row.neighbourhood, ()), block)
    base = {"victor_larco_herrera": 0.7, "simbal": 0.55, "poroto": 0.55, "trujillo": 1.0}
    return [
        Area(
            row.name,
            row.district,
            float(row.lat),
            float(row.lon),
            float(row.population_2017) * float(row.population_share),
            (1.3 if row.district in PROGRAMME_DISTRICTS else base.get(row.district, 0.9)) * rng.uniform(0.85, 1.15),
            by_area.get(row.name, ()),
        )
        for row in frame.itertuples(index=False)
    ]


class _Asker:
    """Draws one respondent's answers; `dk` is this interview's don't-know rate (refusals are half of it)."""

    def __init__(self, rng: random.Random, dk: float):
        self.rng = rng
        self.dk = dk

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def one(self, weights: Mapping[str, float]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def answer(self, value: str, dk: bool = True, refused: bool = True) -> str:
        """The respondent's answer, sometimes replaced by don't know or refused (when the list offers them)."""
        draw = self.rng.random()
        if dk and draw < self.dk:
            return "dont_know"
        if refused and draw < self.dk * 1.5:
            return "refused"
        return value

    def yes(self, p: float) -> str:
        return self.answer("yes" if self.chance(p) else "no")

    def many(self, probabilities: Mapping[str, float], none: str | None = None) -> str:
        """A select_multiple: each option with its probability; `none` (exclusive) when nothing was chosen."""
        chosen = [name for name, p in probabilities.items() if self.chance(p)]
        if not chosen:
            chosen = [none] if none else [max(probabilities, key=probabilities.get)]
        return " ".join(chosen)

    def scale(self, latent: float, names: tuple[str, ...], cuts: tuple[float, ...]) -> str:
        """An ordinal answer from a latent score and ascending cut points (len(cuts) = len(names) - 1)."""
        return self.answer(names[sum(latent > cut for cut in cuts)])


_AGE_GROUPS = ((18, 29, 0.42), (30, 44, 0.29), (45, 59, 0.18), (60, 85, 0.11))  # census 18+: about .30 .31 .22 .17
_SERVICES = {"health": 0.35, "school_primary": 0.7, "school_secondary": 0.55, "gov_services": 0.45}
_ATTRIBUTES = {
    "health": ("access", "affordability", "quality", "equality", "courtesy"),
    "school_primary": ("access", "affordability", "quality", "equality", "teaching"),
    "school_secondary": ("access", "affordability", "quality", "equality", "teaching"),
    "gov_services": ("access", "affordability", "delivery", "equality", "timeliness"),
}
_EDUCATION = {
    "none": ("no_schooling",),
    "primary": ("primary_incomplete", "primary_complete"),
    "secondary": ("secondary_incomplete", "secondary_complete", "secondary_complete"),
    "technical": ("tertiary_nonuniv_incomplete", "tertiary_nonuniv_complete"),
    "university": ("university_incomplete", "university_complete", "postgraduate"),
}
_OFFICIALS = {
    "police": 0.15,
    "justice": 0.05,
    "municipality": 0.18,
    "registry": 0.2,
    "health": 0.22,
    "education": 0.1,
    "tax": 0.05,
    "other": 0.05,
}
_AGREE = ("strongly_disagree", "disagree", "agree", "strongly_agree")
_SATISFACTION = ("very_dissatisfied", "dissatisfied", "satisfied", "very_satisfied")
_OTHER_TEXTS = (
    "ruidos y fiestas",
    "falta de alumbrado",
    "perros sueltos",
    "basura en la calle",
    "mototaxis informales",
)


@dataclass(frozen=True)
class _Person:
    """What the model knows about a respondent once the socio-demographic module is answered."""

    area: Area
    age: int
    female: bool
    education: str
    disability: bool

    @property
    def young(self) -> bool:
        return self.age < 30

    @property
    def old(self) -> bool:
        return self.age >= 60


def _answers(
    rng: random.Random, area: Area, volunteer: DemoVolunteer, slot: _Slot, gps: str | None, rushed: bool = False
) -> dict[str, str | None]:
    """One visit's answers by field name (the form decides which of them are asked).

    The visit's outcome comes from the slot (nobody home, refused at the door, vacant, ...); a household that
    opens gets its adults counted and the next-birthday person selected. The correlations are the ones a
    researcher should find again: victimisation is higher for the young and in insecure areas; fear after dark
    rises with being a woman, a victim, older age and the area's insecurity; programme districts feel a little
    safer than a year ago, know Línea 100, the CEM and Barrio Seguro better and trust their neighbourhood
    committees more; satisfaction follows the service attributes; sexual violence is reported mostly to the CEM
    and the police. A `rushed` interview straight-lines the service batteries.
    The modules are drawn in the questionnaire's order, so a given seed always gives the same answers.
    """
    ask = _Asker(rng, 0.012 * volunteer.dk_factor)
    answers: dict[str, str | None] = {
        "district": area.district,
        "neighbourhood": area.name,
        "block": slot.block,
        "dwelling_number": str(slot.dwelling),
        "visit_number": str(slot.visit),
        "gps": gps,
    }
    answers["contact_result"] = "contact" if slot.outcome in CONTACT else slot.outcome
    if answers["contact_result"] != "contact":
        return answers
    answers["eligible_adults"] = str(slot.adults)
    if slot.adults == 0:
        return answers
    answers["selected_name_initials"] = "".join(rng.choices("ABCDEFGHIJLMNOPRSTVY", k=2)) if ask.chance(0.4) else None
    answers["selected_available"] = "no" if slot.outcome == "away" else "yes"
    if slot.outcome == "away":
        return answers
    if ask.chance(0.015):
        answers["age"] = str(rng.randint(15, 17))  # screened out: the form ends for under-18s
        return answers
    answers["consent"] = "no" if slot.outcome == "refused" else "yes"
    person = _respondent(ask, area, answers)
    if answers["consent"] == "no":
        return answers
    victim = _experiences(ask, person)  # what happened to them, asked later (after the privacy check)
    fear = _safety_after_dark(ask, person, any(victim.values()), answers)
    _trujillo(ask, person, fear, answers)
    _violence(ask, person, victim, answers)
    _bribery(ask, person, answers)
    _services(ask, person, rushed, answers)
    _voice_discrimination_disputes(ask, person, answers)
    answers["volunteer_notes"] = (
        rng.choice(("Entrevista interrumpida por ruido en la calle.", "La persona pidió terminar rápido."))
        if ask.chance(0.03)
        else None
    )
    return answers


def _respondent(ask: _Asker, area: Area, answers: dict) -> _Person:
    """Age (young-heavy: who is at home), sex (60 % women), education by age, the Washington Group short set
    (difficulties rise with age), years in the neighbourhood, adults in the household."""
    low, high, _ = ask.rng.choices(_AGE_GROUPS, [group[2] for group in _AGE_GROUPS])[0]
    age = ask.rng.randint(low, high)
    female = ask.chance(0.6)
    young, old = age < 30, age >= 60
    answers |= {"age": str(age), "sex": "female" if female else "male"}
    education = ask.one(
        {
            "none": 0.03 + 0.1 * old,
            "primary": 0.12 + 0.25 * old,
            "secondary": 0.45,
            "technical": 0.2,
            "university": 0.2 + 0.08 * young,
        }
    )
    answers["education_level"] = ask.answer(ask.rng.choice(_EDUCATION[education]), dk=False)
    answers["ethnicity"] = ask.answer(
        ask.one(
            {
                "mestizo": 0.72,
                "quechua": 0.07,
                "white": 0.07,
                "afroperuvian": 0.04,
                "other_indigenous": 0.01,
                "amazonian_indigenous": 0.005,
                "other": 0.02,
            }
        )
    )
    answers["ethnicity_other"] = ask.rng.choice(("trujillano", "norteño", "peruano"))
    answers["mother_tongue"] = ask.answer(
        ask.one({"spanish": 0.93, "quechua": 0.05, "other_native": 0.005, "other_foreign": 0.005})
    )
    migrant = ask.chance(0.06 if young else 0.03)
    answers["nationality"] = ask.answer(
        ask.one({"venezuelan": 0.85, "colombian": 0.1, "ecuadorian": 0.05}) if migrant else "peruvian", dk=False
    )
    answers["years_in_peru"] = str(min(age, ask.rng.randint(0, 8)))
    answers["employment_status"] = ask.answer(
        ask.one(
            {
                "employed": 0.55,
                "unemployed": 0.06,
                "student": 0.12 * young + 0.01,
                "home_care": 0.14 * female,
                "retired": 0.3 * old,
                "unable": 0.02,
                "other": 0.02,
            }
        )
    )
    answers["income_sufficiency"] = ask.answer(
        ask.one(
            {
                "save": 0.12 + 0.1 * (education == "university"),
                "just_enough": 0.45,
                "difficulties": 0.3,
                "great_difficulties": 0.1,
            }
        )
    )
    assets = ask.many(
        {
            "refrigerator": 0.7,
            "washing_machine": 0.45,
            "computer": 0.35 + 0.2 * (education == "university"),
            "internet": 0.55,
            "car": 0.12,
            "motorcycle": 0.15,
        },
        none="none",
    )
    answers["household_assets"] = "refused" if ask.chance(ask.dk / 2) else assets
    frailty = max(0, age - 40) / 45
    domains = {"seeing": 2.0, "hearing": 1.0, "walking": 1.5, "remembering": 1.0, "selfcare": 0.5, "communicating": 0.5}
    for domain, boost in domains.items():
        answers[f"wg_{domain}"] = ask.answer(
            ask.one(
                {
                    "no_difficulty": 1.0,
                    "some_difficulty": boost * (0.04 + 0.3 * frailty),
                    "a_lot_of_difficulty": boost * (0.006 + 0.05 * frailty),
                    "cannot_do_at_all": 0.002 + 0.01 * frailty,
                }
            )
        )
    disability = any(answers[f"wg_{domain}"] in ("a_lot_of_difficulty", "cannot_do_at_all") for domain in domains)
    answers["years_in_neighbourhood"] = str(min(age, int(ask.rng.expovariate(1 / 14))))
    return _Person(area, age, female, education, disability)


def _experiences(ask: _Asker, person: _Person) -> dict[str, bool]:
    """Victimisation in the last 12 months: higher for the young and in insecure areas; sexual violence mostly
    against young women."""
    risk, young, female = person.area.risk, person.young, person.female
    return {
        "robbery": ask.chance(min(0.5, 0.15 * risk * (1.3 if young else 1.0))),
        "physical": ask.chance(0.045 * risk * (1.5 if young else 1.0)),
        "psychological": ask.chance(0.07 * risk * (1.4 if female else 1.0)),
        "sexual": ask.chance(0.012 * risk * ((3.5 if young else 2.0) if female else 0.4)),
    }


def _violence(ask: _Asker, person: _Person, victim: Mapping[str, bool], answers: dict) -> None:
    """The self-completed module, when the privacy check lets it be asked: the experiences as batteries of acts,
    robbery apart from snatch theft, extortion, whether the most recent incident was reported, and to whom."""
    risk, young, female = person.area.risk, person.young, person.female
    answers["privacy_check"] = ask.one(
        {"alone": 0.78, "others_left": 0.12, "others_present": 0.08, "respondent_declined": 0.02}
    )
    acts = {
        "physical": ("assault_hit_12m", "assault_weapon_12m", "assault_threat_weapon_12m"),
        "psychological": ("threat_12m", "harassment_12m"),
        "sexual": ("sexual_touching_12m", "sexual_forced_12m", "sexual_incapacitated_12m"),
        "robbery": ("robbery_force_12m",),
    }
    for kind, names in acts.items():
        committed = {ask.rng.choice(names)} if victim[kind] else set()
        committed |= {name for name in names if victim[kind] and ask.chance(0.25)}
        for name in names:
            answers[name] = ask.answer("yes" if name in committed else "no")
    answers["snatch_theft_12m"] = ask.yes(min(0.4, 0.12 * risk))
    answers["extortion_12m"] = ask.yes(0.05 * risk * (1.4 if person.area.programme else 1.0))
    report_rate = {"robbery": 0.17, "physical": 0.3, "psychological": 0.12, "sexual": 0.16}
    authorities = {
        "robbery": {"police": 0.85, "serenazgo": 0.3, "prosecutor": 0.05, "other": 0.03},
        "physical": {
            "police": 0.75,
            "prosecutor": 0.15,
            "cem": 0.25 if female else 0.03,
            "serenazgo": 0.15,
            "judiciary": 0.05,
        },
        "psychological": {"cem": 0.45, "police": 0.35, "demuna": 0.2, "linea_100": 0.15, "other": 0.05},
        "sexual": {"police": 0.5, "cem": 0.55, "linea_100": 0.2, "prosecutor": 0.2},
    }
    for kind in victim:
        programme_boost = 1.4 if person.area.programme and kind in ("psychological", "sexual") else 1.0
        answers[f"reported_{kind}"] = ask.yes(report_rate[kind] * programme_boost)
        answers[f"reported_to_{kind}"] = "refused" if ask.chance(0.04) else ask.many(authorities[kind])
    violence_victim = victim["physical"] or victim["psychological"] or victim["sexual"]
    answers["used_linea100"] = ask.yes(0.25 if violence_victim and female else 0.03)
    answers["used_cem"] = ask.yes(0.3 if violence_victim and female else 0.02)
    answers["violence_mode"] = "self" if ask.chance(0.55 if young else 0.3) else "interviewer"


def _safety_after_dark(ask: _Asker, person: _Person, victimised: bool, answers: dict) -> float:
    """16.1.4 (and its day-time companion) from a latent fear score, returned for the questions that follow it.
    Victims feel less safe, although v2 asks this before the victimisation questions."""
    fear = (
        ask.rng.gauss(0, 1) + 0.5 * person.female + 0.6 * victimised + 0.6 * (person.area.risk - 1) + 0.25 * person.old
    )
    fear -= 0.2 * (person.young and not person.female)
    scale = ("very_safe", "safe", "unsafe", "very_unsafe")
    if ask.chance(0.03 + 0.12 * person.old + 0.05 * person.female):
        answers["feels_safe_after_dark"] = "never_alone_after_dark"
        answers["would_feel_safe_after_dark"] = ask.scale(fear, scale, (-1.1, 0.0, 1.0))
    else:
        answers["feels_safe_after_dark"] = ask.scale(fear, scale, (-1.1, 0.1, 1.1))
    answers["feels_safe_daytime"] = ask.scale(fear - 1.2, scale, (-1.1, 0.1, 1.1))
    answers["expects_victim_12m"] = ask.yes(min(0.95, 0.6 + 0.15 * (fear > 0) + 0.15 * victimised))
    return fear


def _bribery(ask: _Asker, person: _Person, answers: dict) -> None:
    """16.5.1: contact with officials (more in working age); bribes asked more where insecurity is high."""
    working_age = 1.3 if 30 <= person.age < 60 else 1.0
    for official, rate in _OFFICIALS.items():
        answers[f"contact_{official}_12m"] = ask.yes(rate * working_age)
    asked = ask.chance(0.1 * person.area.risk)
    answers["bribe_asked_12m"] = ask.answer("yes" if asked else "no")
    answers["bribe_paid_12m"] = ask.yes(0.4 if asked else 0.01)


def _services(ask: _Asker, person: _Person, rushed: bool, answers: dict) -> None:
    """16.6.2: use by life stage; the five attributes and the satisfaction follow one opinion of the service."""
    age = person.age
    use = {
        "health": 0.55 + 0.1 * person.female + 0.1 * person.old,
        "school_primary": 0.32 if 25 <= age < 50 else 0.06,
        "school_secondary": 0.28 if 30 <= age < 56 else 0.05,
        "gov_services": 0.45,
    }
    for service, quality in _SERVICES.items():
        answers[f"used_{service}_12m"] = ask.yes(use[service])
        opinion = ask.rng.gauss(0, 1) + quality - 0.2 * (person.area.risk - 1)
        attributes = []
        for attribute in _ATTRIBUTES[service]:
            score = opinion + ask.rng.gauss(0, 0.6)
            attributes.append(score)
            value = (
                "not_applicable"
                if attribute == "affordability" and ask.chance(0.05)
                else ask.scale(score, _AGREE, (-0.8, 0.0, 1.4))
            )
            answers[f"{service}_{attribute}"] = "agree" if rushed else value
        satisfaction = ask.scale(sum(attributes) / 5 + ask.rng.gauss(0, 0.4), _SATISFACTION, (-0.9, -0.1, 1.3))
        answers[f"{service}_satisfaction"] = "satisfied" if rushed else satisfaction


def _voice_discrimination_disputes(ask: _Asker, person: _Person, answers: dict) -> None:
    """16.7.2 (political efficacy, a little higher for the young and the university-educated), 16.b.1
    (discrimination: women, people with disabilities, programme districts by place of residence), 16.3.3."""
    efficacy = ask.rng.gauss(0, 1) + 0.15 * person.young + 0.25 * (person.education == "university")
    for question in ("say_in_government", "influence_on_politics"):
        answers[question] = ask.scale(
            efficacy + ask.rng.gauss(0, 0.5),
            ("not_at_all", "very_little", "some", "a_lot", "a_great_deal"),
            (-0.3, 0.5, 1.4, 2.0),
        )
    programme, female = person.area.programme, person.female
    discriminated = ask.chance(0.2 + 0.06 * female + 0.12 * person.disability + 0.05 * programme)
    answers["discrimination_5y"] = ask.answer("yes" if discriminated else "no")
    answers["discrimination_12m"] = ask.yes(0.55)
    grounds = ask.many(
        {
            "socioeconomic": 0.4,
            "residence": 0.5 if programme else 0.25,
            "sex": 0.3 if female else 0.06,
            "age": 0.3 if person.young or person.old else 0.05,
            "ethnicity": 0.2,
            "disability": 0.6 if person.disability else 0.01,
            "migration": 0.04,
            "religion": 0.03,
            "marital": 0.04,
            "sexual_orientation": 0.03,
            "political": 0.04,
            "other": 0.03,
        }
    ).split()
    for ground in GROUNDS:  # the form's yes/no per ground, as the analysis reads them
        answers[f"discrim_{ground}"] = ask.answer("yes" if ground in grounds else "no")
    answers["discrimination_grounds_other"] = ask.rng.choice(("por su forma de vestir", "por su peso", "por su acento"))
    types = ask.many(
        {
            "land_housing": 0.05,
            "neighbours": 0.07,
            "family": 0.05,
            "money_debts": 0.04,
            "employment": 0.03,
            "consumer": 0.03,
            "utilities": 0.03,
            "government": 0.02,
            "injury_accident": 0.01,
        },
        none="none",
    )
    answers["dispute_types_2y"] = ask.answer(types)
    answers["dispute_recent_type"] = ask.rng.choice(types.split())
    answers["dispute_mechanisms_self"] = (
        "none"
        if ask.chance(0.3)
        else (
            "family_friends"
            if ask.chance(0.1)
            else ask.many(
                {
                    "police": 0.2,
                    "court": 0.1,
                    "prosecutor": 0.05,
                    "lawyer": 0.12,
                    "conciliation": 0.08,
                    "ombudsman": 0.02,
                    "municipality": 0.15,
                    "justice_of_peace": 0.15,
                    "community_leader": 0.12,
                    "religious_leader": 0.03,
                    "other": 0.03,
                }
            )
        )
    )
    answers["dispute_mechanisms_other"] = ask.rng.choice(("junta vecinal", "ronda campesina", "sindicato"))
    answers["dispute_no_mechanism_reason"] = ask.answer(
        ask.one(
            {
                "not_needed": 0.2,
                "resolved_directly": 0.3,
                "didnt_know": 0.1,
                "too_expensive": 0.1,
                "too_far": 0.05,
                "no_trust": 0.15,
                "fear": 0.05,
                "other": 0.02,
            }
        )
    )


def _trujillo(ask: _Asker, person: _Person, fear: float, answers: dict) -> None:
    """The local module, asked before victimisation: problems (extortion where the programme works), change in
    safety, trust, awareness of the help services (better known in the programme districts)."""
    area, female, victimised = person.area, person.female, fear > 1  # the fearful trust less, as victims do
    answers["main_problems"] = ask.many(
        {
            "robbery": 0.8,
            "extortion": 0.5 if area.programme else 0.35,
            "gangs": 0.35 * area.risk,
            "drugs": 0.3,
            "violence_women": 0.3 if female else 0.15,
            "youth_violence": 0.25,
            "other": 0.04,
        },
        none="none",
    )
    answers["main_problems_other"] = ask.rng.choice(_OTHER_TEXTS)
    answers["safety_change_12m"] = ask.answer(
        ask.one(
            {"safer": 0.22, "same": 0.42, "less_safe": 0.36}
            if area.programme
            else {"safer": 0.12, "same": 0.42, "less_safe": 0.46}
        )
    )
    trust = ask.rng.gauss(0, 1) - 0.3 * victimised
    for institution, shift in (
        ("police", -0.3),
        ("serenazgo", 0.1),
        ("neighbourhood_committee", 0.4 if area.programme else 0.0),
    ):
        answers[f"trust_{institution}"] = ask.scale(
            -(trust + shift + ask.rng.gauss(0, 0.6)), ("a_lot", "some", "little", "none_at_all"), (-1.3, -0.2, 0.8)
        )
    answers["knows_linea100"] = ask.yes(0.68 + 0.12 * area.programme)
    answers["knows_cem"] = ask.yes(0.45 + 0.2 * area.programme + 0.05 * female)
    answers["knows_barrio_seguro"] = ask.yes(0.25 + 0.3 * area.programme)


# ---------------------------------------------------------------------------------------------------------------
# The field round: where, by whom, when.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSubmission:
    """One POST as a phone makes it: the XML, its attachments, who sends it; `resend` marks Collect sending again."""

    volunteer: str
    instance_id: str
    xml: bytes
    attachments: tuple[Attachment, ...]
    resend: bool = False


@dataclass(frozen=True)
class _Slot:
    """One visit to make: the area, the block (PSU), the dwelling and visit number, the household's adults (0:
    none) and what the visit finds: `interview`, `refused` (the selected person declines consent), `away` (the
    selected person is not there), or a contact result other than contact (`noncontact`, `refused_door`,
    `vacant`, `not_dwelling`, `no_access`)."""

    area: Area
    block: str
    dwelling: int = 1
    visit: int = 1
    outcome: str = "interview"
    adults: int = 2
    volunteer: int = 0  # index in the team


CONTACT = ("interview", "refused", "away")
# What a listed dwelling is (Peruvian urban listings: a few percent vacant, shops and workshops, rare unsafe access).
_DWELLING = {"household": 0.915, "vacant": 0.05, "not_dwelling": 0.02, "no_access": 0.015}
# Adults 18+ in a household (ENAHO-like: mostly 2–3, about 1 % with none: only minors at home).
_ADULTS = {0: 1, 1: 13, 2: 35, 3: 24, 4: 15, 5: 7, 6: 4, 7: 1}
MAX_VISITS = 3  # nobody home (or the selected person away) is final after the third visit


def _walk(areas: list[Area], size: int, team: int, rng: random.Random) -> list[_Slot]:
    """The round's first `size` visits, walking the plan: the blocks of blocks.csv, taken one neighbourhood after
    another in turn (so a short round still reaches every neighbourhood), each block worked whole by its volunteer
    (the named one, else the next of the team in turn): a first visit to each of its selected dwellings, then
    second and third visits to those where nobody was found or the selected person was away.

    Per block, the chance of finding someone home is drawn once (some blocks are out at work all day): the
    non-response the block classes correct. At the door a household may refuse (7 %); a selected adult refuses
    consent more often when there are many adults (a stranger chose them) and the young are found away more.
    With these rates about 70 % of the eligible dwellings end in an interview (RR1 about 0.65–0.7, the
    response rates of Peruvian face-to-face surveys). A round larger than the sample walks it again (benchmark
    sizes only: the dwellings then have more than one interview, which the analysis reports).
    """
    owners_named: dict[str, int] = {}  # a volunteer named in blocks.csv → the demo volunteer playing them
    queues = [list(area.blocks) for area in areas if area.blocks]
    owners = [area for area in areas if area.blocks]
    order = [
        (owners[k], queue[i])
        for i in range(max(map(len, queues), default=0))
        for k, queue in enumerate(queues)
        if i < len(queue)
    ]
    if not order:
        raise DemoError("blocks.csv lists no block in the form's neighbourhoods: the demo round has nothing to visit")
    slots: list[_Slot] = []
    for turn in range(size):
        area, block = order[turn % len(order)]
        worker = owners_named.setdefault(block.volunteer, len(owners_named) % team) if block.volunteer else turn % team
        slots += _block_visits(area, block, worker, rng)
        if len(slots) >= size:
            return slots[:size]
    return slots


def _block_visits(area: Area, block: Block, volunteer: int, rng: random.Random) -> list[_Slot]:
    """Every visit a volunteer makes to one block's selected dwellings, in the order made (see `_walk`)."""
    home = rng.betavariate(4, 2.5)  # this block's chance of finding someone home at a visit
    open_, visits = [], []
    for number in block.dwellings:
        kind = rng.choices(list(_DWELLING), list(_DWELLING.values()))[0]
        adults = rng.choices(list(_ADULTS), list(_ADULTS.values()))[0] if kind == "household" else 0
        slot = _Slot(area, block.name, number, 1, kind, adults, volunteer)
        open_.append(slot)
    for visit in range(1, MAX_VISITS + 1):
        again = []
        for slot in open_:
            slot = _Slot(slot.area, slot.block, slot.dwelling, visit, _outcome(rng, slot, home), slot.adults, volunteer)
            visits.append(slot)
            if slot.outcome in ("noncontact", "away"):
                again.append(slot)
        open_ = again
    return visits


def _outcome(rng: random.Random, slot: _Slot, home: float) -> str:
    """What one visit to a dwelling finds (`slot.outcome` holds the dwelling's kind on the first visit, the
    previous visit's outcome after)."""
    if slot.outcome in ("vacant", "not_dwelling", "no_access"):
        return slot.outcome
    if rng.random() > home:
        return "noncontact"
    if slot.outcome != "away" and rng.random() < 0.08:
        return "refused_door"
    if slot.adults == 0:
        return "interview"  # someone opened: the count of adults (0) ends the visit as not eligible
    if rng.random() < (0.12 if slot.outcome != "away" else 0.4):
        return "away"
    return "refused" if rng.random() < 0.06 + 0.015 * slot.adults else "interview"


def _working_days() -> list[date]:
    days, day = [], FIELD_START
    while len(days) < FIELD_DAYS:
        if day.weekday() < 6:
            days.append(day)
        day += timedelta(days=1)
    return days


def _schedule(rng: random.Random, count: int, speeder_share: float) -> list[tuple[datetime, datetime, bool]]:
    """(start, end, rushed) of a volunteer's `count` interviews: consecutive days from a random first day, 10–16 a
    day, from about nine in the morning, 17 minutes typical (3–6 when rushed), 4–20 minutes between households."""
    days = _working_days()
    first = rng.randint(0, 2)
    per_day = max(rng.randint(10, 16), math.ceil(count / (len(days) - first)))
    times = []
    clock = None
    for k in range(count):
        if k % per_day == 0:
            day = days[first + k // per_day]
            clock = datetime(day.year, day.month, day.day, 9, 0, tzinfo=PERU) + timedelta(minutes=rng.uniform(0, 45))
        rushed = rng.random() < speeder_share
        minutes = rng.uniform(3, 6) if rushed else math.exp(rng.gauss(math.log(17), 0.3))
        start = clock
        end = start + timedelta(minutes=minutes, seconds=rng.uniform(0, 59))
        times.append((start, end, rushed))
        clock = end + timedelta(minutes=rng.uniform(4, 20))
    return times


def _gps(rng: random.Random, area: Area, volunteer: DemoVolunteer) -> str | None:
    """A geopoint near the neighbourhood centre (~300 m), missing sometimes, and about 1 % a few km off."""
    if rng.random() < volunteer.gps_missing:
        return None
    if rng.random() < 0.012:
        angle, distance = rng.uniform(0, 2 * math.pi), rng.uniform(0.03, 0.06)
        lat, lon = area.lat + distance * math.sin(angle), area.lon + distance * math.cos(angle)
    else:
        lat, lon = rng.gauss(area.lat, 0.003), rng.gauss(area.lon, 0.003)
    return f"{lat:.6f} {lon:.6f} {rng.uniform(20, 150):.1f} {rng.uniform(3, 20):.1f}"


def _interviewed(answers: Mapping[str, str | None]) -> bool:
    """Consented and adult: the whole questionnaire was asked."""
    return answers.get("consent") == "yes" and int(answers.get("age") or 0) >= 18


def _short(rng: random.Random, answers: Mapping[str, str | None], start: datetime, end: datetime) -> datetime:
    """Refusals and screen-outs end after a minute or three, whatever the schedule planned."""
    return end if _interviewed(answers) else start + timedelta(minutes=rng.uniform(1, 3))


def _uuid(rng: random.Random) -> str:
    return f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def generate_submissions(
    form: XForm, size: int, *, areas: list[Area], seed: int = DEMO_SEED, outdated: XForm | None = None
) -> Iterator[DemoSubmission]:
    """`size` interviews of a field round as the phones send them; same seed, same bytes.

    Per twelve volunteers, one submission is sent twice (a byte-identical resend) and one interview is saved
    twice under two instanceIDs, so a round yields `size` + 2 POSTs per twelve volunteers. `outdated` is the
    older form version the outdated volunteer's phone still fills (None: every phone is up to date).
    Volunteers: 12, or one per ~170 interviews for large benchmark rounds.
    """
    rng = random.Random(seed)
    team = demo_volunteers(max(12, round(size / 170)))
    slots = _walk(areas, size, len(team), random.Random(seed))
    devices = {
        member.name: "collect:" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=16)) for member in team
    }
    for index, member in enumerate(team):
        own = [slot for slot in slots if slot.volunteer == index]
        version_form = outdated if member.outdated_form and outdated is not None else form
        resend, twin = index % 12 == 2, index % 12 == 4
        for number, (slot, (start, end, rushed)) in enumerate(zip(own, _schedule(rng, len(own), member.speeder_share))):
            answers = _answers(rng, slot.area, member, slot, _gps(rng, slot.area, member), rushed)
            end = _short(rng, answers, start, end)
            submission = _submission(version_form, member, devices[member.name], answers, start, end, rng)
            yield submission
            if resend and number >= len(own) // 2:  # Collect sent it again (e.g. the 201 was lost on a bad network)
                yield DemoSubmission(
                    submission.volunteer, submission.instance_id, submission.xml, submission.attachments, resend=True
                )
                resend = False
            if (
                twin and number >= len(own) // 3 and _interviewed(answers)
            ):  # a full interview saved twice, two instanceIDs
                again = end + timedelta(minutes=2)
                yield _submission(
                    version_form, member, devices[member.name], answers, again, again + timedelta(minutes=4), rng
                )
                twin = False


def _submission(
    form: XForm,
    member: DemoVolunteer,
    device: str,
    answers: Mapping[str, str | None],
    start: datetime,
    end: datetime,
    rng: random.Random,
) -> DemoSubmission:
    metadata = Metadata(start, end, device, member.name, _uuid(rng))
    filled = fill(form, answers, metadata, rng)
    attachments = ()
    if form.has_audit:
        attachments = (Attachment("audit.csv", audit_log(filled, start, end, rng), "text/csv"),)
    return DemoSubmission(member.name, metadata.instance_id, instance_xml(form, filled.values), attachments)


# ---------------------------------------------------------------------------------------------------------------
# Loading: publish the form, create the volunteers, send every submission through the OpenRosa route.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRound:
    """The marker a loaded demo leaves in the store's settings: what was loaded, by whom, with which seed."""

    form_id: str
    version: str
    outdated_version: str | None
    size: int
    seed: int
    volunteers: tuple[str, ...]
    loaded_at: str


@dataclass(frozen=True)
class LoadSummary:
    """What one load sent: POSTs answered 201 with a new submission (`created`) or as a known resend."""

    posted: int
    created: int
    duplicates: int
    round: DemoRound


SENDERS = 16  # submissions in flight at once: the store commits concurrent ones together (benchmarks/demo.md)


def load_demo(
    store: Store, n: int = 2000, progress: Callable[[int, int], None] | None = None, *, seed: int = DEMO_SEED
) -> LoadSummary:
    """Load the synthetic demo round into `store` through the OpenRosa route, as phones would send it.

    Publishes the shipped form (as the server does on start), creates the demo volunteers with real tokens, then
    sends each submission as Collect does — a HEAD on a volunteer's first upload, then a multipart POST to
    `/v1/key/{token}/projects/{project}/submission` — and requires 201. `progress(done, total)` is called after
    each POST (for `st.progress`). Idempotent: the same seed yields the same instanceIDs and bytes, which the
    store recognises as resends, so loading again adds nothing.

    The requests go through httpx's in-process ASGI transport, SENDERS at a time, as a team of phones sending at
    once would: the store's group commit then writes them in shared transactions.
    """
    plan = prepare(store, n, seed=seed)
    before = _stored(store, plan.round.form_id)
    try:
        posted = asyncio.run(_post_all(store, plan, progress))
    except ExceptionGroup as errors:  # the senders' TaskGroup: report the first failure as itself
        raise errors.exceptions[0] from None
    created = _stored(store, plan.round.form_id) - before
    return LoadSummary(posted, created, posted - created, plan.round)


async def _post_all(store: Store, plan: DemoPlan, progress: Callable[[int, int], None] | None) -> int:
    """POST every submission of the plan through the OpenRosa route; returns how many were sent."""
    posted = 0
    transport = httpx.ASGITransport(app=Starlette(routes=routes(store)))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://demo.invalid", headers={"X-OpenRosa-Version": "1.0"}
    ) as client:
        for name, token in plan.tokens.items():
            head = await client.head(f"/v1/key/{token}/projects/{DEFAULT_PROJECT}/submission")
            if head.status_code != 204:
                raise DemoError(f"HEAD /submission for {name} answered {head.status_code}, not 204: {head.text}")
        queue: asyncio.Queue = asyncio.Queue(maxsize=2 * SENDERS)

        async def send() -> None:
            nonlocal posted
            while (submission := await queue.get()) is not None:
                files = [("xml_submission_file", ("submission.xml", submission.xml, "text/xml"))]
                files += [(a.filename, (a.filename, a.content, a.content_type)) for a in submission.attachments]
                response = await client.post(
                    f"/v1/key/{plan.tokens[submission.volunteer]}/projects/{DEFAULT_PROJECT}/submission", files=files
                )
                if response.status_code == 409:
                    raise DemoError(
                        f"submission {submission.instance_id} is already stored with other content (409): this store holds a demo round "
                        "made from another form version or demo generator; load the demo into an empty store or use another --seed"
                    )
                if response.status_code != 201:
                    raise DemoError(
                        f"submission {submission.instance_id} by {submission.volunteer} was answered {response.status_code}: {response.text}"
                    )
                posted += 1
                _report(progress, posted, plan.total)

        async with asyncio.TaskGroup() as group:
            for _ in range(SENDERS):
                group.create_task(send())
            for submission in plan.submissions:
                await queue.put(submission)
            for _ in range(SENDERS):
                await queue.put(None)
    _report(progress, posted, posted)
    return posted


def ingest_demo(
    store: Store, size: int, progress: Callable[[int, int], None] | None = None, *, seed: int = DEMO_SEED
) -> LoadSummary:
    """The same round at benchmark scale (e.g. 100,000) through `Store.receive`, the function the route calls,
    without HTTP: what differs from `load_demo` is only the transport. SENDERS threads receive at once."""
    plan = prepare(store, size, seed=seed)
    posted = created = 0
    pending: set = set()

    def settle(futures) -> None:
        nonlocal posted, created
        for future in futures:
            created += future.result().outcome == "created"
            posted += 1
            _report(progress, posted, plan.total)

    with ThreadPoolExecutor(SENDERS) as pool:
        for submission in plan.submissions:
            if len(pending) >= 2 * SENDERS:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                settle(done)
            pending.add(
                pool.submit(store.receive, submission.xml, submission.attachments, volunteer=submission.volunteer)
            )
        settle(wait(pending).done)
    _report(progress, posted, posted)
    return LoadSummary(posted, created, posted - created, plan.round)


def _report(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    """Progress never above 100 %: `total` counts the saved-twice interview, which a tiny round may lack."""
    if progress is not None:
        progress(done, max(done, total))


def _stored(store: Store, form_id: str) -> int:
    status = store.status()
    return int(status.loc[status["form_id"] == form_id, "stored"].sum())


@dataclass(frozen=True)
class DemoPlan:
    """A demo round ready to send: the submissions (lazily generated) and how many there will be."""

    round: DemoRound
    submissions: Iterator[DemoSubmission]
    total: int
    tokens: Mapping[str, str]


def prepare(store: Store, size: int, *, seed: int = DEMO_SEED) -> DemoPlan:
    """Publish the forms and create the volunteers the round needs, mark the store, and plan the submissions.

    The form filled is the one the store serves to phones (its latest version of the shipped form, with its
    media), so the demo and a real phone fill byte-identical XForms.
    """
    real = _real_submissions(store)
    if real:
        raise DemoError(
            f"this store already holds real submissions ({real:,}); the demo would mix synthetic data into them. Load it into an empty store."
        )
    built = build_form(FORM_XLSX)
    outdated = _outdated_version(store, built)
    publish_shipped_forms(store)
    form_id = built.form_id
    current = store.form_version(form_id)
    media = _media(store, form_id, current.version)
    form = read_xform(store.form_xml(form_id, current.version), media)
    outdated_form = (
        None if outdated is None else read_xform(store.form_xml(form_id, outdated), _media(store, form_id, outdated))
    )
    areas = _areas(media, seed)
    team = demo_volunteers(max(12, round(size / 170)))
    tokens = _issue_tokens(store, [member.name for member in team])
    marker = DemoRound(
        form_id,
        current.version,
        outdated,
        size,
        seed,
        tuple(member.name for member in team),
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    store.setting(DEMO_SETTING, lambda: json.dumps(marker.__dict__))
    submissions = generate_submissions(form, size, areas=areas, seed=seed, outdated=outdated_form)
    return DemoPlan(marker, submissions, size + _extra_posts(len(team)), tokens)


def _real_submissions(store: Store) -> int:
    """Submissions not sent by a demo volunteer (imports without a volunteer count as real)."""
    submissions = tables.submissions
    query = sa.select(sa.func.count()).where(
        sa.or_(submissions.c.volunteer.is_(None), submissions.c.volunteer.not_like(f"%{DEMO_SUFFIX}"))
    )
    with store.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def shipped_round(size: int, *, seed: int = DEMO_SEED) -> Iterator[DemoSubmission]:
    """The demo round of the shipped form as built on disk, without a store: for benchmarks that send it themselves
    (every phone up to date; the volunteers' names are those `prepare` would create)."""
    built = build_form(FORM_XLSX)
    media = {file.name: file.path.read_bytes() for file in built.media}
    return generate_submissions(read_xform(built.xform_bytes, media), size, areas=_areas(media, seed), seed=seed)


def _areas(media: Mapping[str, bytes], seed: int) -> list[Area]:
    """The neighbourhoods the form offers (its CSV media, else data/neighbourhoods.csv) with census populations."""
    neighbourhoods = media.get("neighbourhoods.csv") or (DATA_DIR / "neighbourhoods.csv").read_bytes()
    return read_areas(
        neighbourhoods,
        pd.read_csv(DATA_DIR / "population_trujillo_2017.csv"),
        random.Random(seed),
        media.get("blocks.csv"),
    )


def _media(store: Store, form_id: str, version: str) -> dict[str, bytes]:
    """A published form version's media files by name, as the manifest serves them to phones."""
    return {
        file.filename: store.media_file(form_id, version, file.filename)
        for file in store.form_version(form_id, version).media
    }


def _extra_posts(team_size: int) -> int:
    """The resends and saved-twice interviews `generate_submissions` adds (one each per twelve volunteers)."""
    return len([index for index in range(team_size) if index % 12 in (2, 4)])


def _outdated_version(store: Store, built: BuiltForm) -> str | None:
    """The version the outdated phone holds: the newest older version the store keeps, if any.

    On a store that has never seen the form, an earlier version of it (same questions, dated four weeks before)
    is published first, as a real round would have started with it. The store serves the most recently
    published version as the latest, so an older version cannot be added once the current one is there: then
    no phone is outdated.
    """
    published = [form.version for form in store.form_versions() if form.form_id == built.form_id]
    older = [version for version in published if version < built.version]
    if older:
        return max(older)
    match = re.fullmatch(r"(\d{8})\d{2}", built.version)
    if published or not match:
        return None
    version = (datetime.strptime(match.group(1), "%Y%m%d") - timedelta(days=28)).strftime("%Y%m%d") + "01"
    survey = convert(xlsform=str(built.xlsx_path), pretty_print=True)._survey
    survey.version = version
    media = {file.name: file.path.read_bytes() for file in built.media}
    store.publish_form(survey.to_xml(pretty_print=True).encode("utf-8"), media=media)
    return version


def _issue_tokens(store: Store, names: list[str]) -> dict[str, str]:
    """A fresh token for each demo volunteer: created on first load, reissued on the next ones.

    Tokens are shown once and stored hashed, so a new load cannot reuse the old ones; reissuing is what a
    coordinator does for a lost phone. Nobody holds the tokens after the load: the accounts stay listed with
    what they sent, and can be revoked like any other.
    """
    existing = {volunteer.name for volunteer in list_volunteers(store)}
    return {
        name: (reissue_token(store, name) if name in existing else add_volunteer(store, name)).token for name in names
    }


def demo_round(store: Store) -> DemoRound | None:
    """The demo round loaded into this store, if any: pages use it to say that the data are synthetic."""
    value = store.get_setting(DEMO_SETTING)
    if value is None:
        return None
    fields = json.loads(value)
    return DemoRound(**(fields | {"volunteers": tuple(fields["volunteers"])}))


def is_synthetic(frame: pd.DataFrame) -> pd.Series:
    """Which rows of `Store.submissions_frame` come from the demo round (sent by a "(demo)" volunteer)."""
    return frame["volunteer"].fillna("").str.endswith(DEMO_SUFFIX)


@dataclass(frozen=True)
class Removed:
    submissions: int
    volunteers: int


def remove_demo(store: Store) -> Removed:
    """Delete the demo round: every submission sent by a "(demo)" volunteer (their attachments and reviews go
    with them), the demo volunteers with their tokens, and the mark that the store holds synthetic data. Real
    submissions, dashboard accounts and targets are not touched. One transaction: all of it or nothing."""
    demo_name = tables.volunteers.c.name.like(f"%{DEMO_SUFFIX}")
    with store.write() as conn:
        submissions = conn.execute(
            tables.submissions.delete().where(tables.submissions.c.volunteer.like(f"%{DEMO_SUFFIX}"))
        ).rowcount
        volunteers = conn.execute(tables.volunteers.delete().where(demo_name)).rowcount
        conn.execute(tables.settings.delete().where(tables.settings.c.key == DEMO_SETTING))
    return Removed(submissions, volunteers)
