"""Volunteer accounts: a long random token per volunteer, stored only hashed, and the ODK Collect settings QR code.

A volunteer's server URL is `{base}/v1/key/{token}/projects/{project}` (as ODK Central's app users), so a phone
needs no password. The token is 256 random bits; it is stored as SHA-256 (a slow password hash would add tens of
milliseconds to every submission and buys nothing for a secret this long). For Digest authentication on plain
HTTP the same token is the password and the volunteer's Digest name the username; the store keeps only
MD5(digest name:realm:token), the HA1 that RFC 7616 needs. ODK Collect's Digest (okhttp-digest) encodes the
credentials as ASCII, so a name with accents or other letters ("José Ñique") gets an ASCII Digest name of its own
("Jose Nique", made unique with a number), printed and shown when the volunteer is added.

Digest with qop=auth signs the method and path but not the body, so a captured header could be replayed with
another submission: each (nonce, nc) a submission used is recorded (`first_use_of_nonce_count`) and a second use
refused.
"""

import base64
import hashlib
import io
import json
import re
import secrets
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import qrcode
import sqlalchemy as sa

from collect import tables
from collect.constants import DEFAULT_PROJECT
from collect.errors import Conflict, NotFound
from collect.private import write_private
from collect.store import Store, findable, utc

DIGEST_REALM = "sdg16"
PROJECT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Volunteer:
    """A volunteer account as listed (never with the token, which is shown once, at creation)."""

    name: str
    project: str
    created_at: datetime
    revoked_at: datetime | None
    digest_name: str  # the user name for Digest: the name itself if ASCII, else transliterated

    @property
    def active(self) -> bool:
        """Not revoked: the token still opens the server."""
        return self.revoked_at is None


@dataclass(frozen=True)
class NewVolunteer:
    """A freshly created account with its token: the only moment the token is known in clear."""

    volunteer: Volunteer
    token: str

    def server_url(self, base_url: str) -> str:
        """The URL to give ODK Collect: Collect appends /formList and /submission to it."""
        return f"{base_url.rstrip('/')}/v1/key/{self.token}/projects/{self.volunteer.project}"


def token_hash(token: str) -> str:
    """How a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def digest_ha1(name: str, token: str) -> str:
    """RFC 7616 HA1 for MD5: MD5(username:realm:password)."""
    return hashlib.md5(f"{name}:{DIGEST_REALM}:{token}".encode()).hexdigest()


def _volunteer(row) -> Volunteer:
    return Volunteer(row.name, row.project, utc(row.created_at), utc(row.revoked_at), row.digest_name or row.name)


def ascii_name(name: str) -> str:
    """`name` as ODK Collect's Digest can send it: itself if ASCII, else with accents dropped (NFKD) and any other
    character left out (letters, digits, space, `.`, `_`, `'`, `-` kept); "voluntario" if nothing is left."""
    if name.isascii():
        return name
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    folded = " ".join(re.sub(r"[^A-Za-z0-9 ._'-]", "", folded).split())
    return folded or "voluntario"


def _unique_digest_name(conn: sa.Connection, name: str) -> str:
    """An ASCII Digest name for `name` that no other volunteer has (" 2", " 3", … added when taken)."""
    base = ascii_name(name)
    taken = set(
        conn.execute(
            sa.select(tables.volunteers.c.digest_name).where(tables.volunteers.c.digest_name.like(f"{base}%"))
        ).scalars()
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base} {number}"
    return candidate


def add_volunteer(store: Store, name: str, project: str = DEFAULT_PROJECT) -> NewVolunteer:
    """Create a volunteer with a new random token; Conflict if the name is taken (names are the usernames)."""
    name = name.strip()
    if not name or ":" in name or '"' in name:
        raise ValueError(
            f"volunteer name {name!r} must be non-empty and contain no ':' or '\"' (it is the Digest username)"
        )
    if not PROJECT_PATTERN.match(project):
        raise ValueError(f"project {project!r} must be 1-64 letters, digits, '-' or '_' (it is part of the server URL)")
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.write() as conn:
        if conn.execute(sa.select(tables.volunteers.c.id).where(tables.volunteers.c.name == name)).first() is not None:
            raise Conflict(f"a volunteer named {name!r} already exists (names must be unique; revoked ones included)")
        digest_name = _unique_digest_name(conn, name)
        conn.execute(
            tables.volunteers.insert().values(
                name=name,
                project=project,
                token_hash=token_hash(token),
                digest_name=digest_name,
                digest_ha1=digest_ha1(digest_name, token),
                created_at=now,
            )
        )
    return NewVolunteer(Volunteer(name, project, now, None, digest_name), token)


def reissue_token(store: Store, name: str) -> NewVolunteer:
    """Give a volunteer a new token (lost phone, leaked link, revoked by mistake): the old one stops working at
    once, the account is active again, and their submissions keep their name."""
    token = secrets.token_urlsafe(32)
    with store.write() as conn:
        row = conn.execute(sa.select(tables.volunteers).where(tables.volunteers.c.name == name)).first()
        if row is None:
            raise NotFound(f"no volunteer named {name!r}")
        # A name stored before Digest names were ASCII (migration 0007) gets its ASCII one now.
        digest_name = (
            row.digest_name if row.digest_name and row.digest_name.isascii() else _unique_digest_name(conn, name)
        )
        conn.execute(
            tables.volunteers.update()
            .where(tables.volunteers.c.id == row.id)
            .values(
                token_hash=token_hash(token),
                digest_name=digest_name,
                digest_ha1=digest_ha1(digest_name, token),
                revoked_at=None,
            )
        )
        row = conn.execute(sa.select(tables.volunteers).where(tables.volunteers.c.id == row.id)).first()
    return NewVolunteer(_volunteer(row), token)


def list_volunteers(store: Store) -> list[Volunteer]:
    """All volunteers, revoked ones included, by name."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(tables.volunteers).order_by(tables.volunteers.c.name)).all()
    return [_volunteer(row) for row in rows]


def revoke_volunteer(store: Store, name: str) -> Volunteer:
    """Cut a volunteer's phone off: their token stops working at once; what they sent stays stored."""
    with store.write() as conn:
        row = conn.execute(sa.select(tables.volunteers).where(tables.volunteers.c.name == name)).first()
        if row is None:
            raise NotFound(f"no volunteer named {name!r}")
        if row.revoked_at is None:
            conn.execute(
                tables.volunteers.update().where(tables.volunteers.c.id == row.id).values(revoked_at=datetime.now(UTC))
            )
        row = conn.execute(sa.select(tables.volunteers).where(tables.volunteers.c.id == row.id)).first()
    return _volunteer(row)


def volunteer_by_token(store: Store, token: str) -> Volunteer | None:
    """The volunteer holding this token, or None if no volunteer has it (revoked ones are returned, marked)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(tables.volunteers).where(tables.volunteers.c.token_hash == token_hash(token))
        ).first()
    return None if row is None else _volunteer(row)


def volunteer_digest(store: Store, name: str) -> tuple[Volunteer, str] | None:
    """A volunteer and their Digest HA1, looked up by Digest user name, or None."""
    if not findable(name):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(tables.volunteers).where(tables.volunteers.c.digest_name == name)).first()
    return None if row is None else (_volunteer(row), row.digest_ha1)


def first_use_of_nonce_count(store: Store, nonce: str, nc: int, lifetime: timedelta) -> bool:
    """Record that a Digest response used `nc` with `nonce`; False if that pair was used before (a replay).
    Pairs older than `lifetime` (a nonce's life: older nonces are refused anyway) are swept on the way."""
    counts, now = tables.digest_nonce_counts, datetime.now(UTC)
    try:
        with store.write() as conn:
            conn.execute(counts.delete().where(counts.c.used_at < now - lifetime))
            if (
                conn.execute(sa.select(counts.c.nc).where(counts.c.nonce == nonce, counts.c.nc == nc)).first()
                is not None
            ):
                return False
            conn.execute(counts.insert().values(nonce=nonce, nc=nc, used_at=now))
    except sa.exc.IntegrityError:  # the same pair inserted at the same moment by another request (PostgreSQL)
        return False
    return True


def collect_settings(server_url: str, volunteer: str, project: str) -> dict:
    """ODK Collect's settings for a volunteer: fixed server, forms kept exactly as the server lists them,
    finalised forms sent on any network, and the volunteer's name as `metadata_username` (the form's
    `username` question). The server URL cannot be changed on the phone."""
    return {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            "metadata_username": volunteer,
        },
        "admin": {"change_server": False},
        "project": {"name": f"SDG 16 · {project}", "icon": "S", "color": "#1f6f8b"},
    }


def settings_payload(settings: dict) -> str:
    """Collect's QR text: the settings JSON, zlib-compressed, then Base64."""
    return base64.b64encode(zlib.compress(json.dumps(settings).encode())).decode("ascii")


def write_settings_qr(settings: dict, path: Path) -> Path:
    """Draw the settings as a QR code PNG at `path` (Collect: Project settings → Reconfigure with QR code), 0600 in a
    0700 folder: the code carries the volunteer's token."""
    png = io.BytesIO()
    qrcode.make(settings_payload(settings)).save(png, format="PNG")
    return write_private(path, png.getvalue())
