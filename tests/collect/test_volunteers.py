import base64
import json
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image

from collect import tables
from collect.errors import Conflict, NotFound
from collect.volunteers import (
    add_volunteer,
    collect_settings,
    digest_ha1,
    list_volunteers,
    reissue_token,
    revoke_volunteer,
    settings_payload,
    volunteer_by_token,
    write_settings_qr,
)


def test_token_is_long_random_and_stored_only_hashed(store):
    first, second = add_volunteer(store, "Ana"), add_volunteer(store, "Luis")
    assert len(first.token) >= 43 and first.token != second.token
    with store.engine.connect() as conn:
        rows = [tuple(str(v) for v in row) for row in conn.execute(sa.select(tables.volunteers)).all()]
    assert not any(first.token in value for row in rows for value in row)
    assert volunteer_by_token(store, first.token).name == "Ana"
    assert volunteer_by_token(store, "guess") is None


def test_server_url_and_digest_ha1(store):
    created = add_volunteer(store, "Ana", project="trujillo")
    assert (
        created.server_url("http://10.0.0.5:8501/") == f"http://10.0.0.5:8501/v1/key/{created.token}/projects/trujillo"
    )
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(tables.volunteers.c.digest_ha1)).scalar_one()
    assert stored == digest_ha1("Ana", created.token)


def test_names_unique_and_validated(store):
    add_volunteer(store, "Ana")
    with pytest.raises(Conflict, match="'Ana' already exists"):
        add_volunteer(store, "Ana")
    with pytest.raises(ValueError, match="':'"):
        add_volunteer(store, "a:b")
    with pytest.raises(ValueError, match="project 'with space'"):
        add_volunteer(store, "Eva", project="with space")


def test_revoke_and_reissue(store):
    created = add_volunteer(store, "Ana")
    revoked = revoke_volunteer(store, "Ana")
    assert not revoked.active and not volunteer_by_token(store, created.token).active
    renewed = reissue_token(store, "Ana")
    assert volunteer_by_token(store, created.token) is None
    assert volunteer_by_token(store, renewed.token).active
    assert [v.name for v in list_volunteers(store)] == ["Ana"]
    with pytest.raises(NotFound):
        revoke_volunteer(store, "Nobody")


def test_collect_settings_qr_payload_round_trips(tmp_path):
    settings = collect_settings("https://x.org/v1/key/T/projects/p", "Ana", "p")
    decoded = json.loads(zlib.decompress(base64.b64decode(settings_payload(settings))))
    assert decoded["general"] == {
        "server_url": "https://x.org/v1/key/T/projects/p",
        "form_update_mode": "match_exactly",
        "autosend": "wifi_and_cellular",
        "metadata_username": "Ana",
    }
    assert decoded["admin"] == {"change_server": False}
    assert decoded["project"]["name"]
    path = write_settings_qr(settings, tmp_path / "qr" / "ana.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100
