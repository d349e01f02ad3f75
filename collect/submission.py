"""Reading one submission's XML: its identity (instanceID, deprecatedID, form id and version) and flat fields,
checked against the shape of the form version it names.

The XML comes from the network, so DTDs are forbidden as defusedxml forbids them: no DOCTYPE, no entity expansion
(billion laughs), no external entities. Only UTF-8 is accepted, as ODK clients always send it.

It is read as a stream of start and end events (expat's handlers, 16 KiB at a time; no tree is built), so that a hostile
body is refused as soon as it goes wrong, before it costs memory: an element the form does not define, an element
the form has once given twice, nesting deeper than the form, more than MAX_ELEMENTS elements. A stored submission
can therefore only have fields its form has; 100,000 invented element names would otherwise become 100,000 columns
of the analysis frame that every later read pays for. Without a form (`shape_of` not given) only the generic bounds
apply: MAX_DEPTH levels, MAX_ELEMENTS elements.
"""

from collections.abc import Callable
from dataclasses import dataclass
from xml.parsers import expat

from defusedxml.ElementTree import fromstring

from collect.errors import InvalidSubmission, UnknownForm, quoted
from forms.build import XFORMS
from forms.xform import read_xform

# meta/ children that identify the record rather than describe the respondent; they get their own columns.
IDENTITY_FIELDS = {"instanceID", "deprecatedID"}
# Elements in one submission: a form's questions plus its repeats' rows. Ten thousand holds a household roster of
# a hundred members with a hundred questions each; the limit only bounds what one request may make the server do.
MAX_ELEMENTS = 10_000
MAX_DEPTH = 64  # nesting levels when no form is given (forms nest a few groups deep)
CHUNK = 16 * 1024  # bytes handed to expat at a time


@dataclass(frozen=True)
class FormShape:
    """What a submission of one form version may contain: the element paths of its primary instance (local names,
    below the root), which of them are repeats (may occur many times), and how deep it nests."""

    form_id: str
    version: str
    root: str
    paths: frozenset[tuple[str, ...]]
    repeats: frozenset[tuple[str, ...]]
    depth: int

    @classmethod
    def of(cls, xform: bytes) -> "FormShape":
        """The shape of a published XForm (its primary instance and its body's repeats)."""
        form = read_xform(xform)
        paths = {tuple(node.path.split("/")[2:]) for node in form.nodes}
        # An edit carries meta/deprecatedID, which Collect and Enketo add whether or not the form declares it.
        paths |= {("meta",), ("meta", "deprecatedID")}
        repeats = {
            tuple(repeat.get("nodeset", "").split("/")[2:]) for repeat in fromstring(xform).iter(f"{XFORMS}repeat")
        }
        return cls(
            form.form_id, form.version, form.root.name, frozenset(paths), frozenset(repeats), 1 + max(map(len, paths))
        )

    def describe(self) -> str:
        return f"{quoted(self.form_id)} versión/version {quoted(self.version)}"


@dataclass(frozen=True)
class ParsedSubmission:
    """What the store needs from a submission besides its bytes."""

    instance_id: str
    deprecated_id: str | None
    form_id: str
    form_version: str
    fields: dict[str, str]

    @property
    def device_id(self) -> str | None:
        """The `deviceid` metadata question, when the form has one."""
        return self.fields.get("deviceid")


def _refuse(spanish: str, english: str) -> InvalidSubmission:
    return InvalidSubmission(f"{spanish}: no se guardó nada / {english}: nothing was stored")


class _Reader:
    """One streaming read (expat handlers): the open elements, what each has had, the fields and meta found."""

    def __init__(self, shape_of: Callable[[str, str], FormShape] | None):
        self.shape_of, self.shape = shape_of, None
        self.unknown: UnknownForm | None = None  # said once the XML has been read whole: its own faults come first
        self.path: list[str] = []  # local names of the open elements below the root
        self.seen: list[set[str]] = []  # per open element: the names of its children so far
        self.leaf: list[bool] = []  # per open element: no child element yet
        self.text: list[str] = []  # character data since the last start or end tag
        self.count = 0
        self.root: dict[str, str] | None = None  # the root's attributes
        self.fields: dict[str, str] = {}
        self.meta: dict[str, str] = {}

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _refuse(
                f"el envío tiene más de {MAX_ELEMENTS} elementos",
                f"the submission has more than {MAX_ELEMENTS} elements",
            )
        name = tag.rsplit("}", 1)[-1]  # without its namespace: Collect may write `orx:meta`
        if self.root is None:
            self.root = attributes
            self._open_root(attributes, name)
        else:
            self._check(name)
            self.leaf[-1] = False
            self.seen[-1].add(name)
            self.path.append(name)
        self.seen.append(set())
        self.leaf.append(True)
        self.text.clear()

    def _open_root(self, attributes: dict[str, str], name: str) -> None:
        form_id = attributes.get("id", "")
        if not form_id:
            raise InvalidSubmission(
                f"the submission's root element <{quoted(name)}> has no id attribute naming its form"
            )
        if self.shape_of is not None:
            try:
                self.shape = self.shape_of(form_id, attributes.get("version", ""))
            except UnknownForm as error:
                self.unknown = error
                return
            if name != self.shape.root:
                raise _refuse(
                    f"el elemento raíz {quoted(name)} no es el del formulario {self.shape.describe()} ({quoted(self.shape.root)})",
                    f"the root element {quoted(name)} is not the one of form {self.shape.describe()} ({quoted(self.shape.root)})",
                )

    def _check(self, name: str) -> None:
        path = (*self.path, name)
        depth = len(path) + 1
        if self.shape is None:
            if depth > MAX_DEPTH:
                raise _refuse(
                    f"el envío anida más de {MAX_DEPTH} niveles", f"the submission nests deeper than {MAX_DEPTH} levels"
                )
        elif depth > self.shape.depth:
            where = quoted("/".join(path))
            raise _refuse(
                f"el envío anida más hondo ({where}) que el formulario {self.shape.describe()} ({self.shape.depth} niveles)",
                f"the submission nests deeper ({where}) than form {self.shape.describe()} ({self.shape.depth} levels)",
            )
        elif path not in self.shape.paths:
            where = quoted("/".join(path))
            raise _refuse(
                f"el envío tiene un elemento {where} que el formulario {self.shape.describe()} no define",
                f"the submission has an element {where} that form {self.shape.describe()} does not define",
            )
        elif name in self.seen[-1] and path not in self.shape.repeats:
            where = quoted("/".join(path))
            raise _refuse(
                f"el elemento {where} aparece más de una vez y no es una repetición del formulario",
                f"element {where} occurs more than once but is not a repeat of the form",
            )

    def end(self, _tag: str) -> None:
        leaf = self.leaf.pop()
        self.seen.pop()
        text = "".join(self.text)
        self.text.clear()
        if not self.path:  # the root
            return
        name = self.path.pop()
        if self.path == ["meta"]:
            self.meta.setdefault(name, text.strip())
        # A leaf repeated inside a repeat group keeps its first value; the raw XML keeps them all.
        if leaf and name not in IDENTITY_FIELDS and text and name not in self.fields:
            self.fields[name] = text


def _refusing(what: str) -> Callable[..., None]:
    """An expat handler that refuses the document as soon as it declares `what`."""

    def refuse(*_args) -> None:
        raise InvalidSubmission(f"the submission {what}, which is not allowed")

    return refuse


def _read(xml: bytes, reader: _Reader) -> None:
    """Run `reader` over untrusted XML with expat, CHUNK bytes at a time so that a refusal stops the read early.
    DTDs, entity declarations and external references are refused by the same expat handlers defusedxml sets
    (no DOCTYPE, no entity expansion, nothing fetched); errors name the problem."""
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidSubmission(f"the submission is not UTF-8 (invalid byte at position {error.start})") from None
    parser = expat.ParserCreate("utf-8", namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = (
        reader.start,
        reader.end,
        reader.text.append,
    )
    parser.StartDoctypeDeclHandler = _refusing("contains a DOCTYPE declaration")
    parser.EntityDeclHandler = parser.UnparsedEntityDeclHandler = _refusing("declares XML entities")
    parser.ExternalEntityRefHandler = _refusing("refers to an external entity")
    try:
        for at in range(0, len(xml), CHUNK):
            parser.Parse(xml[at : at + CHUNK], False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise InvalidSubmission(f"the submission is not well-formed XML ({error})") from None


def parse_submission(xml: bytes, shape_of: Callable[[str, str], FormShape] | None = None) -> ParsedSubmission:
    """Parse a submission's XML into its identity and flat fields, or raise InvalidSubmission saying why.

    `shape_of(form_id, version)` gives the shape the named form version allows (and raises if it is not published);
    the submission is checked against it while it is read."""
    reader = _Reader(shape_of)
    _read(xml, reader)
    instance_id = reader.meta.get("instanceID", "")
    if not instance_id:
        raise InvalidSubmission("the submission has no meta/instanceID")
    if reader.unknown is not None:
        raise reader.unknown
    return ParsedSubmission(
        instance_id=instance_id,
        deprecated_id=reader.meta.get("deprecatedID") or None,
        form_id=reader.root.get("id", ""),
        form_version=reader.root.get("version", ""),
        fields=reader.fields,
    )
