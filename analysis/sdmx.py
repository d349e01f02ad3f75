"""SDMX-CSV of the estimates, valid against the SDG global data structure (IAEG-SDGs `SDG` 1.14).

The file is SDMX-CSV 2.0 (`STRUCTURE=datastructure`, `STRUCTURE_ID=IAEG-SDGs:SDG(1.14)`, `ACTION=I`): one row per
observation with every dimension of the DSD (FREQ, REPORTING_TYPE, SERIES, REF_AREA, SEX, AGE, URBANISATION,
INCOME_WEALTH_QUANTILE, EDUCATION_LEV, OCCUPATION, CUST_BREAKDOWN, COMPOSITE_BREAKDOWN, DISABILITY_STATUS,
ACTIVITY, PRODUCT, TIME_PERIOD), OBS_VALUE and the mandatory attributes (OBS_STATUS, UNIT_MULT, UNIT_MEASURE).
Every value comes from the DSD's code lists, kept in `sdg_dsd_1.14_codes.json` (made from the DSD by
tests/analysis/test_sdmx.py, which also checks the file with the `sdmx1` library); a row that cannot be coded is
left out and listed by `left_out` with the reason, never written with an invented code.

How the survey's figures are coded:
- REF_AREA `604` (Peru, M49). The global code list has no sub-national areas; the DSD's own means for the survey
  area are URBANISATION `CITY` (Trujillo is a city) and the series attributes GEO_INFO_TYPE `GeoJSON_1_1` with
  GEO_INFO_URL naming the area's boundary file, when one is given. Neighbourhood breakdowns have no key in the DSD
  (a local REF_AREA code would not validate; CUST_BREAKDOWN's list has no place codes): they stay in the tidy
  CSV/XLSX and are listed as left out.
- SEX F / M / _T; AGE Y18T24, Y25T34, Y35T44, Y45T54, Y55T64, Y_GE65 (16.7.2's bands), Y18T29 (youth), Y_GE18 for
  all adults; `30+` has no code in CL_AGE (left out). DISABILITY_STATUS PD (with) / PWD (without); unknown status
  is left out. Dimensions the survey does not break down by are `_T`.
- REPORTING_TYPE `N` (national data, not a UN estimate); NATURE `E` (estimated: the figures are survey estimates
  of a civil-society survey, not data of the national statistical system — `C` would claim that); OBS_VALUE and
  LOWER_BOUND / UPPER_BOUND (the confidence interval) in percent (UNIT_MEASURE `PT`, UNIT_MULT `0`).
- OBS_STATUS `A`, `U` (low reliability) below the plan's `min_n`, `D` (definition differs) when the indicator's
  `comparability` is `local`; COMMENT_OBS says the comparability (`exact` | `comparable` | `local`, from the plan,
  "not stated" when the plan has none) with its note, and the reliability flag, Spanish first.
- Series that are newer than 1.14 (not in its CL_SERIES, e.g. VC_VOV_PSYCHL) are left out and said so.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

STRUCTURE_ID = "IAEG-SDGs:SDG(1.14)"
DIMENSIONS = [
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "SEX",
    "AGE",
    "URBANISATION",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "OCCUPATION",
    "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN",
    "DISABILITY_STATUS",
    "ACTIVITY",
    "PRODUCT",
    "TIME_PERIOD",
]
ATTRIBUTES = [
    "OBS_STATUS",
    "UNIT_MULT",
    "UNIT_MEASURE",
    "NATURE",
    "LOWER_BOUND",
    "UPPER_BOUND",
    "COMMENT_OBS",
    "SOURCE_DETAIL",
    "GEO_INFO_TYPE",
    "GEO_INFO_URL",
]
COLUMNS = ["STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", *ATTRIBUTES]
REF_AREA = "604"  # Peru
SEX_CODES = {"female": "F", "male": "M"}
AGE_CODES = {
    "18-24": "Y18T24",
    "25-34": "Y25T34",
    "35-44": "Y35T44",
    "45-54": "Y45T54",
    "55-64": "Y55T64",
    "65+": "Y_GE65",
    "18-29": "Y18T29",
}
DISABILITY_CODES = {"yes": "PD", "no": "PWD"}
BREAKDOWNS = {
    "sex": ("SEX", SEX_CODES),
    "age_group": ("AGE", AGE_CODES),
    "youth": ("AGE", AGE_CODES),
    "disability": ("DISABILITY_STATUS", DISABILITY_CODES),
}
COMPARABILITY = {
    "exact": "definición SDG exacta / exact SDG definition",
    "comparable": "comparable con la definición SDG / comparable to the SDG definition",
    "local": "indicador local, no comparable / local indicator, not comparable",
}
SOURCE = "Encuesta de percepción SDG 16, Trujillo (sdg16-survey) / SDG 16 perception survey, Trujillo (sdg16-survey)"


@cache
def codes() -> dict[str, frozenset[str]]:
    """The DSD's code lists by component (REF_AREA and the two breakdown lists of thousands are not needed)."""
    raw = json.loads((Path(__file__).with_name("sdg_dsd_1.14_codes.json")).read_text(encoding="utf-8"))
    return {component: frozenset(values) for component, values in raw["codes"].items()}


def _comparability(table: pd.DataFrame, comparability: dict[str, tuple[str, str]] | None) -> pd.DataFrame:
    """(level, note) per row: the table's own columns if an estimate table carries them, else the plan's."""
    if "comparability" in table.columns:
        level = table["comparability"].fillna("")
        note = table["comparability_note"].fillna("") if "comparability_note" in table.columns else ""
        return pd.DataFrame({"level": level, "note": note}, index=table.index)
    given = comparability or {}
    return pd.DataFrame(
        {
            "level": table["indicator"].map(lambda i: given.get(i, ("", ""))[0]),
            "note": table["indicator"].map(lambda i: given.get(i, ("", ""))[1]),
        },
        index=table.index,
    )


def _reasons(table: pd.DataFrame) -> pd.Series:
    """Why each row of the tidy table cannot be an observation of the DSD ("" when it can)."""
    reason = pd.Series("", index=table.index, dtype=object)
    series = table["series"].fillna("")
    reason[series == ""] = "sin código de serie SDG / no SDG series code"
    newer = (series != "") & ~series.isin(codes()["SERIES"])
    reason[newer] = "serie " + series[newer] + " posterior a la DSD 1.14 / series newer than SDG DSD 1.14"
    reason[(reason == "") & (table["flag"] == "suppressed")] = "suprimida (n pequeño) / suppressed (small n)"
    area = table["area"].notna() if "area" in table.columns else pd.Series(False, index=table.index)
    local = (table["by"] == "neighbourhood") | area
    reason[(reason == "") & local] = (
        "barrio: la DSD no tiene áreas subnacionales / neighbourhood: no sub-national key in the DSD"
    )
    for by, (dimension, mapping) in BREAKDOWNS.items():
        uncoded = (table["by"] == by) & ~table["group"].map(mapping).isin(codes()[dimension])
        reason[(reason == "") & uncoded] = (
            f"{by}=" + table["group"].astype(str) + f" sin código en {dimension} / no {dimension} code"
        )
    other = ~table["by"].isin(["overall", "neighbourhood", *BREAKDOWNS])
    reason[(reason == "") & other] = (
        "desagregación " + table["by"].astype(str) + " sin dimensión en la DSD / breakdown has no DSD dimension"
    )
    return reason


def left_out(table: pd.DataFrame) -> pd.DataFrame:
    """The estimates the SDMX file does not carry, with the reason (indicator, series, by, group, area, reason)."""
    reasons = _reasons(table)
    columns = [c for c in ("indicator", "series", "by", "group", "area") if c in table.columns]
    return table.loc[reasons != "", columns].assign(reason=reasons[reasons != ""]).reset_index(drop=True)


def to_sdmx(
    table: pd.DataFrame,
    *,
    time_period: str,
    comparability: dict[str, tuple[str, str]] | None = None,
    geo_info_url: str | None = None,
) -> pd.DataFrame:
    """SDMX-CSV 2.0 rows of the estimates that fit the DSD (see the module docstring for the codes).

    `comparability` maps indicator ids to (exact|comparable|local, note) as the plan declares them;
    `geo_info_url` names the survey area's boundary file (GEO_INFO_URL with GEO_INFO_TYPE GeoJSON_1_1)."""
    rows = table[_reasons(table) == ""]
    level = _comparability(rows, comparability)
    out = pd.DataFrame({column: "_T" for column in DIMENSIONS}, index=rows.index)
    out.insert(0, "ACTION", "I")
    out.insert(0, "STRUCTURE_ID", STRUCTURE_ID)
    out.insert(0, "STRUCTURE", "datastructure")
    out = out.assign(
        FREQ="A",
        REPORTING_TYPE="N",
        SERIES=rows["series"],
        REF_AREA=REF_AREA,
        AGE="Y_GE18",
        URBANISATION="CITY",
        TIME_PERIOD=str(time_period),
    )
    for by, (dimension, mapping) in BREAKDOWNS.items():
        here = rows["by"] == by
        out.loc[here, dimension] = rows.loc[here, "group"].map(mapping)
    unreliable = rows["flag"] == "unreliable"
    out["OBS_VALUE"] = (100 * rows["estimate"]).round(4)
    out["OBS_STATUS"] = "A"
    out.loc[level["level"] == "local", "OBS_STATUS"] = "D"
    out.loc[unreliable, "OBS_STATUS"] = "U"
    out["UNIT_MULT"] = "0"
    out["UNIT_MEASURE"] = "PT"
    out["NATURE"] = "E"
    out["LOWER_BOUND"] = (100 * rows["ci_low"]).round(4)
    out["UPPER_BOUND"] = (100 * rows["ci_high"]).round(4)
    stated = level["level"].map(COMPARABILITY).fillna("comparabilidad no indicada / comparability not stated")
    note = level["note"].where(level["note"] == "", "; " + level["note"].astype(str))
    flag = unreliable.map(
        {True: "; poco fiable: menos encuestados que min_n / unreliable: fewer respondents than min_n", False: ""}
    )
    out["COMMENT_OBS"] = stated + note + flag
    out["SOURCE_DETAIL"] = SOURCE
    out["GEO_INFO_TYPE"] = "GeoJSON_1_1" if geo_info_url else ""
    out["GEO_INFO_URL"] = geo_info_url or ""
    return out[COLUMNS].reset_index(drop=True)
