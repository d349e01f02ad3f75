"""SDMX-CSV validated against the SDG global DSD 1.14 with the `sdmx1` library, reading the DSD itself
(tests/data/sdmx/SDG_DSD_1.14.xml.gz, a copy of the IAEG-SDGs structure message; 150 kB).

`python tests/analysis/test_sdmx.py` rewrites analysis/sdg_dsd_1.14_codes.json from the DSD (the test below checks
the committed file is what the DSD says)."""

import gzip
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import export
from analysis import sdmx as sdg
from analysis.pipeline import run
from analysis.plan import load_plan

sdmx1 = pytest.importorskip("sdmx") if __name__ != "__main__" else __import__("sdmx")

ROOT = Path(__file__).resolve().parents[2]
DSD_FILE = ROOT / "tests" / "data" / "sdmx" / "SDG_DSD_1.14.xml.gz"
CODES_FILE = ROOT / "analysis" / "sdg_dsd_1.14_codes.json"
LARGE = ("REF_AREA", "CUST_BREAKDOWN", "COMPOSITE_BREAKDOWN")


def read_dsd():
    return sdmx1.read_sdmx(io.BytesIO(gzip.decompress(DSD_FILE.read_bytes())))


def dsd_codes(message) -> dict:
    dsd = message.structure["SDG"]
    components = [*dsd.dimensions.components, *dsd.attributes.components]
    enumerated = {
        c.id: c.local_representation.enumerated
        for c in components
        if c.local_representation is not None and c.local_representation.enumerated is not None
    }
    return {"structure": sg_urn(dsd), "codes": {k: sorted(v.items) for k, v in enumerated.items() if k not in LARGE}}


def sg_urn(dsd) -> str:
    return f"{dsd.maintainer.id}:{dsd.id}({dsd.version})"


@pytest.fixture(scope="module")
def message():
    return read_dsd()


@pytest.fixture(scope="module")
def table():
    sys.path.insert(0, str(Path(__file__).parent))
    from synthetic import synthetic_submissions

    plan = load_plan(ROOT / "analysis" / "plans" / "sdg16.toml")
    return plan, run(plan, synthetic_submissions(1500, seed=9)).estimates


def test_committed_code_lists_are_the_dsds(message):
    assert json.loads(CODES_FILE.read_text(encoding="utf-8")) == dsd_codes(message)


def test_file_parses_against_the_dsd_with_every_dimension_and_coded_value(message, table, tmp_path):
    plan, estimates = table
    comparability = {
        "16.1.4": ("exact", "pregunta del manual ODS"),
        "16.5.1": ("local", "solo funcionarios municipales"),
    }
    path = tmp_path / "sdmx.csv"
    sdg.to_sdmx(
        estimates, time_period="2026", comparability=comparability, geo_info_url="https://example.org/trujillo.geojson"
    ).to_csv(path, index=False)
    dsd = message.structure["SDG"]
    header = pd.read_csv(path, nrows=0).columns.tolist()
    assert header[:3] == ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
    assert {d.id for d in dsd.dimensions.components} <= set(header)
    mandatory = {a.id for a in dsd.attributes.components if a.usage_status.name == "mandatory"}
    assert mandatory == {"OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE"} and mandatory <= set(header)

    data = sdmx1.read_sdmx(path, structure=dsd)  # sdmx1's SDMX-CSV 2.0 reader, driven by the DSD's components
    observations = [obs for dataset in data.data for obs in dataset.obs]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(observations) == len(frame) > 50
    for obs in observations:
        for dimension in dsd.dimensions.components:
            value = str(obs.dimension[dimension.id].value)
            codelist = dimension.local_representation.enumerated
            assert codelist is None or value in codelist.items, (dimension.id, value)
        for attribute in dsd.attributes.components:
            given = obs.attached_attribute.get(attribute.id)
            if attribute.id in mandatory:
                assert given is not None and str(given.value), attribute.id
            codelist = attribute.local_representation.enumerated if attribute.local_representation else None
            if given is not None and str(given.value) and codelist is not None:
                assert str(given.value) in codelist.items, (attribute.id, given.value)
    key = [d.id for d in dsd.dimensions.components]
    assert not frame.duplicated(key).any()
    assert set(frame["REF_AREA"]) == {"604"} and set(frame["URBANISATION"]) == {"CITY"}
    assert set(frame["DISABILITY_STATUS"]) == {"PD", "PWD", "_T"} and set(frame["NATURE"]) == {"E"}
    assert set(frame["AGE"]) <= {"Y_GE18", "Y18T24", "Y25T34", "Y35T44", "Y45T54", "Y55T64", "Y_GE65", "Y18T29"}
    overall = frame[
        (frame["SERIES"] == "IU_COR_BRIB")
        & (frame["SEX"] == "_T")
        & (frame["AGE"] == "Y_GE18")
        & (frame["DISABILITY_STATUS"] == "_T")
    ]
    expected = estimates[(estimates["indicator"] == "16.5.1") & (estimates["by"] == "overall")]["estimate"].iloc[0]
    assert float(overall["OBS_VALUE"].iloc[0]) == pytest.approx(100 * expected, abs=1e-4)
    assert overall["OBS_STATUS"].iloc[0] == "D" and "solo funcionarios municipales" in overall["COMMENT_OBS"].iloc[0]
    walk = frame[(frame["SERIES"] == "VC_SNS_WALN_DRK") & (frame["SEX"] == "_T") & (frame["AGE"] == "Y_GE18")]
    assert walk["COMMENT_OBS"].iloc[0].startswith("definición SDG exacta / exact SDG definition")
    unreliable = estimates.loc[estimates["flag"] == "unreliable"]
    assert (frame["OBS_STATUS"] == "U").sum() <= len(unreliable)


def test_what_cannot_be_coded_is_left_out_and_said(table):
    _, estimates = table
    out = sdg.left_out(estimates)
    written = sdg.to_sdmx(estimates, time_period="2026")
    assert len(out) + len(written) == len(estimates)
    reasons = " ".join(out["reason"])
    assert "VC_VOV_PSYCHL posterior a la DSD 1.14 / series newer than SDG DSD 1.14" in reasons
    assert "neighbourhood: no sub-national key in the DSD" in reasons and "youth=30+" in reasons
    assert "VC_VOV_PSYCHL" not in set(written["SERIES"])


def test_write_table_reads_comparability_from_the_plan(table, tmp_path):
    plan, estimates = table
    export.write_table(estimates, tmp_path / "s.csv", sdmx_csv=True, plan=plan, time_period="2025")
    frame = pd.read_csv(tmp_path / "s.csv", dtype=str)
    assert set(frame["TIME_PERIOD"]) == {"2025"} and frame["COMMENT_OBS"].str.len().gt(0).all()


if __name__ == "__main__":
    CODES_FILE.write_text(json.dumps(dsd_codes(read_dsd()), indent=0, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {CODES_FILE}")
