"""XForm → Enketo's HTML form and XML model, on the server: enketo-transformer's own XSL stylesheets run by lxml's
libxslt, with its JavaScript steps before and after them done here in Python.

Why on the server: browsers are removing XSLT (Chromium, Gecko and WebKit have deprecated `XSLTProcessor`), and
enketo-transformer's browser build depends on it. Why these stylesheets and not our own: Enketo's HTML is what
enketo-core renders, and enketo-transformer's stylesheets are the one definition of that HTML. The stylesheets
and the IANA language-subtag list come from the npm packages (`webform/build.mjs` copies them into
`collect/webform_dist/enketo-transformer/`), so the Python side needs no Node at run time and follows the
transformer version the bundle was built with.

The steps mirror enketo-transformer 4.2.0's `transform()` (its `src/transformer.ts`, `markdown.ts`, `language.ts`,
`url.ts`) one function each, under the same names, so that an upgrade can be compared line by line; they are
checked against the transformer's own browser output in `tests/webform/test_enketo_transform.py`.
"""

import functools
import json
import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from lxml import etree, html

TRANSFORMER = Path(__file__).resolve().parent / "webform_dist" / "enketo-transformer"
XF = "http://www.w3.org/2002/xforms"
ORX = "http://openrosa.org/xforms"
H = "http://www.w3.org/1999/xhtml"
NAMESPACES = {"xf": XF, "orx": ORX, "h": H}


class TransformError(ValueError):
    """The XForm cannot be turned into Enketo's form (not well-formed, or the stylesheet refused it)."""


@dataclass(frozen=True)
class EnketoForm:
    """What enketo-core's `Form` needs: the form's HTML (`form.or` and its controls) and the XML model."""

    form: str
    model: str
    language_map: dict[str, str]  # the XForm's language names → the tags the HTML uses (e.g. "Español (es)" → "es")
    transformer: str  # enketo-transformer's version, from its package.json


FILES = ("openrosa2html5form.xsl", "openrosa2xmlmodel.xsl", "language-subtags.json", "version.json")


@dataclass(frozen=True)
class _Transformer:
    form_xsl: etree.XSLT
    model_xsl: etree.XSLT
    model_xsl_prefixes: frozenset[str]  # namespace prefixes the model stylesheet declares ("" = default namespace)
    subtags: tuple[tuple[str, tuple[str, ...]], ...]  # IANA language subtags and their descriptions, registry order
    version: str


def missing_files(folder: Path = TRANSFORMER) -> list[str]:
    """The transformer's files absent from `folder` (the package ships them; a broken checkout may lack them)."""
    return [name for name in FILES if not (folder / name).is_file()]


@functools.cache
def _transformer(folder: Path = TRANSFORMER) -> _Transformer:
    """The compiled stylesheets, the language subtags and the transformer version (read once per process)."""
    if missing_files(folder):
        raise FileNotFoundError(f"enketo-transformer's files {missing_files(folder)} are missing from {folder}")
    model_sheet = etree.parse(str(folder / "openrosa2xmlmodel.xsl"))
    # The stylesheets read nothing but the XForm they are given: no file or network access, whatever an XForm holds.
    deny = etree.XSLTAccessControl.DENY_ALL
    subtags = json.loads((folder / "language-subtags.json").read_text(encoding="utf-8"))
    return _Transformer(
        form_xsl=etree.XSLT(etree.parse(str(folder / "openrosa2html5form.xsl")), access_control=deny),
        model_xsl=etree.XSLT(model_sheet, access_control=deny),
        model_xsl_prefixes=frozenset(prefix or "" for prefix in model_sheet.getroot().nsmap),
        subtags=tuple((subtag, tuple(descriptions)) for subtag, descriptions in subtags),
        version=json.loads((folder / "version.json").read_text(encoding="utf-8"))["enketo-transformer"],
    )


def transform(xform: bytes, media: Mapping[str, str] | None = None) -> EnketoForm:
    """Enketo's form and model for an XForm; `media` maps media file names to the URLs the page fetches them at."""
    transformer = _transformer()
    media_map = {escape_url_path(name): escape_url_path(url) for name, url in (media or {}).items()}
    try:
        xform_doc = etree.fromstring(
            xform, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        ).getroottree()
    except etree.XMLSyntaxError as error:
        raise TransformError(f"the XForm is not well-formed XML: {error}") from None
    process_binary_defaults(xform_doc, media_map)
    process_itemsets(xform_doc)
    html_root = _apply(transformer.form_xsl, xform_doc).getroot()
    etree.cleanup_namespaces(html_root)  # the stylesheet's declarations; HTML has no use for them
    correct_action(html_root, "setgeopoint")
    correct_action(html_root, "setvalue")
    transform_appearances(html_root)
    replace_media_sources(html_root, media_map)
    language_map = replace_language_tags(html_root)
    form = render_markdown(html_root, media_map)

    model_root = _apply(transformer.model_xsl, xform_doc).getroot()
    correct_model_namespaces(transformer.model_xsl_prefixes, xform_doc, model_root)
    replace_media_sources(model_root, media_map)
    add_instance_id_node_if_missing(model_root)
    model = _inner(etree.tostring(model_root, encoding="unicode"))
    return EnketoForm(form, model, language_map, transformer.version)


def _apply(stylesheet: etree.XSLT, doc: etree._ElementTree) -> etree._XSLTResultTree:
    try:
        result = stylesheet(doc)
    except etree.XSLTApplyError as error:
        raise TransformError(f"enketo-transformer's stylesheet refused the XForm: {error}") from None
    if result.getroot() is None:
        raise TransformError(f"enketo-transformer's stylesheet produced nothing: {stylesheet.error_log}")
    return result


# --- url.ts -----------------------------------------------------------------------------------------------------

# What the WHATWG URL parser percent-encodes in a path and in a query (https://url.spec.whatwg.org/#path-percent-encode-set);
# quote() also encodes everything non-ASCII, as the URL parser does.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"#<>?`{}')
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")


def escape_url_path(value: str) -> str:
    """A media URL or path percent-encoded as `new URL()` would, so that file names with spaces or accents match."""
    scheme = re.match(r"^[a-z]+:", value)
    if scheme:
        parts = urlsplit(re.sub(r"^jr:/*", "http://", value))
        escaped = f"http://{parts.netloc.lower()}{quote(parts.path or '/', safe=_PATH_SAFE)}"
        escaped += f"?{quote(parts.query, safe=_QUERY_SAFE)}" if "?" in value else ""
        escaped += f"#{quote(parts.fragment, safe=_PATH_SAFE + '#')}" if parts.fragment else ""
        return escaped.replace("http:", scheme.group(0), 1)
    parts = urlsplit("http://example.com/" + (value.removeprefix("/")))
    path = quote(parts.path, safe=_PATH_SAFE)
    search = f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else ""
    return (path if value.startswith("/") else path[1:]) + search


def get_media_path(media_map: Mapping[str, str], media_url: str) -> str:
    """The URL a `jr://…/name` reference is served at, from the form's media; else the reference escaped."""
    match = re.match(r"jr://[\w-]+/(.+)", media_url)
    if match is None:
        return escape_url_path(media_url)
    return media_map.get(escape_url_path(match.group(1))) or escape_url_path(media_url)


# --- DOM helpers: lxml keeps the text after an element in the element's tail, the DOM in a sibling node -------------


def _remove(element: etree._Element) -> None:
    """Remove an element but keep the text that follows it, as DOM `remove()` does."""
    _append_text_before(element, element.tail or "")
    element.getparent().remove(element)


def _replace_with_text(element: etree._Element, text: str) -> None:
    _append_text_before(element, text + (element.tail or ""))
    element.getparent().remove(element)


def _append_text_before(element: etree._Element, text: str) -> None:
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent = element.getparent()
        parent.text = (parent.text or "") + text


def _set_text(element: etree._Element, text: str) -> None:
    """DOM `textContent = text`: every child goes, one text node stays."""
    for child in list(element):
        element.remove(child)
    element.text = text


def _html(element: etree._Element) -> str:
    return etree.tostring(element, method="html", encoding="unicode", with_tail=False)


def _inner(serialized: str) -> str:
    """enketo-transformer's `docToString`: the root element's serialization without its own start and end tags."""
    return re.sub(r"</[^>]+>$", "", re.sub(r"^<[^>]+>", "", serialized.strip(), count=1), count=1)


# --- transformer.ts: before the stylesheet ----------------------------------------------------------------------


def process_binary_defaults(doc: etree._ElementTree, media_map: Mapping[str, str]) -> None:
    """Default values of binary questions (an image shown in a widget) point at the media URLs."""
    for bind in doc.xpath("/h:html/h:head/xf:model/xf:bind[@type='binary']", namespaces=NAMESPACES):
        nodeset = bind.get("nodeset")
        if not nodeset:
            continue
        nodes = doc.xpath(f"/h:html/h:head/xf:model/xf:instance{nodeset.replace('/', '/xf:')}", namespaces=NAMESPACES)
        if nodes:
            text = nodes[0].text or ""
            if re.match(r"^[a-zA-Z]+://", text):
                nodes[0].set("src", get_media_path(media_map, text))
                _set_text(nodes[0], escape_url_path(text))


def process_itemsets(doc: etree._ElementTree) -> None:
    """Give each itemset the paths the stylesheet needs, and its items' translated labels (itext)."""
    for itemset in doc.xpath("//xf:itemset", namespaces=NAMESPACES):
        value = itemset.find(f"{{{XF}}}value")
        label = itemset.find(f"{{{XF}}}label")
        value_ref = value.get("ref", "") if value is not None else ""
        label_ref = label.get("ref", "") if label is not None else ""
        nodeset = itemset.get("nodeset", "")
        iwq = _substring_before(_substring_after(nodeset, "instance("), ")")
        after = _substring_after(nodeset, ")")
        if "randomize(" in nodeset:
            after = _substring_before(after, "," if "," in nodeset else ")")
        instance_path = re.sub(r"\[.*?\]", "", after.replace("/", "/xf:"))
        itext_path = f'/h:html/h:head/xf:model/xf:instance[@id="{iwq[1:-1]}"]{instance_path}'
        itemset.set("valueRef", value_ref)
        itemset.set("labelRef", label_ref)
        itemset.set("itextPath", itext_path)
        itext = re.search(r"itext\((.*)\)", label_ref)
        if itext:
            items = doc.xpath(f'{itext_path}/*[name() = "{itext.group(1)}"]', namespaces=NAMESPACES)
            itemset.extend(_copy(item) for item in items)


def _copy(element: etree._Element) -> etree._Element:
    """A deep copy without the text that follows the element (DOM `cloneNode(true)`)."""
    copy = deepcopy(element)
    copy.tail = None
    return copy


def _substring_before(haystack: str, needle: str) -> str:
    return haystack.split(needle, 1)[0]


def _substring_after(haystack: str, needle: str) -> str:
    """JavaScript's `haystack.substring(haystack.indexOf(needle) + needle.length)`, not-found case included."""
    return haystack[haystack.find(needle) + len(needle) :]


# --- transformer.ts: after the stylesheet -----------------------------------------------------------------------


def correct_action(root: etree._Element, local_name: str) -> None:
    """setvalue / setgeopoint actions: move them from their own label onto the question they belong to."""
    for action in root.xpath(f'//*[contains(@class, "question")]//label/input[@data-{local_name}]'):
        label = action.getparent()
        copy = _copy(action)
        copy.tail = label.tail
        label.getparent().replace(label, copy)
    for action in root.xpath(f'//label[contains(@class, "{local_name}")]/input[@data-{local_name}]'):
        name = action.get("name")
        same = root.xpath(
            f"//*[@name=\"{name}\" and ( contains(../@class, 'question') or contains(../../@class, 'option-wrapper')) and not(@type='hidden')]"
        )
        if same:
            for attribute in (f"data-{local_name}", "data-event"):
                same[0].set(attribute, action.get(attribute, attribute))
            _remove(action.getparent())


def transform_appearances(root: etree._Element) -> None:
    """`data-appearances` → the `or-appearance-*` classes enketo-core's stylesheets and widgets look for."""
    for element in root.xpath("//*[@data-appearances]"):
        select_type = element.get("data-appearances-select-type") is not None
        element.attrib.pop("data-appearances-select-type", None)
        classes_of_appearances = []
        for appearance in element.get("data-appearances").strip().lower().split():
            classes_of_appearances.append(f"or-appearance-{appearance}")
            if select_type:
                if appearance == "horizontal":
                    classes_of_appearances.append("or-appearance-columns")
                if appearance == "horizontal-compact":
                    classes_of_appearances.append("or-appearance-columns-pack")
                if appearance == "compact":
                    classes_of_appearances += ["or-appearance-columns-pack", "or-appearance-no-buttons"]
                if appearance.startswith("compact-"):
                    classes_of_appearances += [appearance.replace("compact-", "", 1), "or-appearance-no-buttons"]
        classes = (element.get("class") or "").split()
        element.set(
            "class",
            " ".join(
                c
                for name in classes
                for c in (classes_of_appearances if name == "or-appearances-placeholder" else [name])
            ),
        )
        del element.attrib["data-appearances"]


def replace_media_sources(root: etree._Element, media_map: Mapping[str, str]) -> None:
    """`jr://images/x.png`, `jr://file-csv/x.csv` … → where the page downloads them."""
    for element in root.xpath("//*[@src] | //a[@href]"):
        attribute = "href" if etree.QName(element).localname.lower() == "a" else "src"
        replacement = get_media_path(media_map, element.get(attribute))
        if replacement:
            element.set(attribute, replacement)
    logo = media_map.get("form_logo.png")
    holders = root.xpath('//*[@class="form-logo"]')
    if logo and holders:
        etree.SubElement(holders[0], "img", src=logo, alt="form logo")


def replace_language_tags(root: etree._Element) -> dict[str, str]:
    """The XForm's language names ("Español (es)") → IANA tags in `lang`, names in the language selector."""
    options = root.xpath('/root/form/select[@id="form-languages"]/option')
    languages = [parse_language(option.text or "", _language_sample(root, option.text or "")) for option in options]
    if not languages:
        languages.append(parse_language("", _language_sample(root, "")))
    language_map = {}
    for option, language in zip(options, languages):
        value = option.get("value")
        if value and value != language.tag:
            language_map[value] = language.tag
        option.set("data-dir", language.directionality)
        option.set("value", language.tag)
        _set_text(option, language.description)
    for language in languages:
        if language.source != language.tag:
            for element in root.xpath("/root/form//*[@lang=$lang]", lang=language.source):
                element.set("lang", language.tag)
    selector = root.xpath("/root/form/*[@data-default-lang]")
    if selector:
        default = selector[0].get("data-default-lang")
        for language in languages:
            if language.source == default:
                selector[0].set("data-default-lang", language.tag)
                break
    return language_map


def _language_sample(root: etree._Element, language: str) -> str:
    """Some text in the language (a hint first), to tell its direction."""
    found = root.xpath(
        "/root/form//span[contains(@class, 'or-hint') and @lang=$lang and normalize-space() and not(./text() = '-')]",
        lang=language,
    ) or root.xpath("/root/form//span[@lang=$lang and normalize-space() and not(./text() = '-')]", lang=language)
    return ("".join(found[0].itertext()).strip() if found else "") or "nothing"


def add_instance_id_node_if_missing(root: etree._Element) -> None:
    """enketo-core writes the record's instanceID into meta/instanceID, which a hand-written XForm may lack."""
    if root.xpath(
        "/xf:root/xf:model/xf:instance/*/xf:meta/xf:instanceID | /xf:root/xf:model/xf:instance/*/orx:meta/orx:instanceID",
        namespaces=NAMESPACES,
    ):
        return
    primary = root.xpath("/xf:root/xf:model/xf:instance/*", namespaces=NAMESPACES)
    meta = root.xpath("/xf:root/xf:model/xf:instance/*/xf:meta", namespaces=NAMESPACES)
    if meta:
        etree.SubElement(meta[0], f"{{{XF}}}instanceID")
    elif primary:
        etree.SubElement(etree.SubElement(primary[0], f"{{{XF}}}meta"), f"{{{XF}}}instanceID")


def correct_model_namespaces(
    xsl_declared: frozenset[str], xform_doc: etree._ElementTree, model_root: etree._Element
) -> None:
    """Declare on each instance's root the XForm's namespaces the stylesheet does not, so that a record serialised
    from the instance carries them (as the transformer's browser build does)."""
    xform_model = xform_doc.xpath("/h:html/h:head/xf:model", namespaces=NAMESPACES)
    if not xform_model:
        raise TransformError("the XForm has no model element")
    attribute_namespaces = {
        etree.QName(name).namespace for name in xform_model[0].attrib if etree.QName(name).namespace
    }
    declared = _declarations(xform_doc.getroot())
    for instance_root in model_root.xpath("/xf:root/xf:model/xf:instance/*", namespaces=NAMESPACES):
        own = _declarations(instance_root)
        missing = {
            prefix: uri
            for prefix, uri in declared.items()
            if prefix not in xsl_declared and uri not in attribute_namespaces and prefix not in own
        }
        if missing:
            _redeclare(instance_root, missing)


def _declarations(element: etree._Element) -> dict[str, str]:
    """The namespace declarations written on this element itself ("" for the default namespace)."""
    parent = element.getparent()
    inherited = parent.nsmap if parent is not None else {}
    return {prefix or "": uri for prefix, uri in element.nsmap.items() if inherited.get(prefix) != uri}


def _redeclare(element: etree._Element, extra: dict[str, str]) -> None:
    """Add namespace declarations to an element (lxml can only set them on creation: rebuild it in place)."""
    nsmap = {**element.nsmap, **{prefix or None: uri for prefix, uri in extra.items()}}
    rebuilt = etree.Element(element.tag, attrib=dict(element.attrib), nsmap=nsmap)
    rebuilt.text, rebuilt.tail = element.text, element.tail
    rebuilt.extend(list(element))
    element.getparent().replace(element, rebuilt)


# --- markdown.ts --------------------------------------------------------------------------------------------------


def render_markdown(root: etree._Element, media_map: Mapping[str, str]) -> str:
    """Labels and hints written in (ODK's subset of) Markdown become HTML; `<output>`s inside them survive."""
    replacements: dict[str, str] = {}
    for index, output in enumerate(root.xpath('/root/form//span[contains(@class, "or-output")]')):
        key = f"---output-{index}"
        replacements[key] = _html(output)
        _replace_with_text(output, key)
    for index, element in enumerate(
        root.xpath('/root/form//span[contains(@class, "question-label") or contains(@class, "or-hint")]')
    ):
        original = "".join(element.itertext()).replace("<", "&lt;", 1).replace(">", "&gt;", 1)
        rendered = markdown_to_html(original)
        if original != rendered:
            fragment = html.fragment_fromstring(rendered, create_parent="root")
            replace_media_sources(fragment, media_map)
            key = f"$$${index}"
            replacements[key] = _inner(_html(fragment))
            _set_text(element, key)
    serialized = _inner(_html(root))
    for key in reversed(replacements):
        serialized = serialized.replace(key, replacements[key], 1)
    return serialized


def markdown_to_html(text: str) -> str:
    """enketo-transformer's `markdownToHTML`, regular expression for regular expression."""
    m = re.MULTILINE
    out = text.replace("<", "&lt;").replace(">", "&gt;")
    out = re.sub(
        r"&lt;\s?span([^/\n]*)&gt;((?:(?!&lt;/).)+)&lt;/\s?span\s?&gt;",
        lambda g: f"<span{_style(g.group(1))}>{g.group(2)}</span>",
        out,
        flags=m,
    )
    out = re.sub(r"&lt;\s?sup(?:[^/\n]*)&gt;((?:(?!&lt;/).)+)&lt;/\s?sup\s?&gt;", r"<sup>\1</sup>", out, flags=m)
    out = re.sub(r"&lt;\s?sub(?:[^/\n]*)&gt;((?:(?!&lt;/).)+)&lt;/\s?sub\s?&gt;", r"<sub>\1</sub>", out, flags=m)
    out = (
        out.replace("&", "&amp;")
        .replace("\\\\", "&92;")
        .replace("\\*", "&42;")
        .replace("\\_", "&95;")
        .replace("\\#", "&35;")
    )
    out = re.sub(r"__(.*?)__", r"<strong>\1</strong>", out, flags=m)
    out = re.sub(r"\*\*(.*?)\*\*", r"<strong>\1</strong>", out, flags=m)
    out = re.sub(r"(^|\W)_([^\s][^_\n]*)_(\W|$)", r"\1<em>\2</em>\3", out, flags=m | re.ASCII)
    out = re.sub(r"\*([^\s][^*\n]*)\*", r"<em>\1</em>", out, flags=m)
    out = re.sub(
        r"\[([^\]]*)\]\(([^)]+)\)",
        lambda g: f'<a href="{_encode_uri(g.group(2))}" rel="noopener" target="_blank">{g.group(1)}</a>',
        out,
        flags=m,
    )
    out = re.sub(r"^\s*(#{1,6})\s?([^#][^\n]*)(\n|$)", _header, out, flags=m)
    out = re.sub(r"^((\*|\+|-) (.*)(\n|$))+", _unordered_list, out, flags=m)
    out = re.sub(r"(\n([0-9]+\.) (.*))+$", _ordered_list, out, flags=m)
    out = re.sub(r"\n(<ul>)", r"\1", out, flags=m)
    out = out.replace("&35;", "#").replace("&95;", "_").replace("&92;", "\\").replace("&42;", "*").replace("&amp;", "&")
    out = re.sub(r"([^\n]+)\n{2,}", _paragraph, out, flags=m)
    return re.sub(r"([^\n]+)\n", r"\1<br>", out, flags=m)


def _style(attributes: str) -> str:
    """Of a `<span …>` in a label, only its style attribute stays."""
    match = re.search(r"( style=([\"'])[^\"']*\2)", attributes)
    return match.group(0) if match else ""


def _encode_uri(href: str) -> str:
    """JavaScript's encodeURI."""
    return quote(href, safe=";,/?:@&=+$-_.!~*'()#")


def _header(match: re.Match) -> str:
    level = len(match.group(1))
    return f"<h{level}>{re.sub(r'#+$', '', match.group(2))}</h{level}>"


def _item(match: re.Match) -> str:
    return f"<li>{match.group(1).strip()}</li>"


def _unordered_list(match: re.Match) -> str:
    items = re.sub(r"(?:\*|\+|-)(.*)\n?", _item, match.group(0), flags=re.MULTILINE)
    return f"<ul>{items}</ul>"


def _ordered_list(match: re.Match) -> str:
    start = re.match(r"^\n?([0-9]+)\.", match.group(0))
    attribute = f' start="{start.group(1)}"' if start and start.group(1) != "1" else ""
    items = re.sub(r"\n?(?:[0-9]+\.)(.*)", _item, match.group(0), flags=re.MULTILINE)
    return f"<ol{attribute}>{items}</ol>"


def _paragraph(match: re.Match) -> str:
    line = match.group(1)
    trimmed = line.strip()
    return line if re.match(r"^</?(ul|ol|li|h|p)", trimmed, flags=re.IGNORECASE) else f"<p>{trimmed}</p>"


# --- language.ts --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    source: str  # as the XForm names it
    description: str  # as the language selector shows it
    tag: str  # IANA tag for `lang`
    directionality: str  # "ltr" | "rtl"


def parse_language(source: str, sample: str) -> Language:
    """The XForm's language name → description and tag, as enketo-transformer: "Español (es)" → (Español, es), "es" →
    (Spanish, es), "French" → (French, fr)."""
    directionality = "ltr" if _direction(sample) == "ltr" else "rtl"
    description = tag = source.strip()
    parts = re.match(r"^([^(]+)\((.*)\)\s*$", source)
    if parts:
        return Language(source, parts.group(1).strip(), parts.group(2).strip(), directionality)
    subtag = source.split("-")[0].strip().lower()
    by_subtag = (
        next((descriptions for code, descriptions in _transformer().subtags if code.lower() == subtag), None)
        if subtag
        else None
    )
    if by_subtag is not None:
        description = by_subtag[0]
    elif description:
        found = _search_language(description)
        if found:
            tag = found
    return Language(source, description, tag, directionality)


def _search_language(query: str) -> str | None:
    """language-tags' `search()`: descriptions containing the query (case-insensitive when it is all lower case),
    the shortest matching description first."""
    lower = query.lower() == query

    def matching(descriptions: list[str]) -> list[str]:
        return [d for d in descriptions if (query in d.lower() if lower else query in d)]

    found = [
        (min(len(d) for d in hits), code)
        for code, descriptions in _transformer().subtags
        if (hits := matching(descriptions))
    ]
    return min(found, key=lambda pair: pair[0])[1] if found else None


_RTL_RANGES = (
    (0x0590, 0x05FF),
    (0x0600, 0x06FF),
    (0x07C0, 0x07FF),
    (0x0700, 0x074F),
    (0x0780, 0x07BF),
    (0x2D30, 0x2D7F),
)


def _direction(text: str) -> str:
    """string-direction's `getDirection`: 'ltr', 'rtl', 'bidi' or '' (none)."""
    if text == "":
        return ""
    if "\u200e" in text and "\u200f" in text:
        return "bidi"
    if "\u200e" in text:
        return "ltr"
    if "\u200f" in text:
        return "rtl"
    has_digit = re.search(r"[0-9]", text) is not None
    letters = re.sub(r"[\s\n\0\f\t\v'\"\-0-9+?!]+", "", text)
    rtl = [any(low < ord(char) < high for low, high in _RTL_RANGES) for char in letters]
    has_rtl, has_ltr = any(rtl), not all(rtl)
    if has_rtl and has_ltr:
        return "bidi"
    if has_ltr or (not has_rtl and has_digit):
        return "ltr"
    return "rtl" if has_rtl else ""
