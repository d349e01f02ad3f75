"""collect/enketo_transform.py: the server's XForm → Enketo transform gives what enketo-transformer itself gives.

The goldens in transform/ are enketo-transformer's own browser output (`transform/make_golden.py`) for today's
questionnaire and for pyxform-built forms with what next year's questionnaire uses: a CSV external instance with a
choice filter, calculations reading it, relevance, groups, Markdown notes with outputs, hints, appearances; and
language names without codes, a repeat, setvalue actions, choice images, an image question. Compared as documents
(elements, attributes, text with runs of white space collapsed): serialisers differ in quoting and indentation,
which no browser sees.
"""

import re
from pathlib import Path

import pytest
from lxml import etree, html

from collect.enketo_transform import TransformError, markdown_to_html, parse_language, transform

FIXTURES = Path(__file__).resolve().parent / "transform"
XFORMS = sorted(path for path in FIXTURES.glob("*.xml") if not path.name.endswith(".model.xml"))


def media_of(xform: str) -> dict[str, str]:
    names = set(re.findall(r"jr://(?:images|file-csv|file)/([^\"<]+)", xform))
    return {name: f"attachments/{name}" for name in sorted(names)}


def shape(element) -> tuple:
    """An element as (tag, attributes, text, children), white space collapsed, comments left out."""

    def text(value: str | None) -> str:
        return " ".join((value or "").split())

    def value(
        name: str, raw: str
    ) -> str:  # a boolean attribute written `readonly`, `readonly=""` or `readonly="readonly"`
        return "" if raw == name else " ".join(raw.split())

    children = [child for child in element if isinstance(child.tag, str)]
    texts = text(element.text) + "".join(" " + text(child.tail) for child in element)
    return (
        etree.QName(element).localname if "}" in element.tag else element.tag,
        tuple(
            sorted(
                (etree.QName(name).localname, value(etree.QName(name).localname, raw))
                for name, raw in element.attrib.items()
            )
        ),
        " ".join(texts.split()),
        tuple(shape(child) for child in children),
    )


def form_shape(markup: str) -> tuple:
    return shape(html.fragment_fromstring(markup, create_parent="root"))


def model_shape(markup: str) -> tuple:
    return shape(etree.fromstring(f"<root>{markup}</root>".encode()))


def first_difference(ours: tuple, theirs: tuple, path: str = "") -> str:
    here = f"{path}/{ours[0]}"
    if ours[:3] != theirs[:3]:
        return f"{here}: ours {ours[:3]!r}\n theirs {theirs[:3]!r}"
    if len(ours[3]) != len(theirs[3]):
        return f"{here}: {len(ours[3])} children, enketo-transformer {len(theirs[3])}"
    for index, (a, b) in enumerate(zip(ours[3], theirs[3])):
        if a != b:
            return first_difference(a, b, f"{here}[{index}]")
    return ""


@pytest.mark.parametrize("xform_path", XFORMS, ids=[path.stem for path in XFORMS])
def test_form_and_model_are_enketo_transformers(xform_path):
    xform = xform_path.read_bytes()
    ours = transform(xform, media_of(xform.decode()))
    stem = xform_path.with_suffix("")
    theirs_form = Path(f"{stem}.form.html").read_text(encoding="utf-8")
    theirs_model = Path(f"{stem}.model.xml").read_text(encoding="utf-8")
    assert form_shape(ours.form) == form_shape(theirs_form), first_difference(
        form_shape(ours.form), form_shape(theirs_form)
    )
    assert model_shape(ours.model) == model_shape(theirs_model), first_difference(
        model_shape(ours.model), model_shape(theirs_model)
    )
    assert ours.transformer == "4.2.0"


def test_languages_get_iana_tags_and_names():
    assert parse_language("Español (es)", "Hola").tag == "es"
    assert (parse_language("French", "Bonjour").tag, parse_language("French", "Bonjour").description) == (
        "fr",
        "French",
    )
    assert parse_language("es", "Hola").description == "Spanish"
    assert parse_language("Arabic (ar)", "مرحبا").directionality == "rtl"


def test_markdown_as_odk_defines_it():
    assert markdown_to_html("**bold** and _em_") == "<strong>bold</strong> and <em>em</em>"
    assert markdown_to_html("# Title") == "<h1>Title</h1>"
    assert markdown_to_html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_a_broken_xform_is_refused_with_the_reason():
    with pytest.raises(TransformError, match="not well-formed"):
        transform(b"<h:html xmlns:h='http://www.w3.org/1999/xhtml'><h:head>")


def test_an_xform_cannot_make_the_server_read_its_files():
    """An XForm is uploaded by people, and transformed on the server: external entities are never resolved."""
    xform = (FIXTURES / "v2_features.xml").read_text(encoding="utf-8")
    hostile = xform.replace(
        '<?xml version="1.0"?>',
        '<?xml version="1.0"?>\n<!DOCTYPE h:html [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
        1,
    )
    hostile = hostile.replace("<h:title>Prueba v2</h:title>", "<h:title>Prueba &secret;</h:title>", 1)
    assert hostile != xform and "&secret;" in hostile
    survey = transform(hostile.encode())
    assert "root:" not in survey.form and "root:" not in survey.model
