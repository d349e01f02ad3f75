"""A compiled XForm read as a phone reads it, and filled as ODK Collect fills it.

Reading is done here only: the collection server (`collect`: publishing, the analysis frame's columns, checking
imported values against types and choice lists) and the form filler share one reader, so they cannot disagree
about which fields a form has or which values a choice list holds (the itemset's `value ref` column).

Why fill: to make submissions that are exactly what a phone would send — the demo round (`dashboard.demo`) and the
benchmarks travel the same road as real data — something must play ODK Collect's part without a phone. Filling
follows javarosa: the primary instance's element tree with the root's `id` and `version`; every `relevant`
evaluated in document order (a non-relevant field or group is left out of the submission, as Collect and
javarosa leave it out; tests/forms/test_xform.py compares with javarosa); every `constraint` and `required`
checked; select values taken from the form's own choice lists (CSV media included, filtered by the form's
`choice_filter`); calculations such as `instanceName` evaluated; and the metadata a phone fills (`start`, `end`,
`today`, `deviceid`, `username`, `meta/instanceID`, the `audit.csv` attachment).
Expressions are evaluated by `forms.xpath` (why hand-written: see there).

Public API:

- `read_xform(xform_bytes, media=None) -> XForm` (`Node` per instance element, `XForm.allowed` for a select's
  choices, `XForm.fields()` -> `Field`s: the questions as exports name them and imports check them)
- `fill(form, answers, metadata, rng) -> Filled`, with `Metadata` what the phone itself fills
- `instance_xml(form, values) -> bytes`: the submission XML (the relevant nodes only);
  `audit_log(filled, start, end, rng) -> bytes`
- `XFormError`: a form that cannot be read, or answers the form would refuse, named by field.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import defusedxml
from defusedxml.ElementTree import fromstring

from forms import xpath
from forms.build import XFORMS as XF
from forms.build import XHTML as XH


class XFormError(ValueError):
    """A form this reader cannot read (e.g. a choice list whose media file is missing), or answers the form would
    refuse (not a choice, a broken constraint, a required field left empty): names the field and the value."""


# ---------------------------------------------------------------------------------------------------------------
# Reading the compiled XForm.
# ---------------------------------------------------------------------------------------------------------------

IDENTITY = {"instanceID", "deprecatedID"}  # the submission's identity, not a field
NUMERIC = {"int": re.compile(r"^-?\d+$"), "decimal": re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")}
# pyxform's itemset: a list instance, an optional choice_filter predicate, optionally inside randomize(..., seed).
_COLUMN_IS_FIELD = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*=\s*(/[\w/.-]+)\s*$")  # a choice_filter `name= /data/x `
_ITEMSET = re.compile(
    r"^\s*(?:randomize\(\s*)?instance\('([^']+)'\)/root/item(?:\[(.*)\])?\s*(?:,[^\]]*)?\)?\s*$", re.DOTALL
)


@dataclass(frozen=True)
class Node:
    """One element of the primary instance with what its bind and body control say about it."""

    path: str
    name: str
    children: tuple[Node, ...] = ()
    bind: Mapping[str, str] = field(default_factory=dict)
    select: str | None = None  # "one" or "multiple"
    choices: str | None = None  # key into XForm.choices
    choice_filter: str | None = None  # predicate over a choice item's columns
    value: str = "name"  # the item column a choice's value comes from (the itemset's `value ref`)

    @property
    def is_group(self) -> bool:
        return bool(self.children)

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups enclosing this node, outermost first (the root element left out)."""
        return tuple(self.path.split("/")[2:-1])

    @property
    def type(self) -> str:
        """The bind's XForm type (`string` when the bind says none, as javarosa assumes)."""
        return self.bind.get("type", "string")

    @property
    def is_note(self) -> bool:
        """A note: read-only, no value, shown to the volunteer only."""
        return self.bind.get("readonly") == "true()" and "calculate" not in self.bind and "preload" not in self.bind


@dataclass(frozen=True)
class XForm:
    """A compiled form: identity, the primary instance as a tree of nodes, and every choice list by name."""

    form_id: str
    version: str
    title: str
    root: Node
    choices: Mapping[str, tuple[Mapping[str, str], ...]]
    nodes: tuple[Node, ...]  # every node below the root in document order (the order Collect asks and saves)

    @property
    def has_audit(self) -> bool:
        """Whether the form asks for Collect's audit log (an `audit` binary in meta, sent as audit.csv)."""
        return any(node.name == "audit" and node.bind.get("type") == "binary" for node in self.nodes)

    def allowed(self, node: Node, values: Mapping[str, str]) -> list[str]:
        """The choice values a select offers given the answers so far (its `choice_filter` applied)."""
        if node.choices not in self.choices:
            raise XFormError(
                f"the choices of {node.name} ({node.choices}) were not read: read the form with its media files"
            )
        items = self.choices[node.choices]
        simple = _COLUMN_IS_FIELD.match(node.choice_filter or "")
        if simple:  # pyxform's cascade `column = ${field}`: a string comparison, not one XPath run per item
            column, path = simple.groups()
            wanted = values.get(path, "")
            items = [item for item in items if item.get(column) == wanted]
        elif node.choice_filter:
            items = [
                item for item in items if xpath.boolean(xpath.evaluate(node.choice_filter, values, node.path, item))
            ]
        return [item.get(node.value, "") for item in items]

    def fields(self) -> list[Field]:
        """Every leaf of the primary instance but the submission's identity (`instanceID`, `deprecatedID`), in
        form order: what a submission or an export holds, one column per field."""
        return [
            Field(node, self._values(node)) for node in self.nodes if not node.is_group and node.name not in IDENTITY
        ]

    def _values(self, node: Node) -> frozenset[str] | None:
        """Every value a select's list holds, whatever its filter (None: not a select, or a media list not read)."""
        if node.select is None or node.choices not in self.choices:
            return None
        return frozenset(item.get(node.value, "") for item in self.choices[node.choices])


@dataclass(frozen=True)
class Field:
    """A question as exports name it and imports check it: the node, and its list's values when they are known.

    Exports name a field by its path, with the groups joined by `/` (KoboToolbox, Central's API) or `-` (Central's
    CSV), or by its bare name (Kobo without groups in headers). Field names may themselves contain `-` or `.`, so a
    header is never split: every spelling is listed and headers are looked up exactly.
    """

    node: Node
    choices: frozenset[str] | None = None

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def groups(self) -> tuple[str, ...]:
        return self.node.groups

    @property
    def type(self) -> str:
        return self.node.type

    @property
    def multiple(self) -> bool:
        return self.node.select == "multiple"

    @property
    def note(self) -> bool:
        return self.node.is_note

    def spellings(self) -> list[str]:
        """Every header an export may use for this field."""
        return list(
            dict.fromkeys(["/".join((*self.groups, self.name)), "-".join((*self.groups, self.name)), self.name])
        )

    def problem(self, value: str) -> str | None:
        """Why `value` cannot be an answer to this field (not a number, not a choice of its list), or None."""
        if self.type in NUMERIC and not NUMERIC[self.type].match(value):
            kind = "a whole number" if self.type == "int" else "a number"
            return f"{self.name} must be {kind}, got {value!r}"
        if self.choices is not None:
            values = value.split() if self.multiple else [value]
            unknown = [v for v in values if v not in self.choices]
            if unknown:
                return f"{self.name} has {', '.join(map(repr, unknown))}, not a choice name of the form ({', '.join(sorted(self.choices))})"
        return None


def read_xform(xform: bytes, media: Mapping[str, bytes] | None = None) -> XForm:
    """Read a pyxform XForm: primary instance, binds, select controls and choice lists (CSV media included).

    Without `media` (the collection server reading fields and types), a list kept in a media file is left unread
    and its field's choices unknown; with `media`, such a list must be there, as filling needs it.
    """
    html = _parse(xform)
    model, body = html.find(f"{XH}head/{XF}model"), html.find(f"{XH}body")
    instances = [] if model is None else model.findall(f"{XF}instance")
    if not instances or len(instances[0]) == 0 or body is None:
        raise XFormError("the XForm has no primary instance (h:head/model/instance) or no h:body")
    primary = instances[0][0]
    binds = {
        bind.get("nodeset"): {_bare(key): value for key, value in bind.attrib.items() if key != "nodeset"}
        for bind in model.iter(f"{XF}bind")
    }
    choices = _choice_lists(instances[1:], media)
    controls = _select_controls(body, choices, media)

    def node(element: ElementTree.Element, path: str) -> Node:
        children = tuple(node(child, f"{path}/{_bare(child.tag)}") for child in element)
        select, choice_list, choice_filter, value = controls.get(path, (None, None, None, "name"))
        return Node(path, _bare(element.tag), children, binds.get(path, {}), select, choice_list, choice_filter, value)

    def below(parent: Node) -> Iterator[Node]:
        for child in parent.children:
            yield child
            yield from below(child)

    root = node(primary, "/" + _bare(primary.tag))
    form_id = primary.get("id", "")
    title = html.findtext(f"{XH}head/{XH}title") or form_id
    return XForm(form_id, primary.get("version", ""), title, root, choices, tuple(below(root)))


def _choice_lists(
    instances: list[ElementTree.Element], media: Mapping[str, bytes] | None
) -> dict[str, tuple[dict[str, str], ...]]:
    """The secondary instances' items by instance id: written in the form, or read from a CSV media file."""
    choices = {}
    for instance in instances:
        source = instance.get("src")
        if source:
            filename = source.rsplit("/", 1)[-1]
            if filename.endswith(".csv") and media is not None and filename in media:
                choices[instance.get("id")] = tuple(csv.DictReader(io.StringIO(media[filename].decode("utf-8-sig"))))
        else:
            choices[instance.get("id")] = tuple(_item(item) for item in instance.iter(f"{XF}item"))
    return choices


def _select_controls(
    body: ElementTree.Element, choices: dict, media: Mapping[str, bytes] | None
) -> dict[str, tuple[str, str | None, str | None, str]]:
    """Each select's (kind, choice list, choice_filter, value column) by its ref; inline choices join `choices`."""
    controls = {}
    for control in body.iter():
        kind = {f"{XF}select1": "one", f"{XF}select": "multiple"}.get(control.tag)
        if kind is None:
            continue
        ref = control.get("ref")
        itemset = control.find(f"{XF}itemset")
        if itemset is None:  # choices written inline in the control
            choices[ref] = tuple(_item(item) for item in control.findall(f"{XF}item"))
            controls[ref] = (kind, ref, None, "value")
            continue
        match = _ITEMSET.match(itemset.get("nodeset", ""))
        list_id, choice_filter = match.groups() if match else (None, None)
        value = itemset.find(f"{XF}value")
        value = "name" if value is None else value.get("ref", "name")
        if media is not None and list_id not in choices:
            raise XFormError(
                f"the choices of {ref} ({itemset.get('nodeset')}) cannot be read; is its media file missing?"
            )
        if media is not None and choices[list_id] and value not in choices[list_id][0]:
            raise XFormError(
                f"the choices of {ref} take their value from a column {value!r} that the list {list_id!r} does not have"
            )
        controls[ref] = (kind, list_id, choice_filter, value)
    return controls


def _item(item: ElementTree.Element) -> dict[str, str]:
    return {_bare(cell.tag): cell.text or "" for cell in item}


def _parse(xform: bytes) -> ElementTree.Element:
    """The XForm's element tree; DTDs and entities refused, as a form may come from an upload."""
    try:
        return fromstring(xform, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ElementTree.ParseError, defusedxml.DefusedXmlException) as error:
        raise XFormError(f"the XForm cannot be parsed ({type(error).__name__}: {error})") from None


def _bare(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# ---------------------------------------------------------------------------------------------------------------
# Filling the instance as Collect does, and what the phone sends.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    """What the phone itself fills: timestamps, device, user, the instanceID."""

    start: datetime
    end: datetime
    deviceid: str
    username: str
    instance_id: str

    def preload(self, kind: str, params: str) -> str:
        """The value of a `jr:preload` bind, as javarosa computes it on the phone."""
        if kind == "timestamp":
            return _timestamp(self.start if params == "start" else self.end)
        if kind == "date":
            return self.start.date().isoformat()
        if kind == "uid":
            return self.instance_id
        if kind == "property":
            return {"deviceid": self.deviceid, "username": self.username}.get(params, "")
        return ""


def _timestamp(moment: datetime) -> str:
    """Collect's dateTime format: milliseconds and the phone's UTC offset."""
    return moment.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Filled:
    """A filled instance: the values of its relevant nodes by absolute path (a non-relevant node, and all below it,
    has no entry: it is not part of what the phone sends), and the questions and notes shown, in the order shown."""

    values: dict[str, str]
    shown: tuple[Node, ...]


def fill(form: XForm, answers: Mapping[str, str | None], metadata: Metadata, rng: random.Random) -> Filled:
    """The instance Collect would save for these answers, walking the form in document order.

    `answers` maps bare field names to the respondent's answer (None: left blank). A relevant field the answers do
    not cover gets a generic valid value, so a caller (the demo's population model) survives questions added to
    the form; a field that is not relevant is left out whatever the answers say. Raises XFormError naming the
    field when an answer breaks the form (not a choice, a constraint, a required field left empty): the answers
    and the form disagree.
    """
    values: dict[str, str] = {}
    shown: list[Node] = []
    relevant = {form.root.path: True}
    for node in form.nodes:
        parent = node.path.rsplit("/", 1)[0]
        condition = node.bind.get("relevant")
        relevant[node.path] = relevant[parent] and (
            condition is None or xpath.boolean(xpath.evaluate(condition, values, node.path, instances=form.choices))
        )
        values[node.path] = ""
        if node.is_group or not relevant[node.path]:
            continue
        if node.is_note:
            shown.append(node)
            continue
        values[node.path] = _value(form, node, answers, metadata, values, rng)
        _check(form, node, values)
        if not {"preload", "calculate"} & node.bind.keys() and node.bind.get("type") != "binary":
            shown.append(node)
    # Expressions above saw a non-relevant node as empty, as javarosa's instance holds it; the phone does not send it.
    return Filled({path: value for path, value in values.items() if relevant[path]}, tuple(shown))


def _value(
    form: XForm,
    node: Node,
    answers: Mapping[str, str | None],
    metadata: Metadata,
    values: Mapping[str, str],
    rng: random.Random,
) -> str:
    bind = node.bind
    if "preload" in bind:
        return metadata.preload(bind["preload"], bind.get("preloadParams", ""))
    if "calculate" in bind:
        return xpath.string(xpath.evaluate(bind["calculate"], values, node.path, instances=form.choices))
    if bind.get("type") == "binary" and node.name == "audit":
        return "audit.csv"
    if node.name in answers:
        return answers[node.name] or ""
    return _generic(form, node, metadata, values, rng)


def _generic(form: XForm, node: Node, metadata: Metadata, values: dict[str, str], rng: random.Random) -> str:
    """A plausible valid answer to a question the answers do not cover (optional ones mostly skipped): a date is
    the interview's day, a place somewhere in Trujillo, numbers are drawn until one meets the constraint."""
    if not _required(node) and rng.random() < 0.8:
        return ""
    if node.select is not None:
        options = [name for name in form.allowed(node, values) if name not in ("dont_know", "refused", "none", "other")]
        return rng.choice(options) if options else ""
    kind = node.bind.get("type", "string")
    if kind == "date":
        return metadata.start.date().isoformat()
    if kind == "geopoint":
        return f"{rng.uniform(-8.16, -8.06):.6f} {rng.uniform(-79.06, -78.98):.6f} {rng.uniform(20, 150):.1f} {rng.uniform(3, 20):.1f}"
    if kind not in ("int", "decimal"):
        return "demo"
    constraint = node.bind.get("constraint")
    for _ in range(200):
        values[node.path] = str(rng.randint(0, 120)) if kind == "int" else f"{rng.uniform(0, 120):.1f}"
        if constraint is None or xpath.boolean(xpath.evaluate(constraint, values, node.path)):
            return values[node.path]
    raise XFormError(f"{node.name}: no number between 0 and 120 meets its constraint {constraint.strip()}")


def _required(node: Node) -> bool:
    return node.bind.get("required") == "true()"


def _check(form: XForm, node: Node, values: Mapping[str, str]) -> None:
    value = values[node.path]
    if not value:
        if _required(node):
            raise XFormError(f"{node.name} is required and relevant but the answers leave it empty")
        return
    if node.select is not None:
        allowed = form.allowed(node, values)
        chosen = value.split() if node.select == "multiple" else [value]
        wrong = [name for name in chosen if name not in allowed]
        if wrong:
            raise XFormError(f"{node.name}: {', '.join(wrong)} is not among its choices here ({', '.join(allowed)})")
    constraint = node.bind.get("constraint")
    if constraint and not xpath.boolean(xpath.evaluate(constraint, values, node.path)):
        raise XFormError(f"{node.name} = {value!r} breaks its constraint {constraint.strip()}")


def instance_xml(form: XForm, values: Mapping[str, str]) -> bytes:
    """The submission XML: the primary instance's nodes that `values` holds (`fill` holds the relevant ones), with
    their values, namespaces declared as Collect declares them.

    A node `values` does not hold is left out with everything below it, as Collect leaves out a non-relevant field
    or group (javarosa's XFormSerializingVisitor; ODK Collect issue #266): the server reads an absent field and an
    empty one alike, as no answer. A relevant field without a value is an empty element.
    """
    out = ["<?xml version='1.0' ?>"]

    def write(node: Node, attributes: str = "") -> None:
        if node.children:
            out.append(f"<{node.name}{attributes}>")
            for child in node.children:
                if child.path in values:
                    write(child)
            out.append(f"</{node.name}>")
        elif values.get(node.path):
            out.append(f"<{node.name}>{escape(values[node.path])}</{node.name}>")
        else:
            out.append(f"<{node.name} />")

    root_attributes = (
        f' xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"'
        f" id={quoteattr(form.form_id)} version={quoteattr(form.version)}"
    )
    write(form.root, root_attributes)
    return "".join(out).encode("utf-8")


def audit_log(filled: Filled, start: datetime, end: datetime, rng: random.Random) -> bytes:
    """Collect's audit.csv: one `question` row per question or note shown, with its times in epoch milliseconds.

    The interview's duration is shared among the screens (notes are read fast, multiple choices take longer),
    so a speeder's short interview shows up in the audit as well as in `start`/`end`.
    """
    weights = [
        rng.uniform(0.5, 1.5) * (0.4 if node.is_note else 2.0 if node.select == "multiple" else 1.0)
        for node in filled.shown
    ]
    clock = int(start.timestamp() * 1000)
    finish = int(end.timestamp() * 1000)
    rows: list[list] = [["event", "node", "start", "end"], ["form start", "", clock, ""]]
    scale = max(0, finish - clock - 3000) / max(sum(weights), 1e-9)
    clock += 1000
    for node, weight in zip(filled.shown, weights):
        spent = max(200, int(weight * scale))
        rows.append(["question", node.path, clock, clock + spent])
        clock += spent
    finish = max(finish, clock + 1000)
    rows += [
        ["end screen", "", clock, finish],
        ["form save", "", finish, ""],
        ["form exit", "", finish, ""],
        ["form finalize", "", finish, ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")
