"""What reading a submission costs now that it is streamed and checked against its form version
(collect.submission: expat handlers, refusing undefined / repeated / too deep / too many elements), beside the peer
it replaced: defusedxml's ElementTree parse of the same bytes into a tree, then the flat fields walked from it, with
no check against the form. Both over the demo round of the shipped form, as phones send it; the hostile body of
issue 13 (1.8 MB, 100,000 invented element names) is timed too, refused.

Run: python benchmarks/submission_parse.py [submissions] [repeats]   (prints µs per submission, best of the repeats)
"""

import sys
import time

from defusedxml.ElementTree import fromstring

from collect.errors import InvalidSubmission
from collect.submission import FormShape, parse_submission
from dashboard import demo
from forms.build import build_form


def tree_fields(xml: bytes) -> dict[str, str]:
    """The peer: a whole tree first, then the leaves' text by bare name (what the server did before)."""
    fields: dict[str, str] = {}

    def walk(element) -> None:
        for child in element:
            name = child.tag.rsplit("}", 1)[-1]
            if len(child):
                walk(child)
            elif child.text and name not in fields:
                fields[name] = child.text

    walk(fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True))
    return fields


def best(fn, items: list[bytes], repeats: int) -> float:
    """Best µs per item over `repeats` passes (the machine is shared: the best pass is the least disturbed)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            fn(item)
        times.append((time.perf_counter() - start) / len(items) * 1e6)
    return min(times)


def refused(shape: FormShape):
    def read(xml: bytes) -> None:
        try:
            parse_submission(xml, lambda form_id, version: shape)
        except InvalidSubmission:
            return
        raise AssertionError("the hostile body was accepted")

    return read


def main(size: int = 1000, repeats: int = 5) -> None:
    built = build_form(demo.FORM_XLSX)
    shape = FormShape.of(built.xform_bytes)
    round_ = [submission.xml for submission in demo.shipped_round(size)]
    print(f"{len(round_)} demo submissions, {sum(map(len, round_)) // len(round_)} bytes each on average")
    print(f"  peer, defusedxml tree + fields, no form check: {best(tree_fields, round_, repeats):7.0f} µs")
    print(
        f"  collect.submission, stream + form check:        {best(lambda x: parse_submission(x, lambda f, v: shape), round_, repeats):7.0f} µs"
    )
    head, tail = round_[0].split(b"<meta>", 1)
    hostile = head + b"".join(b"<q%06d>x</q%06d>" % (i, i) for i in range(100_000)) + b"<meta>" + tail
    print(f"hostile body, {len(hostile) / 1e6:.1f} MB with 100,000 invented elements")
    print(f"  peer, defusedxml tree + fields (accepted):       {best(tree_fields, [hostile], repeats):7.0f} µs")
    print(f"  collect.submission (refused at the first one):   {best(refused(shape), [hostile], repeats):7.0f} µs")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
