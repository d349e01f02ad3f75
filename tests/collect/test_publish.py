import hashlib

from forms.build import build_all

from collect.publish import publish_shipped_forms
from collect.store import Store


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
    assert [m.filename for m in form.media] == ["neighbourhoods.csv"]
    assert store.media_file("sdg16_perception", None, "neighbourhoods.csv") == (source.media[0].path).read_bytes()


def test_without_java_the_server_still_publishes_with_a_warning(engine, monkeypatch, caplog):
    monkeypatch.setattr("collect.publish.shutil.which", lambda name: None)
    published = publish_shipped_forms(Store(engine))
    assert "sdg16_perception" in [form.form_id for form in published]
    assert "Java not found" in caplog.text
