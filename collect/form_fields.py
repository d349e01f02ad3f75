"""The fields of a form as an export names them, read from the published XForm.

Exports name a field by its path, with the groups joined by `/` (KoboToolbox, Central's API) or `-` (Central's
CSV), or by its bare name (Kobo without groups in headers). Field names may themselves contain `-` or `.`, so a
header is never split: every spelling of every field is listed and headers are looked up exactly.
The XForm also gives each field's type and, for choice lists inside the form, its choice names, so an import can
refuse a value the form could not have produced.
"""

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from collect.submission import local_name, parse_xml

XFORMS = "{http://www.w3.org/2002/xforms}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ITEMSET_INSTANCE = re.compile(r"instance\('([^']+)'\)")
NUMERIC = {"int": re.compile(r"^-?\d+$"), "decimal": re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")}
IDENTITY = {"instanceID", "deprecatedID"}


@dataclass(frozen=True)
class Field:
    """One question (leaf of the primary instance): bare name, enclosing groups, XForm type, allowed choices."""

    name: str
    groups: tuple[str, ...]
    type: str
    choices: frozenset[str] | None = None
    multiple: bool = False
    note: bool = False

    def spellings(self) -> list[str]:
        """Every header an export may use for this field."""
        return list(dict.fromkeys(["/".join((*self.groups, self.name)), "-".join((*self.groups, self.name)), self.name]))

    def problem(self, value: str) -> str | None:
        """Why `value` cannot be an answer to this field, or None if it can."""
        if self.type in NUMERIC and not NUMERIC[self.type].match(value):
            kind = "a whole number" if self.type == "int" else "a number"
            return f"{self.name} must be {kind}, got {value!r}"
        if self.choices is not None:
            values = value.split() if self.multiple else [value]
            unknown = [v for v in values if v not in self.choices]
            if unknown:
                return f"{self.name} has {', '.join(map(repr, unknown))}, not a choice name of the form ({', '.join(sorted(self.choices))})"
        return None


def _leaves(element: Element, groups: tuple[str, ...], path: str):
    for child in element:
        name = local_name(child)
        child_path = f"{path}/{name}"
        if len(child):
            yield from _leaves(child, (*groups, name), child_path)
        elif name not in IDENTITY:
            yield name, groups, child_path


def _choices(root: Element, control: Element) -> frozenset[str] | None:
    items = [value.text or "" for value in control.iter(f"{XFORMS}value") if value.text is not None]
    itemset = control.find(f"{XFORMS}itemset")
    if itemset is None:
        return frozenset(items) if items else None
    match = ITEMSET_INSTANCE.search(itemset.get("nodeset", ""))
    value_ref = itemset.find(f"{XFORMS}value")
    if match is None or value_ref is None:
        return None
    for instance in root.iter(f"{XFORMS}instance"):
        if instance.get("id") == match.group(1):
            if instance.get("src"):  # select_one_from_file: choices live in a media file
                return None
            return frozenset(item.findtext(f"{XFORMS}{value_ref.get('ref')}") or "" for item in instance.iter(f"{XFORMS}item"))
    return None


def form_fields(xform: bytes) -> list[Field]:
    """The fields of an XForm's primary instance, in form order."""
    root = parse_xml(xform)
    model = root.find(f"{XHTML}head/{XFORMS}model")
    data = model.find(f"{XFORMS}instance")[0]
    binds = {bind.get("nodeset"): bind for bind in model.iter(f"{XFORMS}bind")}
    controls = {}
    for tag, multiple in (("select1", False), ("select", True)):
        for control in root.iter(f"{XFORMS}{tag}"):
            controls[control.get("ref")] = (control, multiple)
    fields = []
    for name, groups, path in _leaves(data, (), f"/{local_name(data)}"):
        control, multiple = controls.get(path, (None, False))
        choices = _choices(root, control) if control is not None else None
        bind = binds.get(path)
        attributes = bind.attrib if bind is not None else {}
        # A note is read-only with nothing computing or preloading it: it never holds an answer.
        note = attributes.get("readonly") == "true()" and "calculate" not in attributes and not any(k.endswith("preload") for k in attributes)
        fields.append(Field(name, groups, attributes.get("type", "string"), choices, multiple, note))
    return fields
