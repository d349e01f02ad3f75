"""The submission store: form versions, submissions with their attachments, review states, the analysis frame.

One `Store` wraps one database (SQLite or PostgreSQL, see `collect.database`). Every write is one transaction:
a submission with its attachments, or a whole import, is stored completely or not at all, and is committed
before the caller acknowledges it. Raw XML is kept byte for byte; the parsed flat fields sit beside it as JSON
so that `submissions_frame` never loads or parses XML.
"""

import contextlib
import functools
import hashlib
import io
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import sqlalchemy as sa

from collect import tables
from collect.database import make_engine, migrate, writer
from collect.errors import (
    CollectError,
    Conflict,
    Forbidden,
    ImportRowError,
    InvalidSubmission,
    NotFound,
    UnknownForm,
    quoted,
)
from collect.group_commit import GroupCommit
from collect.submission import FormShape, ParsedSubmission, parse_submission
from forms.xform import XFormError, read_xform

REVIEW_STATES = ("received", "approved", "has_issues", "rejected")
SOURCES = ("openrosa", "file", "odk-central", "kobo")
FRAME_COLUMNS = [
    "instance_id",
    "form_id",
    "form_version",
    "volunteer",
    "device_id",
    "received_at",
    "review_state",
    "source",
]
# Concurrent first inserts of one instanceID on PostgreSQL: the loser retries once and then sees the winner.
INSERT_ATTEMPTS = 3
ROWS_CHUNK = 5_000  # row keys per query when reading chosen submissions
NAME_LIMIT = 255  # characters of the String(255) columns: identifiers, names, file names, content types


@dataclass(frozen=True)
class MediaFile:
    """A media file of a form version, as listed in the OpenRosa manifest."""

    filename: str
    md5: str


@dataclass(frozen=True)
class FormVersion:
    """One published version of a form; `xform_md5` is the MD5 of the exact XForm bytes served."""

    form_id: str
    version: str
    title: str
    xform_md5: str
    published_at: datetime
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file sent with a submission (photo, audio, audit log), stored with the submission."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What `receive` did: `created` a new submission, or recognised a byte-identical `duplicate`."""

    instance_id: str
    outcome: str
    superseded: str | None = None


@dataclass(frozen=True)
class ImportRecord:
    """One row of an external export (file, ODK Central, KoboToolbox), already mapped onto bare field names."""

    instance_id: str
    form_id: str
    form_version: str
    fields: dict[str, str]
    source: str
    source_record: dict
    received_at: datetime | None = None
    volunteer: str | None = None
    device_id: str | None = None
    review_state: str = "received"
    deprecated_id: str | None = None
    root_id: str | None = None  # the submission across its edits (Central's KEY/__id, Kobo's meta/rootUuid)
    attachments: tuple["Attachment", ...] = ()
    row: int = 0


@dataclass
class ImportSummary:
    """Counts of an import: rows new to the store, and rows already stored with the same values."""

    added: int = 0
    unchanged: int = 0
    reviews: int = 0  # review states taken from the platform for rows already stored
    instance_ids: list[str] = field(default_factory=list)


class StoreVersion(NamedTuple):
    """What `Store.version()` reads: submission rows and their last id, review events and theirs, last form."""

    submissions: int
    last_submission: int
    reviews: int
    last_review: int
    last_form: int


def may_edit(form_id: str, volunteer: str | None, edit: Mapping[str, object]) -> bool:
    """Whether `edit` (a submission's column values) may replace a submission of `form_id` sent by `volunteer`:
    only an edit of the same form, sent by the same volunteer or imported by a coordinator (not over OpenRosa)."""
    return edit["form_id"] == form_id and (edit["source"] != "openrosa" or edit["volunteer"] == volunteer)


def md5_hex(content: bytes) -> str:
    """The MD5 of bytes as OpenRosa writes it after `md5:` in form lists and manifests."""
    return hashlib.md5(content).hexdigest()


def decode_fields(texts: Sequence[str], index: pd.Index, names: Sequence[str] = ()) -> pd.DataFrame:
    """Stored answers (one flat JSON object of strings per submission) as one string column per key, on `index`.

    Decoded by pyarrow's JSON reader (C++, all cores) rather than `json.loads` and `DataFrame.from_records`, which
    spent most of the dashboard's cold start at 100k submissions (benchmarks/openrosa_frame.py prints both).
    `names` (the form's fields) are declared strings up front: the reader would otherwise infer timestamps from
    date-like text ("2026-11-20" would come back "2026-11-20 00:00:00"). Other keys are inferred, and read again
    as strings should any be inferred temporal; values are cast to strings whatever JSON type an importer stored,
    as the XML would have given them."""
    if not texts:
        return pd.DataFrame(index=index)
    data = "\n".join(texts).encode()

    def read(strings: Sequence[str]) -> pa.Table:
        options = pa_json.ParseOptions(
            explicit_schema=pa.schema([(n, pa.string()) for n in strings]), unexpected_field_behavior="infer"
        )
        return pa_json.read_json(io.BytesIO(data), parse_options=options)

    declared = list(names)
    try:
        table = read(declared)
    except pa.ArrowInvalid:  # a field stored as a JSON number: infer everything, then re-read dates as text
        declared = []
        table = read(declared)
    dates = [column.name for column in table.schema if pa.types.is_temporal(column.type)]
    if dates:
        table = read([*declared, *dates])
    answered = [
        name for name, column in zip(table.column_names, table.columns) if column.null_count < len(column)
    ]  # as without a schema
    return (
        table.select(answered).cast(pa.schema([(name, pa.string()) for name in answered])).to_pandas().set_axis(index)
    )


def in_arrival_order(rows: pd.DataFrame) -> pd.DataFrame:
    """`Store.submission_rows` sorted as the frame lists submissions: by arrival, then by row key."""
    return rows.take(rows.reset_index().sort_values(["received_at", "pk"]).index) if len(rows) else rows


def utc(value: datetime | None) -> datetime | None:
    """A datetime in UTC; SQLite returns naive datetimes, which the store always wrote in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_storable(what: str, value: str | None, limit: int = NAME_LIMIT) -> None:
    """Refuse (InvalidSubmission, 400) a value that one of the databases cannot store in a String column, before
    anything is written, so that SQLite and PostgreSQL answer alike: a NUL character (PostgreSQL text cannot hold
    one; the driver fails) or more than `limit` characters (PostgreSQL enforces varchar(255), SQLite would keep it)."""
    if value is None:
        return
    if "\x00" in value:
        raise InvalidSubmission(f"{what} contiene un carácter NUL / {what} contains a NUL character: {quoted(value)}")
    if len(value) > limit:
        raise InvalidSubmission(
            f"{what} tiene {len(value)} caracteres, más de {limit} / {what} has {len(value)} characters, more than {limit}: {quoted(value)}"
        )


def findable(*values: str | None) -> bool:
    """Whether a name asked for could be stored at all (no NUL): a lookup of one that could not is simply not found,
    where PostgreSQL's driver would fail."""
    return not any(value is not None and "\x00" in value for value in values)


def xform_identity(xform: bytes) -> tuple[str, str, str]:
    """The form id, version and title of an XForm (`forms.xform` reads it): what a form version is stored under."""
    try:
        form = read_xform(xform)
    except XFormError as error:
        raise InvalidSubmission(str(error)) from None
    if not form.form_id:
        raise InvalidSubmission(f"the XForm's primary instance <{form.root.name}> has no id attribute")
    check_storable("form_id", form.form_id)
    check_storable("version", form.version)
    return form.form_id, form.version, form.title


class Store:
    """The durable store of forms, submissions and volunteers; see the module docstring."""

    def __init__(self, engine: sa.Engine):
        """Wrap `engine`, first bringing its schema to the latest migration."""
        migrate(engine)
        self.engine = engine
        self._writer = writer(engine)
        # SQLite has one writer at a time: threads of this process queue on a lock rather than on SQLite's busy
        # handler, which sleeps between retries; other processes (the CLI importing) still queue on busy_timeout.
        # Submissions go through the group-commit writer thread (collect.group_commit), which takes the same lock.
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        self._shapes: dict[tuple[str, str], FormShape] = {}
        self._field_names: dict[str, tuple[int, list[str]]] = {}
        self._group_commit = GroupCommit(self._writer, self._write_lock) if engine.dialect.name == "sqlite" else None

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction: committed when the block ends (durably: see collect.database), rolled back on error."""
        with self._write_lock, self._writer.begin() as conn:
            yield conn

    @classmethod
    def open(cls, url: str | None = None) -> "Store":
        """Open the configured store (`SDG16_DATABASE_URL` or the SQLite file in `SDG16_DATA_DIR`)."""
        return cls(make_engine(url))

    def close(self) -> None:
        """Finish pending writes and release the database connections."""
        if self._group_commit is not None:
            self._group_commit.close()
        self.engine.dispose()

    # --- forms -------------------------------------------------------------------------------------------------

    def publish_form(
        self, xform: bytes, *, xlsform: bytes | None = None, media: Mapping[str, bytes] | None = None
    ) -> FormVersion:
        """Store a form version (XForm bytes as they will be served, its XLSForm, its media) and return it.

        Idempotent: publishing identical bytes again changes nothing. Publishing different content under an
        already published form id and version raises Conflict, because phones holding the old bytes would then
        submit against a form the server no longer has; bump the version instead.
        """
        form_id, version, title = xform_identity(xform)
        media = dict(media or {})
        with self.write() as conn:
            existing = conn.execute(
                sa.select(tables.forms.c.id, tables.forms.c.xform_md5).where(
                    tables.forms.c.form_id == form_id, tables.forms.c.version == version
                )
            ).first()
            if existing is not None:
                stored_media = dict(
                    conn.execute(
                        sa.select(tables.form_media.c.filename, tables.form_media.c.md5).where(
                            tables.form_media.c.form_pk == existing.id
                        )
                    ).all()
                )
                if existing.xform_md5 != md5_hex(xform) or stored_media != {
                    name: md5_hex(content) for name, content in media.items()
                }:
                    raise Conflict(
                        f"form {form_id!r} version {version!r} is already published with different content; give the new form a new version"
                    )
            else:
                form_pk = conn.execute(
                    tables.forms.insert().values(
                        form_id=form_id,
                        version=version,
                        title=title,
                        xform=xform,
                        xform_md5=md5_hex(xform),
                        xlsform=xlsform,
                        published_at=datetime.now(UTC),
                    )
                ).inserted_primary_key[0]
                for filename, content in media.items():
                    conn.execute(
                        tables.form_media.insert().values(
                            form_pk=form_pk, filename=filename, content=content, md5=md5_hex(content)
                        )
                    )
        return self.form_version(form_id, version)

    def _form_row(self, conn: sa.Connection, form_id: str, version: str | None):
        if not findable(form_id, version):
            raise NotFound(f"form {quoted(form_id)} is not published on this server")
        query = sa.select(
            tables.forms.c.id,
            tables.forms.c.form_id,
            tables.forms.c.version,
            tables.forms.c.title,
            tables.forms.c.xform_md5,
            tables.forms.c.published_at,
        ).where(tables.forms.c.form_id == form_id)
        query = (
            query.where(tables.forms.c.version == version)
            if version is not None
            else query.order_by(tables.forms.c.id.desc()).limit(1)
        )
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(
                f"form {quoted(form_id)}"
                + (f" version {quoted(version)}" if version is not None else "")
                + " is not published on this server"
            )
        return row

    def _form_version(self, conn: sa.Connection, row) -> FormVersion:
        media = conn.execute(
            sa.select(tables.form_media.c.filename, tables.form_media.c.md5)
            .where(tables.form_media.c.form_pk == row.id)
            .order_by(tables.form_media.c.filename)
        ).all()
        return FormVersion(
            row.form_id,
            row.version,
            row.title,
            row.xform_md5,
            utc(row.published_at),
            tuple(MediaFile(m.filename, m.md5) for m in media),
        )

    def form_version(self, form_id: str, version: str | None = None) -> FormVersion:
        """A published form version (the latest one when `version` is None); NotFound if there is none."""
        with self.engine.connect() as conn:
            return self._form_version(conn, self._form_row(conn, form_id, version))

    def latest_forms(self) -> list[FormVersion]:
        """The latest published version of every form, as the form list offers them to phones."""
        latest = sa.select(sa.func.max(tables.forms.c.id)).group_by(tables.forms.c.form_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    tables.forms.c.id,
                    tables.forms.c.form_id,
                    tables.forms.c.version,
                    tables.forms.c.title,
                    tables.forms.c.xform_md5,
                    tables.forms.c.published_at,
                )
                .where(tables.forms.c.id.in_(latest))
                .order_by(tables.forms.c.form_id)
            ).all()
            return [self._form_version(conn, row) for row in rows]

    def form_versions(self) -> list[FormVersion]:
        """Every published version of every form, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    tables.forms.c.id,
                    tables.forms.c.form_id,
                    tables.forms.c.version,
                    tables.forms.c.title,
                    tables.forms.c.xform_md5,
                    tables.forms.c.published_at,
                ).order_by(tables.forms.c.id)
            ).all()
            return [self._form_version(conn, row) for row in rows]

    def form_xml(self, form_id: str, version: str | None = None) -> bytes:
        """The XForm bytes of a form version (latest when `version` is None), exactly as published."""
        with self.engine.connect() as conn:
            row = self._form_row(conn, form_id, version)
            return conn.execute(sa.select(tables.forms.c.xform).where(tables.forms.c.id == row.id)).scalar_one()

    def form_field_names(self, form_id: str) -> list[str]:
        """The answerable fields (notes left out) of every published version of a form: the latest version's in
        form order, then those only older versions had. Cached until a new version is published."""
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).where(tables.forms.c.form_id == form_id)).scalar_one()
            cached = self._field_names.get(form_id)
            if cached is not None and cached[0] == count:
                return cached[1]
            xforms = (
                conn.execute(
                    sa.select(tables.forms.c.xform)
                    .where(tables.forms.c.form_id == form_id)
                    .order_by(tables.forms.c.id.desc())
                )
                .scalars()
                .all()
            )
        names = list(
            dict.fromkeys(field.name for xform in xforms for field in read_xform(xform).fields() if not field.note)
        )
        self._field_names[form_id] = (count, names)
        return names

    def form_xlsform(self, form_id: str, version: str | None = None) -> bytes | None:
        """The XLSForm bytes a form version was built from, if they were published with it."""
        with self.engine.connect() as conn:
            row = self._form_row(conn, form_id, version)
            return conn.execute(sa.select(tables.forms.c.xlsform).where(tables.forms.c.id == row.id)).scalar_one()

    def media_file(self, form_id: str, version: str | None, filename: str) -> bytes:
        """The bytes of one media file of a form version (latest when `version` is None)."""
        with self.engine.connect() as conn:
            row = self._form_row(conn, form_id, version)
            content = (
                conn.execute(
                    sa.select(tables.form_media.c.content).where(
                        tables.form_media.c.form_pk == row.id, tables.form_media.c.filename == filename
                    )
                ).scalar()
                if findable(filename)
                else None
            )
        if content is None:
            raise NotFound(f"form {quoted(form_id)} version {quoted(row.version)} has no media file {quoted(filename)}")
        return content

    # --- submissions -------------------------------------------------------------------------------------------

    def receive(
        self,
        xml: bytes,
        attachments: Sequence[Attachment] = (),
        *,
        volunteer: str | None = None,
        device_id: str | None = None,
        complete: bool = True,
    ) -> Receipt:
        """Store one OpenRosa submission (raw XML + attachments) in one transaction, committed on return.

        - a byte-identical resend is a `duplicate`: nothing new is stored except attachments not yet present
          (this is how Collect's split uploads, `*isIncomplete*`, assemble into one submission);
        - the same instanceID with different XML raises Conflict (409);
        - `meta/deprecatedID` stores the edit as a new submission and marks the one it replaces superseded, if the
          same volunteer sent that one with the same form (`may_edit`; otherwise Forbidden, 403);
        - identifiers and names a database could not store (`check_storable`) raise InvalidSubmission (400);
        - a form id / version never published here raises UnknownForm (404);
        - XML its form version does not allow (collect.submission.FormShape) raises InvalidSubmission (400).
        `device_id` is the client's (Collect's `?deviceID=`); without it, the form's `deviceid` question.
        `complete=False` records that more parts of a split upload are still to come.
        """
        parsed = parse_submission(xml, self.form_shape)
        check_storable("meta/instanceID", parsed.instance_id)
        check_storable("meta/deprecatedID", parsed.deprecated_id)
        check_storable("volunteer", volunteer)
        check_storable("deviceID", device_id or parsed.device_id)
        for attachment in attachments:
            check_storable("attachment file name", attachment.filename)
            check_storable("attachment content type", attachment.content_type)
        job = functools.partial(
            self._receive,
            parsed=parsed,
            xml=xml,
            attachments=attachments,
            volunteer=volunteer,
            device_id=device_id or parsed.device_id,
            complete=complete,
        )
        if self._group_commit is not None:
            return self._group_commit.run(job)
        for attempt in range(INSERT_ATTEMPTS):
            try:
                with self.write() as conn:
                    return job(conn)
            except sa.exc.IntegrityError:
                if attempt == INSERT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _receive(
        self,
        conn: sa.Connection,
        *,
        parsed: ParsedSubmission,
        xml: bytes,
        attachments: Sequence[Attachment],
        volunteer: str | None,
        device_id: str | None,
        complete: bool,
    ) -> Receipt:
        existing = conn.execute(
            sa.select(tables.submissions.c.id, tables.submissions.c.xml, tables.submissions.c.complete).where(
                tables.submissions.c.instance_id == parsed.instance_id
            )
        ).first()
        if existing is not None:
            if existing.xml != xml:
                raise Conflict(
                    f"a different submission with instanceID {quoted(parsed.instance_id)} is already stored; an edit must carry a new instanceID and meta/deprecatedID"
                )
            self._add_attachments(conn, existing.id, attachments)
            if complete and not existing.complete:
                conn.execute(
                    tables.submissions.update().where(tables.submissions.c.id == existing.id).values(complete=True)
                )
            return Receipt(parsed.instance_id, "duplicate")
        submission_pk, superseded = self._insert(
            conn,
            instance_id=parsed.instance_id,
            form_id=parsed.form_id,
            form_version=parsed.form_version,
            xml=xml,
            source_record=None,
            fields=parsed.fields,
            deprecated_id=parsed.deprecated_id,
            complete=complete,
            volunteer=volunteer,
            device_id=device_id,
            received_at=datetime.now(UTC),
            source="openrosa",
            review_state="received",
        )
        if attachments:
            self._add_attachments(conn, submission_pk, attachments)
        return Receipt(parsed.instance_id, "created", superseded)

    def form_shape(self, form_id: str, version: str) -> FormShape:
        """What a submission of a published form version may contain; UnknownForm if it was never published here.
        Published versions never change and are never removed, so each is read once."""
        shape = self._shapes.get((form_id, version))
        if shape is not None:
            return shape
        with self.engine.connect() as conn:
            versions = dict(
                conn.execute(
                    sa.select(tables.forms.c.version, tables.forms.c.xform).where(tables.forms.c.form_id == form_id)
                ).all()
            )
        if not versions:
            raise UnknownForm(f"form {quoted(form_id)} is not published on this server")
        if version not in versions:
            raise UnknownForm(
                f"form {quoted(form_id)} has no version {quoted(version)} on this server (published: {', '.join(sorted(versions))})"
            )
        return self._shapes.setdefault((form_id, version), FormShape.of(versions[version]))

    def _insert(self, conn: sa.Connection, **values) -> tuple[int, str | None]:
        """Insert one submission row, linking it into its edit chain; returns its key and what it superseded.

        Only an edit its original's submitter may make (`may_edit`) links: one naming another volunteer's or another
        form's submission is refused (Forbidden), and one that arrived before its original supersedes that original
        only if it could have edited it, so naming an instanceID in advance cannot hide a submission still to come."""
        s = tables.submissions
        instance_id, deprecated_id = values["instance_id"], values["deprecated_id"]
        edited_by = sa.or_(s.c.source != "openrosa", s.c.volunteer.is_not_distinct_from(values["volunteer"]))
        successor = conn.execute(
            sa.select(s.c.instance_id)
            .where(s.c.deprecated_id == instance_id, s.c.form_id == values["form_id"], edited_by)
            .order_by(s.c.id)
            .limit(1)
        ).scalar()
        superseded = None
        if deprecated_id is not None:
            old = conn.execute(
                sa.select(s.c.id, s.c.superseded_by, s.c.form_id, s.c.volunteer).where(s.c.instance_id == deprecated_id)
            ).first()
            if old is not None:
                if not may_edit(old.form_id, old.volunteer, values):
                    raise Forbidden(
                        f"esta edición reemplaza el envío {quoted(deprecated_id)}, que no es suyo o es de otro formulario: no se guardó nada"
                        f" / this edit replaces submission {quoted(deprecated_id)}, which another volunteer sent or which belongs to another form: nothing was stored"
                    )
                if old.superseded_by is not None:
                    raise Conflict(
                        f"submission {quoted(deprecated_id)} was already replaced by edit {quoted(old.superseded_by)}; edit that version instead"
                    )
                conn.execute(s.update().where(s.c.id == old.id).values(superseded=True, superseded_by=instance_id))
                superseded = deprecated_id
        pk = conn.execute(
            s.insert().values(superseded=successor is not None, superseded_by=successor, **values)
        ).inserted_primary_key[0]
        return pk, superseded

    def _add_attachments(self, conn: sa.Connection, submission_pk: int, attachments: Sequence[Attachment]) -> None:
        stored = dict(
            conn.execute(
                sa.select(tables.attachments.c.filename, tables.attachments.c.md5).where(
                    tables.attachments.c.submission_pk == submission_pk
                )
            ).all()
        )
        for attachment in attachments:
            digest = md5_hex(attachment.content)
            if attachment.filename in stored:
                if stored[attachment.filename] != digest:
                    raise Conflict(f"attachment {quoted(attachment.filename)} is already stored with different content")
                continue
            conn.execute(
                tables.attachments.insert().values(
                    submission_pk=submission_pk,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    content=attachment.content,
                    md5=digest,
                )
            )
            stored[attachment.filename] = digest

    def import_records(
        self, records: Iterable[ImportRecord], progress: Callable[[int], None] | None = None
    ) -> ImportSummary:
        """Store imported rows in ONE transaction: any bad row raises and nothing of the import is kept.

        A row whose instanceID is already stored with the same fields is `unchanged` (importing a file twice
        adds nothing); with different fields it is an error naming the row. An edit made on the platform (a new
        instanceID under the same `root_id`) supersedes the version stored before; a review state set there since
        is taken. `progress(n)` is called after each row so that the CLI and the app can draw a progress bar.
        """
        summary = ImportSummary()
        with self.write() as conn:
            for done, record in enumerate(records, start=1):
                try:
                    self._import_one(conn, record, summary)
                except CollectError as error:
                    raise ImportRowError(f"row {record.row}: {error}") from None
                if progress is not None:
                    progress(done)
        return summary

    def _import_one(self, conn: sa.Connection, record: ImportRecord, summary: ImportSummary) -> None:
        for what in ("instance_id", "form_id", "form_version", "volunteer", "device_id", "deprecated_id"):
            check_storable(what, getattr(record, what))
        if record.review_state not in REVIEW_STATES:
            raise InvalidSubmission(
                f"review state {quoted(record.review_state)} is not one of {', '.join(REVIEW_STATES)}"
            )
        s = tables.submissions
        existing = conn.execute(
            sa.select(s.c.id, s.c.fields, s.c.form_id, s.c.review_state).where(s.c.instance_id == record.instance_id)
        ).first()
        if existing is not None:
            if existing.fields != record.fields or existing.form_id != record.form_id:
                raise Conflict(f"instanceID {quoted(record.instance_id)} is already stored with different values")
            summary.reviews += self._take_review(conn, existing, record)
            self._add_attachments(conn, existing.id, record.attachments)
            summary.unchanged += 1
            return
        pk, _ = self._insert(
            conn,
            instance_id=record.instance_id,
            form_id=record.form_id,
            form_version=record.form_version,
            xml=None,
            source_record=record.source_record,
            fields=record.fields,
            deprecated_id=self._edit_of(conn, record),
            complete=True,
            volunteer=record.volunteer,
            device_id=record.device_id,
            received_at=record.received_at or datetime.now(UTC),
            source=record.source,
            review_state=record.review_state,
        )
        self._add_attachments(conn, pk, record.attachments)
        summary.added += 1
        summary.instance_ids.append(record.instance_id)

    def _edit_of(self, conn: sa.Connection, record: ImportRecord) -> str | None:
        """The version an imported edit replaces: the current head of the chain its root (Central's KEY, Kobo's
        rootUuid) started — found by the root itself or by the first stored version that named the root — else
        the record's own deprecatedID. A root never stored is named, so that it is superseded should it arrive."""
        if record.root_id is None or record.root_id == record.instance_id:
            return record.deprecated_id
        s = tables.submissions
        head = conn.execute(
            sa.select(s.c.instance_id, s.c.superseded_by)
            .where((s.c.instance_id == record.root_id) | (s.c.deprecated_id == record.root_id))
            .order_by(s.c.id)
            .limit(1)
        ).first()
        if head is None:
            return record.deprecated_id or record.root_id
        while head.superseded_by is not None:
            head = conn.execute(
                sa.select(s.c.instance_id, s.c.superseded_by).where(s.c.instance_id == head.superseded_by)
            ).first()
        return head.instance_id

    def _take_review(self, conn: sa.Connection, existing, record: ImportRecord) -> bool:
        """A review made on the platform since the last import (Central's ReviewState, Kobo's validation status)
        is taken and logged as a review event by `<source> import`; "no review" there leaves a local one alone."""
        if record.review_state == "received" or record.review_state == existing.review_state:
            return False
        now = datetime.now(UTC)
        reviewer = f"{record.source} import"
        conn.execute(
            tables.submissions.update()
            .where(tables.submissions.c.id == existing.id)
            .values(review_state=record.review_state, review_comment=None, reviewed_at=now, reviewed_by=reviewer)
        )
        conn.execute(
            tables.review_events.insert().values(
                submission_pk=existing.id, review_state=record.review_state, comment=None, reviewer=reviewer, at=now
            )
        )
        return True

    def submission_xml(self, instance_id: str) -> bytes | None:
        """The raw XML of a submission exactly as received (None for rows imported from an export)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tables.submissions.c.xml).where(tables.submissions.c.instance_id == instance_id)
            ).first()
        if row is None:
            raise NotFound(f"no submission with instanceID {quoted(instance_id)}")
        return row.xml

    def attachments(self, instance_id: str) -> list[Attachment]:
        """The attachments stored with a submission, by file name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    tables.attachments.c.filename, tables.attachments.c.content, tables.attachments.c.content_type
                )
                .join(tables.submissions, tables.submissions.c.id == tables.attachments.c.submission_pk)
                .where(tables.submissions.c.instance_id == instance_id)
                .order_by(tables.attachments.c.filename)
            ).all()
        return [Attachment(row.filename, row.content, row.content_type) for row in rows]

    def set_review_state(
        self, instance_id: str, state: str, comment: str | None = None, reviewer: str | None = None
    ) -> None:
        """Record a coordinator's review: `approved`, `has_issues`, `rejected` (or back to `received`), with a
        comment and who made it. The submission shows the latest; `review_history` keeps them all. Rejected
        submissions stay stored but leave `submissions_frame` (unless asked for)."""
        if state not in REVIEW_STATES:
            raise ValueError(f"review state {state!r} is not one of {', '.join(REVIEW_STATES)}")
        now = datetime.now(UTC)
        with self.write() as conn:
            submission_pk = conn.execute(
                sa.select(tables.submissions.c.id).where(tables.submissions.c.instance_id == instance_id)
            ).scalar()
            if submission_pk is None:
                raise NotFound(f"no submission with instanceID {quoted(instance_id)}")
            conn.execute(
                tables.submissions.update()
                .where(tables.submissions.c.id == submission_pk)
                .values(review_state=state, review_comment=comment, reviewed_at=now, reviewed_by=reviewer)
            )
            conn.execute(
                tables.review_events.insert().values(
                    submission_pk=submission_pk, review_state=state, comment=comment, reviewer=reviewer, at=now
                )
            )

    def review_history(self, instance_id: str) -> pd.DataFrame:
        """Every review of a submission, oldest first: review_state, comment, reviewer, at (UTC)."""
        e, s = tables.review_events, tables.submissions
        query = (
            sa.select(e.c.review_state, e.c.comment, e.c.reviewer, e.c.at)
            .join(s, s.c.id == e.c.submission_pk)
            .where(s.c.instance_id == instance_id)
            .order_by(e.c.id)
        )
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=["review_state", "comment", "reviewer", "at"])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def submissions_frame(self, form_id: str, include_rejected: bool = False) -> pd.DataFrame:
        """Current submissions of a form for analysis: one row each, one column per field (bare name).

        Current = not superseded by an edit; rejected ones only when `include_rejected`. Columns are
        FRAME_COLUMNS, then every field of the form (`form_field_names`) as the XML text (strings;
        select_multiple space-separated; unanswered → NaN), even when no submission answered it. `received_at` is
        a UTC datetime. Rows in order of arrival. Raw XML is not loaded. `collect.frame.LiveFrame` keeps the same
        frame up to date by reading only the rows it has not seen."""
        return self.compose_frame(
            form_id, in_arrival_order(self.submission_rows(form_id, include_rejected=include_rejected))
        )

    def _current(self, form_id: str, include_rejected: bool, *columns) -> sa.Select:
        s = tables.submissions
        query = sa.select(*columns).where(s.c.form_id == form_id, s.c.superseded.is_(False))
        return query if include_rejected else query.where(s.c.review_state != "rejected")

    def review_states(self, form_id: str) -> pd.Series:
        """The review state of every current submission of a form (rejected included), indexed by row key `pk`:
        what can change in a stored submission. Answered from an index alone (migration 0005)."""
        s = tables.submissions
        with self.engine.connect() as conn:
            rows = conn.execute(self._current(form_id, True, s.c.id, s.c.review_state)).all()
        return pd.Series(
            [row[1] for row in rows],
            index=pd.Index([row[0] for row in rows], dtype="int64", name="pk"),
            dtype=object,
            name="review_state",
        )

    def submission_rows(
        self, form_id: str, pks: Sequence[int] | None = None, *, include_rejected: bool = True
    ) -> pd.DataFrame:
        """FRAME_COLUMNS and one string column per answered field of the current submissions of a form (or only
        of those keyed `pks`), indexed by row key `pk`, in no set order. Apart from the review state a stored
        submission never changes (an edit is a new row), which is what lets `collect.frame.LiveFrame` keep rows."""
        s = tables.submissions
        query = self._current(
            form_id, include_rejected, s.c.id, *(s.c[name] for name in FRAME_COLUMNS), sa.cast(s.c.fields, sa.Text)
        )
        with self.engine.connect() as conn:
            if pks is None:
                rows = conn.execute(query).all()
            else:  # in chunks: SQLite and drivers limit the number of bound parameters
                keys = [int(pk) for pk in pks]
                rows = [
                    row
                    for at in range(0, len(keys), ROWS_CHUNK)
                    for row in conn.execute(query.where(s.c.id.in_(keys[at : at + ROWS_CHUNK]))).all()
                ]
        index = pd.Index([row[0] for row in rows], dtype="int64", name="pk")
        meta = pd.DataFrame([row[1:-1] for row in rows], columns=FRAME_COLUMNS, index=index, dtype=object)
        meta["received_at"] = pd.to_datetime(meta["received_at"], utc=True)
        values = decode_fields([row[-1] for row in rows], index, self.form_field_names(form_id))
        return pd.concat([meta, values.drop(columns=FRAME_COLUMNS, errors="ignore")], axis=1)

    def compose_frame(self, form_id: str, rows: pd.DataFrame) -> pd.DataFrame:
        """`submission_rows` (`in_arrival_order`) as `submissions_frame` hands them over: every field of the form
        a column (answered or not, in form order), then values the form no longer has (imports)."""
        names = list(dict.fromkeys([*FRAME_COLUMNS, *self.form_field_names(form_id), *rows.columns]))
        return rows.reindex(columns=names).reset_index(drop=True)

    def submission_index(self, form_id: str | None = None) -> pd.DataFrame:
        """Every stored submission version (superseded and rejected included) with its review and edit status.

        For review screens: FRAME_COLUMNS plus review_comment, reviewed_at, reviewed_by, superseded,
        superseded_by, deprecated_id, complete, attachments (count).
        """
        s, a = tables.submissions, tables.attachments
        count = sa.select(sa.func.count()).where(a.c.submission_pk == s.c.id).scalar_subquery()
        extra = [
            "review_comment",
            "reviewed_at",
            "reviewed_by",
            "superseded",
            "superseded_by",
            "deprecated_id",
            "complete",
        ]
        query = sa.select(*(s.c[name] for name in FRAME_COLUMNS + extra), count.label("attachments")).order_by(
            s.c.received_at, s.c.id
        )
        if form_id is not None:
            query = query.where(s.c.form_id == form_id)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=FRAME_COLUMNS + extra + ["attachments"])
        for name in ("received_at", "reviewed_at"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        return frame

    def version(self) -> "StoreVersion":
        """Changes whenever anything the analysis frame shows may have changed: a submission stored (new, edited,
        imported), a review recorded, a form version published. Five index lookups, no scan of the submissions:
        the dashboard's cache key, cheaper than `status()`. Counts as well as maxima, because on PostgreSQL ids
        are not committed in order (a lower id committing later leaves the maximum unchanged but not the count)."""
        s, e, f = tables.submissions, tables.review_events, tables.forms
        query = sa.select(
            sa.select(sa.func.count()).select_from(s).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.max(s.c.id), 0)).scalar_subquery(),
            sa.select(sa.func.count()).select_from(e).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.max(e.c.id), 0)).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.max(f.c.id), 0)).scalar_subquery(),
        )
        with self.engine.connect() as conn:
            return StoreVersion(*conn.execute(query).one())

    def status(self) -> pd.DataFrame:
        """Per form and version: submissions stored, superseded, current ones by review state, last received."""
        s = tables.submissions
        current = s.c.superseded.is_(False)
        counts = [
            sa.func.sum(sa.case((current & (s.c.review_state == state), 1), else_=0)).label(state)
            for state in REVIEW_STATES
        ]
        query = (
            sa.select(
                s.c.form_id,
                s.c.form_version,
                sa.func.count().label("stored"),
                sa.func.sum(sa.case((current, 0), else_=1)).label("superseded"),
                *counts,
                sa.func.max(s.c.received_at).label("last_received"),
            )
            .group_by(s.c.form_id, s.c.form_version)
            .order_by(s.c.form_id, s.c.form_version)
        )
        with self.engine.connect() as conn:
            frame = pd.DataFrame(
                conn.execute(query).all(),
                columns=["form_id", "form_version", "stored", "superseded", *REVIEW_STATES, "last_received"],
            )
        frame["last_received"] = pd.to_datetime(frame["last_received"], utc=True)
        return frame

    # --- field-work targets (set by coordinators in the dashboard) ------------------------------------------------

    def targets(self, kind: str) -> dict[str, int]:
        """The stored targets of one kind (`neighbourhood` or `volunteer`): key → completed interviews wanted."""
        t = tables.dashboard_targets
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(t.c.key, t.c.target).where(t.c.kind == kind)).all())

    def replace_targets(self, kind: str, targets: Mapping[str, int]) -> None:
        """Replace every target of one kind at once (one transaction: readers see the old or the new set)."""
        t = tables.dashboard_targets
        with self.write() as conn:
            conn.execute(t.delete().where(t.c.kind == kind))
            if targets:
                conn.execute(
                    t.insert(), [{"kind": kind, "key": key, "target": value} for key, value in targets.items()]
                )

    # --- settings ----------------------------------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        """A server-wide setting's value, or None if it was never set. Only reads: pages asking whether something
        was set (e.g. the demo marker) must not create it, as `setting` does."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(tables.settings.c.value).where(tables.settings.c.key == key)).scalar()

    def put_setting(self, key: str, value: str) -> None:
        """Set a server-wide setting (create or replace), e.g. the round's sample plan."""
        t = tables.settings
        with self.write() as conn:
            if conn.execute(sa.select(t.c.key).where(t.c.key == key)).first() is None:
                conn.execute(t.insert().values(key=key, value=value))
            else:
                conn.execute(t.update().where(t.c.key == key).values(value=value))

    def identity(self) -> str:
        """A random name given to this database on first use: files derived from it (the dashboard's saved frame
        and snapshot) carry it, so that they are never read back into another store."""
        return self.setting("store_id", lambda: secrets.token_hex(16))

    def setting(self, key: str, default: Callable[[], str]) -> str:
        """A server-wide setting, created from `default()` on first use, the same for every replica."""
        with self.write() as conn:
            value = conn.execute(sa.select(tables.settings.c.value).where(tables.settings.c.key == key)).scalar()
            if value is None:
                value = default()
                conn.execute(tables.settings.insert().values(key=key, value=value))
            return value
