"""The production topology end to end on loopback: Caddy (HTTPS, `tls internal`) → `streamlit run app.py`, whose
port is served by the OpenRosa workers. A phone's form list, a submission, and the dashboard's health, over HTTPS."""

import contextlib
import shutil
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET

import httpx
import pytest
from collect_samples import free_port
from running_app import running_app

from collect.store import Store
from collect.volunteers import add_volunteer

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"

pytestmark = pytest.mark.skipif(
    shutil.which("caddy") is None, reason="caddy is not installed (Debian: apt-get install caddy)"
)


@contextlib.contextmanager
def caddy(folder, upstream_port: int):
    """Caddy serving https://localhost:PORT with its own local CA, proxying to the app; yields (URL, CA file)."""
    https_port = free_port()
    config = folder / "Caddyfile"
    config.write_text(
        "{\n\tadmin off\n\tskip_install_trust\n\tlocal_certs\n"
        f"\tstorage file_system {folder / 'caddy-data'}\n\thttp_port {free_port()}\n\thttps_port {https_port}\n}}\n"
        f"localhost:{https_port} {{\n\ttls internal\n\treverse_proxy 127.0.0.1:{upstream_port}\n}}\n"
    )
    log = (folder / "caddy.log").open("w")
    process = subprocess.Popen(
        ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"HOME": str(folder), "PATH": "/usr/bin:/bin"},
    )
    root = folder / "caddy-data" / "pki" / "authorities" / "local" / "root.crt"
    url = f"https://localhost:{https_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if root.exists():
                with contextlib.suppress(httpx.HTTPError, ssl.SSLError):
                    httpx.get(f"{url}/_stcore/health", verify=ssl.create_default_context(cafile=root), timeout=5)
                    break
            assert process.poll() is None and time.monotonic() < deadline, (folder / "caddy.log").read_text()
            time.sleep(0.3)
        yield url, root
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_phones_and_the_dashboard_through_https(tmp_path):
    with running_app(tmp_path) as (app_url, _process), caddy(tmp_path, int(app_url.rsplit(":", 1)[1])) as (url, root):
        store = Store.open(f"sqlite:///{tmp_path / 'sdg16.db'}")
        volunteer = add_volunteer(store, "Ana Torres")
        base = f"{url}/v1/key/{volunteer.token}/projects/sdg16"
        with httpx.Client(verify=ssl.create_default_context(cafile=root), timeout=30) as https:
            listing = https.get(f"{base}/formList", headers={"X-OpenRosa-Version": "1.0"})
            assert listing.status_code == 200 and listing.headers["x-openrosa-version"] == "1.0"
            (xform,) = ET.fromstring(listing.content).findall(f"{XFORMS_LIST}xform")
            download = xform.findtext(f"{XFORMS_LIST}downloadUrl")
            assert download.startswith(f"{base}/forms/")  # https: the scheme crossed both proxies
            form = https.get(download)
            assert form.status_code == 200 and b"<h:html" in form.content

            assert https.head(f"{base}/submission").status_code == 204
            xml = (
                f'<?xml version="1.0"?><data id="{xform.findtext(f"{XFORMS_LIST}formID")}" '
                f'version="{xform.findtext(f"{XFORMS_LIST}version")}"><meta><instanceID>uuid:https-1</instanceID>'
                "</meta></data>"
            ).encode()
            photo = bytes(range(256)) * 4096
            response = https.post(
                f"{base}/submission",
                files=[
                    ("xml_submission_file", ("submission.xml", xml, "text/xml")),
                    ("photo.jpg", ("photo.jpg", photo, "image/jpeg")),
                ],
            )
            assert response.status_code == 201, response.text
            assert store.submission_xml("uuid:https-1") == xml
            assert [a.content for a in store.attachments("uuid:https-1")] == [photo]

            assert https.get(f"{url}/_stcore/health").text == "ok"
            assert "<title>" in https.get(f"{url}/").text
        store.close()
