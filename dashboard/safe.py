"""Submitted values shown as what they are: text, never Markdown or HTML (issue 13).

Streamlit draws titles, captions, alerts and `st.markdown` as Markdown, so an answer, a volunteer's name, a file
name or an error quoting a cell that contains `![x](https://host/pixel.png)` would make every reader's browser
fetch that image (and `[link](…)`, `:red[…]` or `$…$` would change what the page says). Every value that comes
from outside the code (submissions, imports, names typed by users, error messages quoting them) goes through
`text()` before it is put into Markdown; tables (`st.dataframe`) show values as plain text already.

Server file paths are never shown: `error_text()` drops them from error messages. Researchers never see instance
IDs (they link an answer to a phone's record): `for_role()` masks them in the analysis's notes.
"""

import re

# Every character with a meaning in CommonMark, GitHub Markdown or Streamlit's own directives (:icon:, :color[],
# $math$), and the HTML ones; a backslash before any ASCII punctuation makes Markdown show it as itself.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&\"'=/^%@])")
_INSTANCE_ID = re.compile(r"\buuid:[0-9A-Za-z-]+")
_PATH = re.compile(r"(?<![\w.])(?:/[\w.@+-]+){2,}/?")


def text(value: object) -> str:
    """`value` as a string that Markdown shows literally (line breaks kept as spaces)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def error_text(error: BaseException) -> str:
    """An error's message for users: escaped, with any absolute server path reduced to its file name."""
    return text(_PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], str(error)))


def for_role(note: str, role: str) -> str:
    """The analysis's words as `role` may read them: a researcher gets the instance IDs masked ("…"); the
    coordinators who review submissions keep them, to find the submission named."""
    return _INSTANCE_ID.sub("…", note) if role == "researcher" else note
