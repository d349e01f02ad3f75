"""Raking margins from a published census table: INEI's Cuadro N° 1 (population by district × sex × single year of
age) and the frame's dwellings for neighbourhood totals.

Why: the default margins (`analysis.margins`) split district totals by an *assumed* age-sex structure. INEI
publishes the structure itself (Censos Nacionales 2017, Resultados Definitivos, Tomo I, Cuadro N° 1 "Población
censada, por área urbana y rural; y sexo, según provincia, distrito y edades simples"), and the frame of blocks
says how the district's dwellings are spread over its neighbourhoods. This module reads that table as INEI lays
it out (a title, two header rows, then for each DEPARTAMENTO / PROVINCIA / DISTRITO a heading row with its totals
followed by "Menores de 1 año", "De 1 a 4 años" (subtotals, skipped), "1 año", "2 años", …, "95 y más años";
the first three numbers of a row are Total, Hombres, Mujeres; numbers may carry INEI's space thousands separator),
from CSV or XLSX, and makes adults 18+ per neighbourhood × sex and × age group.

The one assumption left, stated in every output: within a district, each neighbourhood has the district's
age-sex structure, and its share of the district's adults is its share of the district's dwellings in the frame.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.margins import AGE_GROUPS

HEADING = re.compile(r"^\s*(DEPARTAMENTO|PROVINCIA|DISTRITO)\s+(.+?)\s*$", re.IGNORECASE)
SINGLE_AGE = re.compile(r"^\s*(\d{1,3})\s+(?:y\s+m[aá]s\s+)?años?\s*$", re.IGNORECASE)
UNDER_ONE = re.compile(r"^\s*menores\s+de\s+1\s+año", re.IGNORECASE)
SUBTOTAL = re.compile(r"^\s*(de\s+\d+\s+a\s+\d+\s+años|total)\b", re.IGNORECASE)
AGE_BINS = [-np.inf, 24, 34, 44, 54, 64, np.inf]


class CensusError(AnalysisError):
    """A census table that cannot be read as Cuadro N° 1; the message names the row."""


@dataclass(frozen=True)
class CensusMargins:
    sex: pd.DataFrame
    age: pd.DataFrame
    note: str


def district_code(name: str) -> str:
    """INEI's district name → the project's code: accents and case dropped, spaces to `_` (EL PORVENIR → el_porvenir)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def read_cuadro1(path: str | Path) -> pd.DataFrame:
    """Cuadro N° 1 (CSV or XLSX) → long table: district (code), district_name, sex (female/male), age, population.

    Rows under DEPARTAMENTO or PROVINCIA headings are totals of districts and are skipped; so are subtotals
    ("De 1 a 4 años", "Total"). A district's single years must add up to its heading row's total, else the file is
    not what it seems (a page lost in conversion) and the error says which district.
    """
    path = Path(path)
    if not path.is_file():
        raise CensusError(f"no existe el cuadro / census table not found: {path}")
    grid = (
        pd.read_excel(path, header=None, dtype=str)
        if path.suffix.lower() in (".xlsx", ".xls")
        else pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    )
    grid = grid.fillna("")
    rows, district, name, heading_totals = [], None, None, {}
    for line, values in enumerate(grid.itertuples(index=False), start=1):
        label = str(values[0]).strip()
        heading = HEADING.match(label)
        if heading:
            kind, place = heading.group(1).upper(), heading.group(2)
            district, name = (district_code(place), place.strip()) if kind == "DISTRITO" else (None, None)
            if district:
                heading_totals[district] = _numbers(values, line)[0]
            continue
        if district is None or not label or SUBTOTAL.match(label):
            continue
        age = 0 if UNDER_ONE.match(label) else _age(label)
        if age is None:
            continue
        total, men, women = _numbers(values, line)[:3]
        if men + women != total:
            raise CensusError(
                f"fila {line} ({name}, {label}): hombres + mujeres ≠ total / men + women ≠ total "
                f"({men} + {women} ≠ {total})"
            )
        rows += [(district, name, "male", age, men), (district, name, "female", age, women)]
    table = pd.DataFrame(rows, columns=["district", "district_name", "sex", "age", "population"])
    if table.empty:
        raise CensusError(
            f"{path.name}: no hay filas DISTRITO con edades simples / no DISTRITO rows with single "
            "years of age (is this INEI's Cuadro N° 1?)"
        )
    sums = table.groupby("district")["population"].sum()
    off = [f"{d}: {sums[d]:,} vs {t:,}" for d, t in heading_totals.items() if d in sums and sums[d] != t]
    if off:
        raise CensusError(
            "las edades simples no suman el total del distrito / single years do not add up to the "
            f"district total: {'; '.join(off)}"
        )
    return table


def _age(label: str) -> int | None:
    match = SINGLE_AGE.match(label)
    return int(match.group(1)) if match else None


def _numbers(values, line: int) -> list[int]:
    """The row's numbers, left to right (INEI writes 224 863 with a space; XLSX may hold 224863.0)."""
    numbers = []
    for cell in list(values)[1:]:
        text = str(cell).replace("\u00a0", " ").strip()
        if not text:
            continue
        if re.fullmatch(r"\d{1,3}(?: \d{3})*|\d+(?:\.0+)?", text):
            numbers.append(int(float(text.replace(" ", ""))))
        elif text not in ("-", "–"):
            raise CensusError(f"fila {line}: valor no numérico / not a number: {text!r}")
        else:
            numbers.append(0)
    if len(numbers) < 3:
        raise CensusError(f"fila {line}: se esperan Total, Hombres, Mujeres / expected Total, Men, Women")
    return numbers


def census_margins(
    census: pd.DataFrame, frame: pd.DataFrame, neighbourhoods: pd.DataFrame, min_age: int = 18, source: str = ""
) -> CensusMargins:
    """Adults per neighbourhood × sex and × age group: district cells × the neighbourhood's share of the district's
    dwellings in the frame, rounded to whole people with the largest remainder so that both margins give each
    neighbourhood the same total."""
    dwellings = frame.groupby("neighbourhood")["dwellings"].sum()
    areas = neighbourhoods[neighbourhoods["name"].isin(dwellings.index)][["name", "district"]]
    missing = sorted(set(areas["district"]) - set(census["district"]))
    if missing:
        raise CensusError(
            f"el cuadro no tiene los distritos / the census table lacks district(s) {', '.join(missing)} "
            f"(it has {', '.join(sorted(census['district'].unique()))})"
        )
    adults = census[census["age"] >= min_age].assign(
        age_group=lambda t: pd.cut(t["age"], AGE_BINS, labels=list(AGE_GROUPS)).astype(str)
    )
    share = (
        dwellings.reindex(areas["name"]).to_numpy()
        / areas.assign(d=dwellings.reindex(areas["name"]).to_numpy())
        .groupby("district")["d"]
        .transform("sum")
        .to_numpy()
    )
    district_adults = adults.groupby("district")["population"].sum()
    areas = areas.assign(
        share=share, total=np.round(district_adults.reindex(areas["district"]).to_numpy() * share).astype(np.int64)
    )
    sex = _allocate(adults, areas, "sex", ["female", "male"])
    age = _allocate(adults, areas, "age_group", list(AGE_GROUPS))
    note = (
        f"MARGINS FROM A CENSUS TABLE: {source or 'INEI Cuadro N° 1'} — adults {min_age}+ by district × sex × "
        f"single year of age ({int(adults['population'].sum()):,} adults in {adults['district'].nunique()} "
        "district(s)). Neighbourhood totals: the district's adults × the neighbourhood's share of the district's "
        "dwellings in the frame; ASSUMED: each neighbourhood has its district's age-sex structure."
    )
    return CensusMargins(sex=sex, age=age, note=note)


def _allocate(adults: pd.DataFrame, areas: pd.DataFrame, column: str, categories: list[str]) -> pd.DataFrame:
    cells = (
        adults.groupby(["district", column])["population"]
        .sum()
        .unstack(column)
        .reindex(columns=categories, fill_value=0)
    )
    exact = cells.reindex(areas["district"]).to_numpy(dtype=float) * areas["share"].to_numpy()[:, None]
    whole = _largest_remainder(exact, areas["total"].to_numpy())
    table = pd.DataFrame(
        whole, index=pd.Index(areas["name"], name="neighbourhood"), columns=pd.Index(categories, name=column)
    )
    return table.stack().rename("population").reset_index()


def _largest_remainder(exact: np.ndarray, totals: np.ndarray) -> np.ndarray:
    whole = np.floor(exact).astype(np.int64)
    short = totals - whole.sum(axis=1)
    ranks = np.argsort(np.argsort(-(exact - whole), axis=1, kind="stable"), axis=1, kind="stable")
    return whole + (ranks < short[:, None])
