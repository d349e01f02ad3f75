"""What the web form tests share: a volunteer working the Enketo page (Playwright), and what the XForm itself says
a record may contain, read from the very bytes the server serves (no field list is copied into the tests)."""

import csv
import io
import re
from dataclasses import dataclass
from xml.etree import ElementTree

from playwright.sync_api import Page, expect

FORM_ID = "sdg16_perception"
XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
READY_MS = 60_000
ENGINE_MS = 20_000  # generous: a loaded 2-core CI machine; passing checks return as soon as they hold
ITEMSET = re.compile(r"instance\('([^']+)'\)/root/item")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class WebForm:
    """The volunteer's side: questions are addressed by their (unique) XLSForm name, answers by choice name."""

    def __init__(self, page: Page):
        self.page = page

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the form is rendered; fail with the page's own message if it could not load."""
        self.page.wait_for_selector("body[data-ready=true], #status[data-kind=error]", timeout=READY_MS)
        if self.page.get_attribute("#status", "data-kind") == "error":
            raise AssertionError(f"the web form did not load: {self.page.inner_text('#status')}")

    def question(self, name: str):
        """The question's block on the page (its label, inputs and messages)."""
        return self.page.locator(f'form.or .question:has([name$="/{name}"])').first

    def expect_shown(self, name: str, shown: bool = True) -> None:
        """The engine shows (or, for a skipped question, hides) the question, which the form must have."""
        assert self.page.locator(f'form.or [name$="/{name}"]').count(), f"the form has no question {name}"
        question = expect(self.question(name))
        if shown:
            question.to_be_visible(timeout=ENGINE_MS)
        else:
            question.to_be_hidden(timeout=ENGINE_MS)

    def expect_options(self, name: str, expected: list[str]) -> None:
        """The engine offers exactly these choices (by name, in this order) for a select question."""
        offered = self.page.locator(f'form.or input[name$="/{name}"]:not([value=""]):visible')
        expect(offered).to_have_count(len(expected), timeout=ENGINE_MS)
        assert offered.evaluate_all("inputs => inputs.map(input => input.value)") == expected

    def answer(self, name: str, value: str | list[str]) -> None:
        """Answer as a person does: tick the choice(s), or type the text and leave the field."""
        kind = self.page.locator(f'form.or [name$="/{name}"]').first.get_attribute("type")
        if kind in ("radio", "checkbox"):
            for choice in value if isinstance(value, list) else [value]:
                self.page.locator(f'form.or input[name$="/{name}"][value="{choice}"]').check()
            return
        field = self.page.locator(f'form.or [name$="/{name}"]').first
        field.fill(value)
        field.press("Tab")

    def answer_all(self, answers: dict[str, str | list[str]]) -> None:
        for name, value in answers.items():
            self.answer(name, value)

    def finish(self) -> None:
        """Finish the interview; fails naming the questions the engine refused."""
        self.page.click("#submit-form")
        status = self.page.locator("#status")
        expect(status).not_to_have_attribute("data-kind", "busy", timeout=ENGINE_MS)
        if status.get_attribute("data-ui") == "invalid":
            refused = self.page.locator("form.or .invalid-required, form.or .invalid-constraint")
            names = [refused.nth(i).locator("[name]").first.get_attribute("name") for i in range(refused.count())]
            raise AssertionError(f"{status.inner_text()} {names}")
        # the next interview starts on an empty form
        expect(self.page.locator('form.or input[name$="/district"]:checked')).to_have_count(0, timeout=ENGINE_MS)

    def waiting(self) -> int:
        return int(self.page.locator("#outbox-count").inner_text())


@dataclass(frozen=True)
class XForm:
    """The parts of an XForm a submitted record is checked against."""

    root: ElementTree.Element  # the primary instance's root element
    choices: dict[str, tuple[str, frozenset[str]]]  # field name → ("select" | "select1", allowed choice names)
    translations: dict[str, dict[str, str]]  # language → itext id → text
    engine_filled: frozenset[str]  # paths the engine fills itself: preloads (start, deviceid…) and calculations
    calculations: frozenset[str]  # paths of the form's calculations, but the meta block's (instanceName: the start)

    @classmethod
    def parse(cls, xform: bytes, media: dict[str, bytes]) -> "XForm":
        html = ElementTree.fromstring(xform)
        model = html.find(f"{H}head/{XF}model")
        instances = model.findall(f"{XF}instance")
        lists = {}
        for instance in instances[1:]:
            if instance.get("src"):
                filename = instance.get("src").rsplit("/", 1)[-1]
                rows = csv.DictReader(io.StringIO(media[filename].decode("utf-8-sig")))
                lists[instance.get("id")] = frozenset(row["name"] for row in rows)
            else:
                lists[instance.get("id")] = frozenset(item.findtext(f"{XF}name") for item in instance.iter(f"{XF}item"))
        choices = {}
        for control in html.find(f"{H}body").iter():
            if local(control.tag) in ("select", "select1"):
                nodeset = control.find(f"{XF}itemset").get("nodeset")
                choices[control.get("ref").rsplit("/", 1)[-1]] = (
                    local(control.tag),
                    lists[ITEMSET.match(nodeset).group(1)],
                )
        translations = {
            translation.get("lang"): {
                text.get("id"): "".join(text.find(f"{XF}value").itertext()).strip() for text in translation
            }
            for translation in model.find(f"{XF}itext")
        }
        engine_filled = frozenset(
            bind.get("nodeset")
            for bind in model.findall(f"{XF}bind")
            if bind.get("calculate") is not None or any(local(name) == "preload" for name in bind.attrib)
        )
        calculations = frozenset(
            bind.get("nodeset")
            for bind in model.findall(f"{XF}bind")
            if bind.get("calculate") is not None and "/meta/" not in bind.get("nodeset")
        )
        return cls(next(iter(instances[0])), choices, translations, engine_filled, calculations)

    def problems(self, record_xml: bytes) -> list[str]:
        """Why a record does not fit this form: root and ids, nodes the primary instance lacks, values outside
        the choices. An empty list means it fits."""
        record = ElementTree.fromstring(record_xml)
        found = []
        if local(record.tag) != local(self.root.tag):
            found.append(f"root <{local(record.tag)}> is not the form's <{local(self.root.tag)}>")
        for attribute in ("id", "version"):
            if record.get(attribute) != self.root.get(attribute):
                found.append(f"{attribute}={record.get(attribute)!r}, the form has {self.root.get(attribute)!r}")
        form_paths = set(_paths(self.root))
        for path, element in _paths(record).items():
            if path not in form_paths:
                found.append(f"{path} is not a node of the form's primary instance")
            name = local(element.tag)
            if name in self.choices and element.text:
                kind, allowed = self.choices[name]
                values = element.text.split() if kind == "select" else [element.text]
                found += [f"{path}={value!r} is not a choice of {name}" for value in values if value not in allowed]
        return found

    def calculated(self, record_xml: bytes) -> dict[str, str]:
        """What the form computes from the answers (block probabilities, disposition, reference periods…), by path;
        a calculation the record leaves out (non-relevant) is left out here too."""
        paths = _paths(ElementTree.fromstring(record_xml))
        return {path: paths[path].text or "" for path in sorted(self.calculations) if path in paths}

    def answers(self, record_xml: bytes) -> dict[str, str | frozenset[str]]:
        """The record's answers by path: non-empty values the respondent gave (multiple choices as a set), without
        what the engine fills in itself, which differs between engines and runs (timestamps, ids, device)."""
        found = {}
        for path, element in _paths(ElementTree.fromstring(record_xml)).items():
            if len(element) or not (element.text or "").strip() or path in self.engine_filled:
                continue
            kind = self.choices.get(local(element.tag), ("",))[0]
            found[path] = frozenset(element.text.split()) if kind == "select" else element.text
        return found


def _paths(element: ElementTree.Element, prefix: str = "") -> dict[str, ElementTree.Element]:
    path = f"{prefix}/{local(element.tag)}"
    paths = {path: element}
    for child in element:
        paths.update(_paths(child, path))
    return paths
