"""Volunteers & forms (coordinators): accounts for phones, their ODK Collect QR codes, the questionnaire files.

A volunteer's token is stored only hashed (collect/volunteers.py), so the QR code that carries it can be shown
only once, right after the account is created; the page says so and offers the PNG for download then.
"""

import io
from urllib.parse import urlsplit

import qrcode
import streamlit as st

from collect.errors import CollectError
from collect.volunteers import add_volunteer, collect_settings, list_volunteers, revoke_volunteer, settings_payload
from collect.webform import webform_problem, webform_url
from dashboard import data, signin
from dashboard.i18n import _

INSTRUCTIONS = """
**ODK Collect / KoboCollect (this server).** Add a volunteer above, then on the phone: *Add project →
Configure with QR code* and scan. The phone gets this server's address with the volunteer's key, downloads the
questionnaire (and its neighbourhood list), works offline, and sends finalised forms whenever it has signal.

**KoboToolbox.** Upload the XLSForm below as a new project (*Deploy*); the neighbourhood list
`neighbourhoods.csv` goes in *Settings → Media*. Collect there, then export *XLS / CSV (XML values and headers)*
and bring it in with the **Import** page.

**ODK Central.** Create a form from the XLSForm, attach `neighbourhoods.csv` when Central asks for it, create
App Users and share their QR codes. Export *Submissions (CSV .zip)* and bring it in with the **Import** page
(or `sdg16 import` from the command line).

Use choice **names** (not labels) in exports: analysis refers to names, which are the same in every language.
"""


def render() -> None:
    signin.require("admin", "coordinator")
    st.title("Volunteers & forms")
    _add()
    _list()
    _forms()
    st.subheader("Collecting with KoboToolbox or ODK Central")
    st.markdown(INSTRUCTIONS)


def _base_url() -> str:
    """The address phones use to reach this server; defaults to the one this page was opened at."""
    url = urlsplit(st.context.url or "http://localhost:8501")
    default = f"{url.scheme}://{url.netloc}"
    base = st.text_input("Server address as the phones reach it", default, key="server_base_url",
                         help="Phones cannot reach 'localhost': use this computer's network address or public name.")
    if urlsplit(base).hostname in ("localhost", "127.0.0.1"):
        st.warning("Phones cannot reach 'localhost': put this computer's network address (e.g. http://192.168.1.20:8501).")
    return base


def _add() -> None:
    st.subheader("Add a volunteer")
    base = _base_url()
    with st.form("add_volunteer", clear_on_submit=True):
        name = st.text_input("Volunteer name (also the form's `username`)")
        submitted = st.form_submit_button("Add volunteer", type="primary")
    if submitted:
        try:
            new = add_volunteer(data.store(), name)
        except (CollectError, ValueError) as error:
            st.error(str(error))
            return
        url = new.server_url(base)
        png = io.BytesIO()
        qrcode.make(settings_payload(collect_settings(url, new.volunteer.name, new.volunteer.project))).save(png)
        st.success(f"Volunteer **{new.volunteer.name}** added. Scan this code with ODK Collect now: it is shown only once.")
        st.image(png.getvalue(), caption=f"ODK Collect settings for {new.volunteer.name}", width=280)
        st.download_button("Download the QR code (PNG)", png.getvalue(), f"odk-collect-{new.volunteer.name}.png", "image/png")
        st.code(url, language=None)
        problem = webform_problem(data.store(), data.FORM_ID)
        if problem:
            st.warning(_("Do not hand out the web form link yet, it cannot work: {problem}. A volunteer who opens it "
                         "sees a page asking them to tell you.").format(problem=problem))
        st.caption("Web form for a volunteer without Android (works offline only over HTTPS):")
        st.code(webform_url(url, data.FORM_ID), language=None)
        st.caption(_("Digest login (plain-HTTP networks): server `{server}`, the token in the URL as password, and this "
                     "username:").format(server=f"{base}/projects/{new.volunteer.project}"))
        st.code(new.volunteer.digest_name, language=None)
        if new.volunteer.digest_name != new.volunteer.name:
            st.info(_("The name has characters ODK Collect's Digest login cannot send: on the phone, use the username above."))


def _list() -> None:
    volunteers = list_volunteers(data.store())
    st.subheader(f"Volunteers ({sum(v.active for v in volunteers)} active)")
    if not volunteers:
        st.caption("No volunteer yet.")
        return
    st.dataframe(
        [{"name": v.name, _("Digest username"): v.digest_name, "project": v.project, "added": v.created_at, "revoked": v.revoked_at}
         for v in volunteers],
        hide_index=True,
    )
    active = [v.name for v in volunteers if v.active]
    if active:
        with st.form("revoke_volunteer"):
            name = st.selectbox("Revoke a volunteer (their phone stops sending; what they sent stays)", active)
            if st.form_submit_button("Revoke"):
                revoke_volunteer(data.store(), name)
                st.rerun()


def _forms() -> None:
    st.subheader("Questionnaire files")
    store = data.store()
    forms = store.latest_forms()
    if not forms:
        st.info("No form is published on this server yet.")
    for form in forms:
        st.markdown(f"**{form.title}** — `{form.form_id}` version `{form.version}`")
        xlsform = store.form_xlsform(form.form_id, form.version)
        if xlsform:
            st.download_button("XLSForm (.xlsx, for Kobo / Central / Excel)", xlsform, f"{form.form_id}.xlsx",
                               key=f"xlsx_{form.form_id}")
        st.download_button("XForm (.xml)", store.form_xml(form.form_id, form.version), f"{form.form_id}.xml",
                           "application/xml", key=f"xml_{form.form_id}")
        for media in form.media:
            st.download_button(f"Media file {media.filename}", store.media_file(form.form_id, form.version, media.filename),
                               media.filename, key=f"media_{form.form_id}_{media.filename}")


if __name__ == "__main__":
    render()
