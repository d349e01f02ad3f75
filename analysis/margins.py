"""Default raking margins for Trujillo: adults 18+ per neighbourhood × sex and × age group.

Why this module exists: the 2017 census totals we hold are per district and for all ages, with no sex or age
breakdown (see data/README.md). Raking needs adult totals per neighbourhood by sex and by age group, so the
default margins are *derived* from the district totals with an explicitly stated split. Every number below
that is not in data/ is an ASSUMPTION (the explicit fallback: `sdg16 margins import` makes margins from INEI's
census table by district × sex × single year of age instead, analysis/census.py), written out in `DefaultMargins.assumption` so that the app, the XLSX
metadata sheet and the committed `analysis/plans/margins_default.md` show it. Users replace these margins with
their own files (e.g. tabulated from INEI REDATAM for the 2017 census) by pointing the plan's `[[margins]]` at them.

Reproduce the committed files with `sdg16 margins default --out analysis/plans/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.paths import DATA  # neighbourhoods.csv, population_trujillo_2017.csv
from analysis.plan import DEFAULT_PLAN, Plan

AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
DEFAULT_FILES = tuple(DEFAULT_PLAN.parent / name for name in ("margins_sex.csv", "margins_age.csv"))


@dataclass(frozen=True)
class SplitAssumption:
    """The assumed structure of the adult population, applied identically in every neighbourhood.

    Rounded from Peru's national 2017 census age-sex structure (INEI, "Perfil sociodemográfico del Perú",
    2018: about 68% of residents aged 18+, women slightly above half of adults). Not measured in Trujillo.
    """

    adult_share: float = 0.68
    female_share: float = 0.515
    age_shares: dict[str, float] = field(
        default_factory=lambda: {
            "18-24": 0.19,
            "25-34": 0.23,
            "35-44": 0.195,
            "45-54": 0.155,
            "55-64": 0.11,
            "65+": 0.12,
        }
    )

    def check(self) -> None:
        """Refuse shares that cannot describe a population, before any number is produced."""
        if not 0 < self.adult_share <= 1:
            raise AnalysisError(f"assumed adult share must be in (0, 1], got {self.adult_share}")
        if not 0 < self.female_share < 1:
            raise AnalysisError(f"assumed female share must be in (0, 1), got {self.female_share}")
        if set(self.age_shares) != set(AGE_GROUPS):
            raise AnalysisError(f"assumed age shares must cover exactly {', '.join(AGE_GROUPS)}")
        if not np.isclose(sum(self.age_shares.values()), 1.0) or min(self.age_shares.values()) <= 0:
            raise AnalysisError(
                f"assumed age shares must be positive and sum to 1, got {sum(self.age_shares.values())}"
            )


@dataclass(frozen=True)
class DefaultMargins:
    """The two margin tables (each with `population`) and the text saying how they were made."""

    sex: pd.DataFrame
    age: pd.DataFrame
    assumption: str


def default_margins(
    neighbourhoods: pd.DataFrame, districts: pd.DataFrame, split: SplitAssumption = SplitAssumption()
) -> DefaultMargins:
    """Adults per neighbourhood × sex and × age group from district census totals and an assumed split.

    Each neighbourhood total is rounded to whole people once; both splits are then rounded with the largest
    remainder method so that, per neighbourhood, the sex margin and the age margin add up to the same total
    (raking refuses margins whose totals disagree).
    """
    split.check()
    adults = _neighbourhood_adults(neighbourhoods, districts, split.adult_share)
    sex = _split(adults, "sex", {"female": split.female_share, "male": 1 - split.female_share})
    age = _split(adults, "age_group", {g: split.age_shares[g] for g in AGE_GROUPS})
    return DefaultMargins(sex=sex, age=age, assumption=_describe(split, adults))


def _neighbourhood_adults(neighbourhoods: pd.DataFrame, districts: pd.DataFrame, adult_share: float) -> pd.Series:
    """Whole adults per neighbourhood = district 2017 population × neighbourhood share × adult share."""
    for frame, name, columns in (
        (neighbourhoods, "neighbourhoods", ("name", "district", "population_share")),
        (districts, "district populations", ("district", "population_2017")),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise AnalysisError(f"{name} table lacks column(s) {', '.join(missing)}")
    unknown = sorted(set(neighbourhoods["district"]) - set(districts["district"]))
    if unknown:
        raise AnalysisError(f"neighbourhoods refer to district(s) with no population total: {', '.join(unknown)}")
    share_sums = neighbourhoods.groupby("district")["population_share"].sum()
    bad = share_sums[~np.isclose(share_sums, 1.0)]
    if len(bad):
        raise AnalysisError(
            "population_share of the neighbourhoods of a district must sum to 1: "
            + ", ".join(f"{d} sums to {s:g}" for d, s in bad.items())
        )
    population = neighbourhoods["district"].map(districts.set_index("district")["population_2017"])
    adults = (population * neighbourhoods["population_share"] * adult_share).round().astype("int64")
    return pd.Series(adults.to_numpy(), index=pd.Index(neighbourhoods["name"], name="neighbourhood"))


def _split(adults: pd.Series, column: str, shares: dict[str, float]) -> pd.DataFrame:
    """Split each whole total by shares with the largest-remainder method (rows keep the totals exactly)."""
    share = np.array(list(shares.values()))
    exact = adults.to_numpy()[:, None] * share[None, :]
    whole = np.floor(exact).astype("int64")
    short = adults.to_numpy() - whole.sum(axis=1)
    order = np.argsort(-(exact - whole), axis=1, kind="stable")
    ranks = np.argsort(order, axis=1, kind="stable")
    whole += (ranks < short[:, None]).astype("int64")
    table = pd.DataFrame(whole, index=adults.index, columns=pd.Index(list(shares), name=column))
    return table.stack().rename("population").reset_index()


def _describe(split: SplitAssumption, adults: pd.Series) -> str:
    """The human-readable statement of the assumption, shown by the app and in exports."""
    ages = ", ".join(f"{g}: {split.age_shares[g]:.1%}" for g in AGE_GROUPS)
    return (
        "DEFAULT MARGINS — AN ASSUMPTION, NOT CENSUS COUNTS.\n"
        f"Adults 18+ per neighbourhood = 2017 census district population (data/population_trujillo_2017.csv) "
        f"× the neighbourhood's assumed population_share (data/neighbourhoods.csv) × an assumed adult share of "
        f"{split.adult_share:.1%}; {int(adults.sum()):,} adults in {len(adults)} areas.\n"
        f"Sex split assumed the same everywhere: female {split.female_share:.1%}, male {1 - split.female_share:.1%}.\n"
        f"Age split of adults assumed the same everywhere: {ages}.\n"
        "Shares rounded from Peru's national 2017 census age-sex structure (INEI), not measured in Trujillo; "
        "neighbourhood shares are working assumptions of this project. Replace these files with your own margins "
        "(e.g. tabulated from INEI REDATAM for the 2017 census) by editing [[margins]] in the analysis plan."
    )


def default_margins_from(data: Path = DATA) -> DefaultMargins:
    """`default_margins` from the two census files in the folder `data` (the project's data/ by default)."""
    return default_margins(pd.read_csv(data / "neighbourhoods.csv"), pd.read_csv(data / "population_trujillo_2017.csv"))


def margin_assumption(plan: Plan, data: Path = DATA) -> str:
    """What a plan's margins assume, in words, for every output that states it (XLSX metadata, app, methods note):
    the default margins' stated assumption when the plan uses them, otherwise a pointer to the plan's sources."""
    if {m.file.resolve() for m in plan.margins} & set(DEFAULT_FILES):
        return default_margins_from(data).assumption
    notes = sorted({m.file.parent / "margins_census.md" for m in plan.margins})
    made = [n.read_text(encoding="utf-8").strip() for n in notes if n.is_file()]  # `sdg16 margins import` wrote it
    return "\n\n".join(made) or "the plan's own margins: see each margin's source"
