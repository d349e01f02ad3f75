import hashlib

import pytest

from collect.publish import publish_shipped_forms
from collect.store import Store
from forms.build import DATA_DIR, build_all


def test_shipped_forms_are_published_with_xlsform_and_media_idempotently(engine):
    store = Store(engine)
    published = publish_shipped_forms(store)
    assert published == publish_shipped_forms(store)
    built = {form.form_id: form for form in build_all()}
    assert {form.form_id for form in published} == set(built) and "sdg16_perception" in built
    form = store.form_version("sdg16_perception")
    source = built["sdg16_perception"]
    assert store.form_xml("sdg16_perception") == source.xform_bytes
    assert form.xform_md5 == hashlib.md5(source.xform_bytes).hexdigest()
    assert store.form_xlsform("sdg16_perception") == source.xlsx_bytes
    assert sorted(m.filename for m in form.media) == ["blocks.csv", "neighbourhoods.csv"]  # v2: the sampled blocks
    for file in source.media:
        assert store.media_file("sdg16_perception", None, file.name) == file.path.read_bytes()
    assert store.media_file("sdg16_perception", None, "blocks.csv") == (DATA_DIR / "blocks.csv").read_bytes()


def test_without_java_the_server_still_publishes_with_a_warning(engine, monkeypatch, caplog):
    monkeypatch.setattr("collect.publish.shutil.which", lambda name: None)
    published = publish_shipped_forms(Store(engine))
    assert "sdg16_perception" in [form.form_id for form in published]
    assert "Java not found" in caplog.text


def _blocks(seed: int) -> bytes:
    """A real plan's blocks.csv (analysis.sampling on the synthetic frame, a seed per plan)."""
    import pandas as pd

    from analysis.sampling import SampleSpec, plan_files, plan_sample, read_frame

    frame = read_frame(
        pd.read_csv(DATA_DIR / "frame_trujillo_synthetic.csv"), pd.read_csv(DATA_DIR / "neighbourhoods.csv")
    )
    return plan_files(plan_sample(frame, SampleSpec(moe=0.2, seed=seed)))["blocks.csv"]


def test_a_new_sample_plan_goes_out_as_a_new_version_with_its_blocks(store, client, volunteer):
    import xml.etree.ElementTree as ET

    from collect_samples import tiny_xform
    from test_openrosa import MANIFEST, XFORMS_LIST, base

    from collect.errors import SamplePlanError
    from collect.publish import publish_sample

    with pytest.raises(SamplePlanError, match="has no blocks.csv"):
        publish_sample(store, _blocks(1), form_id="tiny")
    xform = tiny_xform("2026120101", "| | select_one_from_file blocks.csv | block | Block |\n")
    store.publish_form(xform, xlsform=b"xlsx", media={"blocks.csv": _blocks(1), "neighbourhoods.csv": b"name\nn\n"})
    first = publish_sample(store, _blocks(2), form_id="tiny")
    digest = hashlib.md5(_blocks(2)).hexdigest()
    assert first.version == f"2026120101-plan-{digest[:8]}"
    assert publish_sample(store, _blocks(2), form_id="tiny") == first  # the same plan again: nothing new
    second = publish_sample(store, _blocks(3), form_id="tiny")
    assert second.version.startswith("2026120101-plan-") and second.version != first.version
    assert {m.filename for m in second.media} == {"blocks.csv", "neighbourhoods.csv"}
    assert store.form_version("tiny", "2026120101").media  # the old versions stay for phones not yet updated
    assert b'version="' + second.version.encode() + b'"' in store.form_xml("tiny")
    listed = ET.fromstring(client.get(f"{base(volunteer)}/formList", params={"formID": "tiny"}).content)
    manifest = ET.fromstring(
        client.get(listed.find(f"{XFORMS_LIST}xform").findtext(f"{XFORMS_LIST}manifestUrl")).content
    )
    files = {
        m.findtext(f"{MANIFEST}filename"): m.findtext(f"{MANIFEST}hash")
        for m in manifest.findall(f"{MANIFEST}mediaFile")
    }
    assert files["blocks.csv"] == "md5:" + hashlib.md5(_blocks(3)).hexdigest()
    with pytest.raises(SamplePlanError, match="lacks columns"):
        publish_sample(store, b"name,label\nA,a\n", form_id="tiny")


def test_the_next_questionnaire_version_keeps_the_published_plan(store, tmp_path):
    from collect_samples import tiny_xform

    from collect.publish import publish_built, publish_sample
    from forms.build import BuiltForm, MediaFile

    rows = "| | select_one_from_file blocks.csv | block | Block |\n"
    store.publish_form(tiny_xform("2026120101", rows), media={"blocks.csv": _blocks(1)})
    publish_sample(store, _blocks(2), form_id="tiny")
    (tmp_path / "tiny.xml").write_bytes(tiny_xform("2026120201", rows))
    (tmp_path / "blocks.csv").write_bytes(_blocks(1))  # the shipped file
    (tmp_path / "tiny.xlsx").write_bytes(b"xlsx")
    built = BuiltForm(
        "tiny",
        "2026120201",
        "Tiny form",
        tmp_path / "tiny.xlsx",
        tmp_path / "tiny.xml",
        (MediaFile("blocks.csv", tmp_path / "blocks.csv", ""),),
        (),
        True,
    )
    published = publish_built(store, built)
    assert published.version == "2026120201"
    assert store.media_file("tiny", None, "blocks.csv") == _blocks(2)
