"""Reading one submission's XML: its identity (instanceID, deprecatedID, form id and version) and flat fields.

The XML comes from the network, so it is parsed with defusedxml with DTDs forbidden: no DOCTYPE, no entity
expansion (billion laughs), no external entities. Only UTF-8 is accepted, as ODK clients always send it.
"""

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import fromstring

from collect.errors import InvalidSubmission

# meta/ children that identify the record rather than describe the respondent; they get their own columns.
IDENTITY_FIELDS = {"instanceID", "deprecatedID"}


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


def local_name(element: Element) -> str:
    """The tag without its namespace: Collect may qualify `meta` as `orx:meta`."""
    return element.tag.rsplit("}", 1)[-1]


def parse_xml(xml: bytes) -> Element:
    """Parse untrusted XML, refusing DTDs and entities; errors name the problem."""
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidSubmission(f"the submission is not UTF-8 (invalid byte at position {error.start})") from None
    try:
        return fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise InvalidSubmission("the submission contains a DOCTYPE declaration, which is not allowed") from None
    except defusedxml.EntitiesForbidden:
        raise InvalidSubmission("the submission declares XML entities, which are not allowed") from None
    except defusedxml.ExternalReferenceForbidden:
        raise InvalidSubmission("the submission refers to an external entity, which is not allowed") from None
    except ParseError as error:
        raise InvalidSubmission(f"the submission is not well-formed XML ({error})") from None


def flatten(element: Element, fields: dict[str, str]) -> None:
    """Collect leaf values by bare field name (names are unique in an XLSForm, groups only wrap them).

    A leaf repeated inside a repeat group keeps its first value; the raw XML keeps them all.
    """
    for child in element:
        name = local_name(child)
        if len(child):
            flatten(child, fields)
        elif name not in IDENTITY_FIELDS and child.text and name not in fields:
            fields[name] = child.text


def parse_submission(xml: bytes) -> ParsedSubmission:
    """Parse a submission's XML into its identity and flat fields, or raise InvalidSubmission saying why."""
    root = parse_xml(xml)
    meta = {local_name(child): (child.text or "").strip() for element in root if local_name(element) == "meta" for child in element}
    instance_id = meta.get("instanceID", "")
    if not instance_id:
        raise InvalidSubmission("the submission has no meta/instanceID")
    form_id = root.get("id", "")
    if not form_id:
        raise InvalidSubmission(f"the submission's root element <{local_name(root)}> has no id attribute naming its form")
    fields: dict[str, str] = {}
    flatten(root, fields)
    return ParsedSubmission(
        instance_id=instance_id,
        deprecated_id=meta.get("deprecatedID") or None,
        form_id=form_id,
        form_version=root.get("version", ""),
        fields=fields,
    )
