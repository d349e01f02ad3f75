"""Import page (AppTest): an ODK Central export lands whole, or not at all with the bad row named."""

import pytest

from collect.publish import publish_shipped_forms
from dashboard import data

HEADER = "SubmissionDate,district,neighbourhood,psu,consent,age,sex,meta-instanceID,FormVersion\n"
ROWS = [
    "2026-11-03T15:00:00.000Z,el_porvenir,alto_trujillo,AT-01,yes,34,female,uuid:{id}-1,{version}\n",
    "2026-11-03T16:00:00.000Z,el_porvenir,rio_seco,RS-02,yes,{age},male,uuid:{id}-2,{version}\n",
]


@pytest.fixture
def published(data_dir):
    return publish_shipped_forms(data.store())[0]


def _export(version: str, age: str) -> bytes:
    return (
        HEADER + "".join(r.format(id="7d3c8e2a-0000-4000-8000-00000000000", version=version, age=age) for r in ROWS)
    ).encode()


def test_a_bad_row_is_named_and_nothing_is_kept(published, app_as):
    at = app_as("coordinator", "importing")
    at.radio[0].set_value("odk-central")
    at.file_uploader[0].upload("central.csv", _export(published.version, "many"), "text/csv")
    at.form_submit_button[0].click().run()
    assert not at.exception
    message = at.error[0].value
    assert "row 3" in message and "Nothing was imported" in message
    assert data.store().status().empty


def test_a_good_file_is_imported_once(published, app_as):
    at = app_as("coordinator", "importing")
    at.radio[0].set_value("odk-central")
    at.file_uploader[0].upload("central.csv", _export(published.version, "51"), "text/csv")
    at.form_submit_button[0].click().run()
    assert "central\\.csv: 2 submissions added, 0 already stored, 0 review states taken." in at.success[0].value
    frame = data.store().submissions_frame(published.form_id)
    assert set(frame["source"]) == {"odk-central"} and list(frame["age"]) == ["34", "51"]
    at.form_submit_button[0].click().run()
    assert "0 submissions added, 2 already stored" in at.success[0].value
