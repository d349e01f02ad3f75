"""Lifecycle (issue 15): the demo round removed with its volunteers and tokens; neighbourhood limits imported."""

import json

from typer.testing import CliRunner

from collect.volunteers import list_volunteers
from dashboard import data, demo
from sdg16.cli import app


def test_sdg16_demo_remove_deletes_the_round_its_volunteers_and_tokens(demo_data):
    store = data.store()
    assert demo.demo_round(store) is not None
    result = CliRunner().invoke(app, ["demo", "remove"])
    assert result.exit_code == 0, result.output
    assert "Demo round removed" in result.output
    assert demo.demo_round(store) is None
    assert store.submissions_frame(data.FORM_ID, include_rejected=True).empty
    assert not [v for v in list_volunteers(store) if v.name.endswith(demo.DEMO_SUFFIX)]
    assert "There is no demo round" in CliRunner().invoke(app, ["demo", "remove"]).output


def test_an_admin_removes_the_demo_round_from_the_banner(demo_data, app_as):
    at = app_as("admin", "volunteers")
    assert any("Synthetic data" in w.value for w in at.warning)
    at.button(key="remove_demo").click().run()
    assert not at.exception
    assert not any("Synthetic data" in w.value for w in at.warning)
    assert any("Demo round removed" in s.value for s in at.success)
    assert "Load the demo round" in [b.label for b in at.button]  # the store is empty again


def test_a_coordinator_sees_no_remove_button(demo_data, app_as):
    at = app_as("coordinator", "volunteers")
    assert "remove_demo" not in [b.key for b in at.button]


def test_geography_import_keeps_valid_limits_and_refuses_unknown_names(data_dir, tmp_path):
    square = {"type": "Polygon", "coordinates": [[[-79.0, -8.1], [-78.99, -8.1], [-78.99, -8.09], [-79.0, -8.1]]]}
    good = tmp_path / "good.geojson"
    good.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": "alto_trujillo"}, "geometry": square}],
            }
        )
    )
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": "atlantis"}, "geometry": square}],
            }
        )
    )
    refused = CliRunner().invoke(app, ["geography", "import", str(bad)])
    assert refused.exit_code == 1 and "'atlantis' is not a neighbourhood" in refused.output
    assert not (data_dir / "neighbourhood_boundaries.geojson").exists()
    kept = CliRunner().invoke(app, ["geography", "import", str(good)])
    assert kept.exit_code == 0, kept.output
    assert (
        json.loads((data_dir / "neighbourhood_boundaries.geojson").read_text())["features"][0]["properties"]["name"]
        == "alto_trujillo"
    )
