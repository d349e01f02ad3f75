"""Volunteers & forms page (AppTest): add a volunteer with a one-time QR code, revoke, download the forms."""

from streamlit import config

from collect.publish import publish_shipped_forms
from collect.volunteers import list_volunteers, volunteer_by_token
from dashboard import data


def test_add_shows_a_collect_qr_once_and_revoke_cuts_the_token(data_dir, app_as):
    at = app_as("coordinator", "volunteers")
    at.text_input(key="server_base_url").input("http://192.168.1.20:8501")
    at.text_input[1].input("Rosa Quispe")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert "Volunteer **Rosa Quispe** added" in at.success[0].value
    url = at.code[0].value
    assert url.startswith("http://192.168.1.20:8501/v1/key/") and url.endswith("/projects/sdg16")
    token = url.split("/key/")[1].split("/")[0]
    assert volunteer_by_token(data.store(), token).name == "Rosa Quispe"
    assert at.code[1].value == f"{url}/forms/sdg16_perception/webform"
    assert at.get("download_button")[0].proto.label == "Download the QR code (PNG)"
    assert at.get("image")[0].proto.imgs[0].caption == "ODK Collect settings for Rosa Quispe"

    at.run()  # the next run no longer shows the token anywhere
    assert not at.code and token not in str(at._tree)
    at.selectbox[0].set_value("Rosa Quispe")
    _click(at, "Revoke (their phone stops sending; what they sent stays)")
    assert not list_volunteers(data.store())[0].active
    assert volunteer_by_token(data.store(), token).revoked_at is not None


def _click(at, label: str):
    return next(b for b in at.button if b.label == label).click().run()


def test_a_lost_qr_is_reissued_and_a_revoked_name_is_reused(data_dir, app_as):
    at = app_as("coordinator", "volunteers")
    at.text_input[1].input("Rosa Quispe")
    at.form_submit_button[0].click().run()
    first = at.code[0].value.split("/key/")[1].split("/")[0]
    at.selectbox[0].set_value("Rosa Quispe")
    _click(at, "New QR code (lost phone)")
    assert "New code for **Rosa Quispe**; the old one no longer works." in at.success[0].value
    second = at.code[0].value.split("/key/")[1].split("/")[0]
    assert second != first and volunteer_by_token(data.store(), first) is None
    at.selectbox[0].set_value("Rosa Quispe")
    _click(at, "Revoke (their phone stops sending; what they sent stays)")
    at.text_input[1].input("Rosa Quispe")  # the same name again, for the same person back in the field
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert "reactivated with a new code" in at.success[0].value
    assert list_volunteers(data.store())[0].active


def test_the_address_shown_has_the_port_the_server_listens_on(data_dir, app_as):
    served = config.get_option("server.port")
    config.set_option("server.port", 8642)
    try:
        at = app_as("coordinator", "volunteers")
    finally:
        config.set_option("server.port", served)
    address = at.text_input(key="server_base_url").value
    assert address.endswith(":8642")  # (the host: this computer's network address when it has one)


def test_forms_are_offered_as_xlsform_and_xform(data_dir, app_as):
    publish_shipped_forms(data.store())
    at = app_as("coordinator", "volunteers")
    labels = [str(b.proto.label) for b in at.get("download_button")]
    assert "XLSForm (.xlsx, for Kobo / Central / Excel)" in labels and "XForm (.xml)" in labels
    assert "Media file neighbourhoods.csv" in labels
    assert any("KoboToolbox" in m.value for m in at.markdown)


def webform_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "formulario web" in w.value or "web form" in w.value]


def test_the_coordinator_is_warned_when_the_web_form_link_cannot_work(data_dir, app_as, monkeypatch, tmp_path):
    at = app_as("coordinator", "volunteers")
    at.text_input(key="server_base_url").input("http://192.168.1.20:8501")
    at.text_input[1].input("Sin Formulario")
    at.form_submit_button[0].click().run()
    assert "sdg16_perception" in webform_warnings(at)[0] and "not published" in webform_warnings(at)[0]

    publish_shipped_forms(data.store())
    at.text_input[1].input("Con Formulario")
    at.form_submit_button[0].click().run()
    assert webform_warnings(at) == []

    monkeypatch.setattr("collect.webform.DIST", tmp_path / "no_webform")  # a checkout whose web form is gone
    at.text_input[1].input("Sin Paquete")
    at.form_submit_button[0].click().run()
    assert "files are missing" in webform_warnings(at)[0] and "pip install -e ." in webform_warnings(at)[0]


def test_a_name_with_accents_is_given_and_shown_its_ascii_digest_username(data_dir, app_as):
    at = app_as("coordinator", "volunteers")
    at.text_input(key="server_base_url").input("http://192.168.1.20:8501")
    at.text_input[1].input("José Ñique")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert at.code[2].value == "Jose Nique"
    assert any("Digest login cannot send" in i.value for i in at.info)
    assert list_volunteers(data.store())[0].digest_name == "Jose Nique"
