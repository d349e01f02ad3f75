"""Sample forms and submissions for the collect tests, shaped as pyxform and ODK Collect write them."""

import socket
from pathlib import Path

from pyxform.xls2xform import convert

# A small form in pyxform's markdown notation: a group, a select_multiple, a photo, device metadata, a note. It is
# also the form tests/forms/test_xform.py reads fields from (collect reads fields through forms.xform).
TINY_FORM = (Path(__file__).parents[1] / "forms" / "tiny_form.md").read_text(encoding="utf-8")


def tiny_xform(version: str = "2026112801", extra_rows: str = "") -> bytes:
    """The tiny form compiled by pyxform, as bytes a server would publish; `extra_rows` adds survey rows."""
    return convert(TINY_FORM.format(version=version, extra_rows=extra_rows), file_type=".md").xform.encode()


def tiny_submission(
    instance_id: str = "uuid:0001",
    version: str = "2026112801",
    psu: str = "B12",
    deprecated_id: str | None = None,
    extra: str = "",
) -> bytes:
    """A submission of the tiny form shaped as ODK Collect writes it."""
    deprecated = f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    return (
        f'<?xml version="1.0" ?><data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="tiny" version="{version}">'
        f"<deviceid>collect:abc123</deviceid><household><psu>{psu}</psu><age>34</age><main_problems>robbery gangs</main_problems></household>"
        f"<photo>1700000000.jpg</photo>{extra}<meta><instanceID>{instance_id}</instanceID>{deprecated}</meta></data>"
    ).encode()


def free_port() -> int:
    """A free TCP port on the loopback interface, for a real server in a test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
