"""Sample plan page (AppTest): plan the round on the synthetic frame, publish its blocks.csv, copy its targets."""

import pandas as pd
from pyxform.xls2xform import convert

from dashboard import data
from forms.build import DATA_DIR, SHIPPED_FORM_ID

FORM = """| survey |
| | type | name | label |
| | select_one_from_file neighbourhoods.csv | neighbourhood | Neighbourhood |
| | select_one_from_file blocks.csv | block | Block |
| settings |
| | form_id | version | form_title |
| | {form_id} | 2026120401 | Visit |
"""


def _texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error") for e in getattr(at, kind))


def test_plan_publish_and_targets(users, app_as):
    at = app_as("coordinator", "sample")
    assert not at.exception
    at.number_input(key="sample_moe").set_value(0.2)
    at.number_input(key="sample_seed").set_value(7)
    at.button(key="sample_draw").click().run()
    assert not at.exception
    areas = at.dataframe[0].value
    assert len(areas) == 20 and (areas["blocks"] == 5).all()  # ⌈37 / 8⌉ blocks per neighbourhood
    assert "seed 7" in _texts(at)
    at.button(key="publish_blocks").click().run()
    assert "has no blocks.csv" in _texts(at) or "not published" in _texts(at)  # no visit-section form yet
    xform = convert(FORM.format(form_id=SHIPPED_FORM_ID), file_type=".md").xform.encode()
    shipped = (DATA_DIR / "blocks.csv").read_bytes()
    data.store().publish_form(xform, media={"blocks.csv": shipped, "neighbourhoods.csv": b"name,label\nn,N\n"})
    at.button(key="publish_blocks").click().run()
    assert "Published as form version 2026120401-plan-" in _texts(at)
    published = pd.read_csv(pd.io.common.BytesIO(data.store().media_file(SHIPPED_FORM_ID, None, "blocks.csv")))
    assert len(published) == 100 and published["prob_block"].between(0, 1).all()
    at.button(key="plan_targets").click().run()
    targets = data.targets().get("neighbourhood", [])
    assert (targets.dropna()["target"] == 40).all() and len(targets.dropna()) == 20


def test_a_frame_too_small_is_said(users, app_as):
    at = app_as("coordinator", "sample")
    at.number_input(key="sample_moe").set_value(0.03)
    at.button(key="sample_draw").click().run()
    assert not at.exception
    assert "se necesitan" in _texts(at) and "simbal" in _texts(at)
