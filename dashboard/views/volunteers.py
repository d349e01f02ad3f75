"""Volunteers & forms (coordinators): accounts for phones, their ODK Collect QR codes, the questionnaire files.

A volunteer's token is stored only hashed (collect/volunteers.py), so the QR code that carries it can be shown
only when it is made: right after the account is created, or when a coordinator reissues it for a lost phone
(the old code stops working at once). A revoked name can be used again: adding it reactivates the account with a
new code, and what that name sent before stays with it.
"""

import io
import socket
from urllib.parse import urlsplit

import qrcode
import streamlit as st

from collect.errors import CollectError
from collect.volunteers import (
    NewVolunteer,
    add_volunteer,
    collect_settings,
    list_volunteers,
    reissue_token,
    revoke_volunteer,
    settings_payload,
)
from collect.webform import webform_problem, webform_url
from dashboard import data, safe, signin
from dashboard.i18n import N_, _

INSTRUCTIONS = N_("""
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
""")


def render() -> None:
    signin.require("admin", "coordinator")
    st.title(_("Volunteers & forms"))
    base = _base_url()
    _add(base)
    _list(base)
    _forms()
    st.subheader(_("Collecting with KoboToolbox or ODK Central"))
    st.markdown(_(INSTRUCTIONS))


def _served_address() -> str:
    """This server as phones reach it: the browser's address, but with this computer's network address instead
    of localhost (a phone cannot reach localhost) and the port the server actually listens on."""
    url = urlsplit(st.context.url or "")
    port = st.get_option("server.port")
    host = url.hostname or "localhost"
    if host in ("localhost", "127.0.0.1", "::1"):
        host = _network_address() or host
    return f"{url.scheme or 'http'}://{host}:{port}"


def _network_address() -> str | None:
    """This computer's address on its local network (no packet is sent: a UDP socket only picks a route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
    except OSError:
        return None


def _base_url() -> str:
    base = st.text_input(
        _("Server address as the phones reach it"),
        _served_address(),
        key="server_base_url",
        help=_("Phones cannot reach 'localhost': use this computer's network address or public name."),
    )
    if urlsplit(base).hostname in ("localhost", "127.0.0.1"):
        st.warning(
            _(
                "Phones cannot reach 'localhost': put this computer's network address (e.g. "
                "http://192.168.1.20:{port})."
            ).format(port=st.get_option("server.port"))
        )
    return base


def _add(base: str) -> None:
    st.subheader(_("Add a volunteer"))
    with st.form("add_volunteer", clear_on_submit=True):
        name = st.text_input(_("Volunteer name (also the form's `username`)"))
        submitted = st.form_submit_button(_("Add volunteer"), type="primary")
    if not submitted:
        return
    revoked = {v.name for v in list_volunteers(data.store()) if not v.active}
    try:
        new = (
            reissue_token(data.store(), name.strip()) if name.strip() in revoked else add_volunteer(data.store(), name)
        )
    except (CollectError, ValueError) as error:
        st.error(safe.error_text(error))
        return
    message = (
        _("Volunteer **{name}** reactivated with a new code (what this name sent before stays with it).")
        if name.strip() in revoked
        else _("Volunteer **{name}** added.")
    )
    _show_code(base, new, message.format(name=safe.text(new.volunteer.name)))


def _show_code(base: str, new: NewVolunteer, message: str) -> None:
    """The QR code just made (new volunteer or reissued), with its PNG: in this run only, never again."""
    url = new.server_url(base)
    png = io.BytesIO()
    qrcode.make(settings_payload(collect_settings(url, new.volunteer.name, new.volunteer.project))).save(png)
    st.success(message + " " + _("Scan this code with ODK Collect now: it is shown only once."))
    st.image(png.getvalue(), caption=_("ODK Collect settings for {name}").format(name=new.volunteer.name), width=280)
    st.download_button(
        _("Download the QR code (PNG)"), png.getvalue(), f"odk-collect-{new.volunteer.name}.png", "image/png"
    )
    st.code(url, language=None)
    problem = webform_problem(data.store(), data.FORM_ID)
    if problem:
        st.warning(
            _(
                "Do not hand out the web form link yet, it cannot work: {problem}. A volunteer who opens it "
                "sees a page asking them to tell you."
            ).format(problem=problem)
        )
    st.caption(_("Web form for a volunteer without Android (works offline only over HTTPS):"))
    st.code(webform_url(url, data.FORM_ID), language=None)
    st.caption(
        _(
            "Digest login (plain-HTTP networks): server `{server}`, the token in the URL as password, and this "
            "username:"
        ).format(server=f"{base}/projects/{new.volunteer.project}")
    )
    st.code(new.volunteer.digest_name, language=None)
    if new.volunteer.digest_name != new.volunteer.name:
        st.info(
            _("The name has characters ODK Collect's Digest login cannot send: on the phone, use the username above.")
        )


def _list(base: str) -> None:
    volunteers = list_volunteers(data.store())
    st.subheader(_("Volunteers ({n} active)").format(n=sum(v.active for v in volunteers)))
    if not volunteers:
        st.caption(_("No volunteer yet."))
        return
    st.dataframe(
        [
            {
                _("name"): v.name,
                _("Digest username"): v.digest_name,
                _("project"): v.project,
                _("added"): v.created_at,
                _("revoked"): v.revoked_at,
            }
            for v in volunteers
        ],
        hide_index=True,
    )
    with st.form("manage_volunteer"):
        name = st.selectbox(_("Volunteer"), [v.name for v in volunteers])
        with st.container(horizontal=True):
            reissue = st.form_submit_button(_("New QR code (lost phone)"), icon=":material/qr_code:")
            revoke = st.form_submit_button(
                _("Revoke (their phone stops sending; what they sent stays)"), icon=":material/block:"
            )
    if reissue:
        _show_code(
            base,
            reissue_token(data.store(), name),
            _("New code for **{name}**; the old one no longer works.").format(name=safe.text(name)),
        )
    if revoke:
        revoke_volunteer(data.store(), name)
        st.rerun()


def _forms() -> None:
    st.subheader(_("Questionnaire files"))
    store = data.store()
    forms = store.latest_forms()
    if not forms:
        st.info(_("No form is published on this server yet."))
    for form in forms:
        st.markdown(
            _("**{title}** — `{form}` version `{version}`").format(
                title=safe.text(form.title), form=form.form_id, version=form.version
            )
        )
        xlsform = store.form_xlsform(form.form_id, form.version)
        if xlsform:
            st.download_button(
                _("XLSForm (.xlsx, for Kobo / Central / Excel)"),
                xlsform,
                f"{form.form_id}.xlsx",
                key=f"xlsx_{form.form_id}",
            )
        st.download_button(
            _("XForm (.xml)"),
            store.form_xml(form.form_id, form.version),
            f"{form.form_id}.xml",
            "application/xml",
            key=f"xml_{form.form_id}",
        )
        for media in form.media:
            st.download_button(
                _("Media file {name}").format(name=media.filename),
                store.media_file(form.form_id, form.version, media.filename),
                media.filename,
                key=f"media_{form.form_id}_{media.filename}",
            )


if __name__ == "__main__":
    render()
