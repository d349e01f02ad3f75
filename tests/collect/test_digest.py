"""Digest for plain-HTTP LANs: a captured Authorization header cannot be replayed with another submission (each
(nonce, nc) a POST uses counts once; a reuse gets `stale=true` so Collect signs again), and a volunteer whose name
is not ASCII gets an ASCII Digest name that Collect's okhttp-digest can send."""

import hashlib
import re
from datetime import timedelta

import httpx
import sqlalchemy as sa
from collect_samples import tiny_submission
from test_openrosa import message, post, stored

from collect import tables
from collect.volunteers import (
    add_volunteer,
    ascii_name,
    first_use_of_nonce_count,
    reissue_token,
)

URL = "/projects/trujillo"


def signed(
    client,
    username: str,
    token: str,
    nc: int,
    nonce: str | None = None,
    method: str = "POST",
    path: str = f"{URL}/submission",
) -> tuple[str, str]:
    """An Authorization header as Collect computes it (MD5, qop=auth), for a nonce the server issued."""
    if nonce is None:
        challenge = client.head(f"{URL}/submission").headers["www-authenticate"]
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    ha1, ha2, count = md5(f"{username}:sdg16:{token}"), md5(f"{method}:{path}"), f"{nc:08x}"
    response = md5(f"{ha1}:{nonce}:{count}:c0ffee:auth:{ha2}")
    header = (
        f'Digest username="{username}", realm="sdg16", nonce="{nonce}", uri="{path}", response="{response}", '
        f'qop=auth, nc={count}, cnonce="c0ffee", algorithm=MD5, opaque="sdg16"'
    )
    return header, nonce


def test_a_captured_header_cannot_send_another_submission(client, store, volunteer):
    header, nonce = signed(client, "Ana Torres", volunteer.token, 1)
    assert post(client, URL, tiny_submission("uuid:real"), headers={"authorization": header}).status_code == 201
    replay = post(client, URL, tiny_submission("uuid:forged", psu="X"), headers={"authorization": header})
    assert replay.status_code == 401 and "stale=true" in replay.headers["www-authenticate"]
    assert "ya se usó" in message(replay)
    assert stored(store) == 1
    # The phone itself goes on with the next count of the same nonce, or with the fresh nonce it was given.
    following, _ = signed(client, "Ana Torres", volunteer.token, 2, nonce)
    assert post(client, URL, tiny_submission("uuid:next"), headers={"authorization": following}).status_code == 201
    fresh = re.search(r'nonce="([^"]+)"', replay.headers["www-authenticate"]).group(1)
    again, _ = signed(client, "Ana Torres", volunteer.token, 1, fresh)
    assert post(client, URL, tiny_submission("uuid:again"), headers={"authorization": again}).status_code == 201
    assert stored(store) == 3


def test_reads_are_not_counted_and_a_foreign_opaque_or_nc_is_refused(client, store, volunteer):
    header, _ = signed(client, "Ana Torres", volunteer.token, 1, method="GET", path=f"{URL}/formList")
    for _ in range(2):
        assert client.get(f"{URL}/formList", headers={"authorization": header}).status_code == 200
    other_opaque = header.replace('opaque="sdg16"', 'opaque="other"')
    assert client.get(f"{URL}/formList", headers={"authorization": other_opaque}).status_code == 401
    bad_nc = header.replace("nc=00000001", "nc=1")
    assert client.get(f"{URL}/formList", headers={"authorization": bad_nc}).status_code == 401


def test_counts_are_kept_for_a_nonces_life_then_swept(store):
    hour = timedelta(hours=1)
    assert first_use_of_nonce_count(store, "n1", 1, hour) and not first_use_of_nonce_count(store, "n1", 1, hour)
    assert first_use_of_nonce_count(store, "n1", 2, hour)
    assert first_use_of_nonce_count(store, "n2", 1, timedelta(seconds=-1))  # n1's counts are now past a nonce's life
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(tables.digest_nonce_counts.c.nonce)).scalars().all() == ["n2"]


def test_a_name_with_accents_gets_a_unique_ascii_digest_name(client, store):
    jose = add_volunteer(store, "José Ñique", project="trujillo")
    assert jose.volunteer.digest_name == "Jose Nique" and ascii_name("Ana Torres") == "Ana Torres"
    twin = add_volunteer(store, "Jose Niqué", project="trujillo")
    assert twin.volunteer.digest_name == "Jose Nique 2"
    assert ascii_name("李小龍") == "voluntario"
    # What okhttp-digest sends: the ASCII name, ASCII-encoded.
    assert (
        post(client, URL, tiny_submission("uuid:j"), auth=httpx.DigestAuth("Jose Nique", jose.token)).status_code == 201
    )
    assert (
        post(client, URL, tiny_submission("uuid:t"), auth=httpx.DigestAuth("Jose Nique 2", twin.token)).status_code
        == 201
    )
    assert store.submissions_frame("tiny").set_index("instance_id")["volunteer"].to_dict() == {
        "uuid:j": "José Ñique",
        "uuid:t": "Jose Niqué",
    }
    assert reissue_token(store, "José Ñique").volunteer.digest_name == "Jose Nique"


def test_a_volunteer_stored_before_ascii_names_gets_one_when_reissued(client, store):
    old = add_volunteer(store, "Ñusta Quispe", project="trujillo")
    with store.write() as conn:  # as migration 0007 left a volunteer added before it: the name itself
        conn.execute(tables.volunteers.update().values(digest_name="Ñusta Quispe"))
    new = reissue_token(store, old.volunteer.name)
    assert new.volunteer.digest_name == "Nusta Quispe"
    assert (
        post(client, URL, tiny_submission("uuid:n"), auth=httpx.DigestAuth("Nusta Quispe", new.token)).status_code
        == 201
    )
