"""ODK XPath, the subset pyxform writes into `relevant`, `constraint`, `calculate` and `choice_filter`.

Why hand-written: no Python library evaluates ODK XPath. elementpath (tried, 5.1) takes custom functions only in
its XPath 2 parser, which raises on `'' >= 18` where ODK (XPath 1.0) evaluates NaN >= 18 = false — and an
unanswered age must simply leave the next group non-relevant. This is a recursive-descent parser with XPath 1.0
semantics, compiled once per expression into closures (a form is filled thousands of times by the demo round);
it covers what pyxform emits and refuses anything else by name (`XPathError`).

Values are the instance's text keyed by absolute path (`/data/group/field`); `.` is the context node; inside a
`choice_filter` a bare name is a column of the choice item being filtered. Public API: `evaluate`,
`compile_xpath`, and XPath's conversions `string`, `number`, `boolean` (a filled form needs them to turn a
result into a value or a truth). A secondary instance is read as pyxform writes a lookup into it,
`instance('id')/root/item[column = expression]/column` (e.g. a block's recorded inclusion probability from the
blocks media file), over the items given as `instances`.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


class XPathError(ValueError):
    """An expression this evaluator cannot read or does not support: names the expression and the part."""


_TOKENS = re.compile(
    r"""\s*(?:(?P<number>\d+\.\d*|\.\d+|\d+)
    |(?P<string>'[^']*'|"[^"]*")
    |(?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|\[|\]|,|/|\.\.|\.)
    |(?P<name>[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?))""",
    re.VERBOSE,
)


class Nodes(tuple):
    """A node-set: the text of each node an XPath path selected (empty when the path selects nothing)."""


@dataclass
class _Scope:
    """What a path can see: the instance's values by absolute path, the context node, a choice item's columns."""

    values: Mapping[str, str]
    here: str = ""
    item: Mapping[str, str] | None = None
    instances: Mapping[str, Sequence[Mapping[str, str]]] | None = None


def string(value) -> str:
    """XPath's string(): a node-set's first node, 'true'/'false', integers without '.0' (as a form stores them)."""
    if isinstance(value, Nodes):
        return value[0] if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def number(value) -> float:
    """XPath's number(): text that is not a number (an unanswered field included) is NaN, never an error."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(string(value))
    except ValueError:
        return math.nan


def boolean(value) -> bool:
    """XPath's boolean(): a non-empty node-set or string, a number other than 0 and NaN."""
    if isinstance(value, Nodes | str):
        return len(value) > 0
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return value


_RELATIONS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(op: str, left, right) -> bool:
    """XPath 1.0 §3.4: node-sets compare node by node; otherwise booleans, then numbers, then strings decide."""
    relation = _RELATIONS[op]
    if isinstance(left, Nodes):
        return any(_compare(op, node, right) for node in left)
    if isinstance(right, Nodes):
        return any(_compare(op, left, node) for node in right)
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            return relation(boolean(left), boolean(right))
        if isinstance(left, float) or isinstance(right, float):
            return relation(number(left), number(right))
        return relation(left, right)
    return relation(number(left), number(right))


_DATE_PARTS = {"Y": "%Y", "y": "%y", "m": "%m", "d": "%d", "H": "%H", "M": "%M", "S": "%S", "a": "%a", "b": "%b"}


def _format_date_time(value, pattern) -> str:
    """ODK's format-date-time(): %Y %y %m %n %d %e %H %h %M %S %3 %a %b over an ISO date or dateTime."""
    text = string(value)
    if not text:
        return ""
    moment = datetime.fromisoformat(text)

    def part(match: re.Match) -> str:
        code = match.group(1)
        if code in _DATE_PARTS:
            return moment.strftime(_DATE_PARTS[code])
        return {
            "n": str(moment.month),
            "e": str(moment.day),
            "h": str(moment.hour),
            "3": f"{moment.microsecond // 1000:03d}",
        }.get(code, match.group(0))

    return re.sub(r"%(.)", part, string(pattern))


_FUNCTIONS = {
    "selected": lambda values, choice: string(choice) in string(values).split(),
    "count-selected": lambda values: float(len(string(values).split())),
    "regex": lambda value, pattern: re.search(string(pattern), string(value)) is not None,
    "not": lambda value: not boolean(value),
    "true": lambda: True,
    "false": lambda: False,
    "boolean": boolean,
    "number": number,
    "string": string,
    "string-length": lambda value: float(len(string(value))),
    "concat": lambda *values: "".join(string(v) for v in values),
    "contains": lambda text, part: string(part) in string(text),
    "starts-with": lambda text, part: string(text).startswith(string(part)),
    "coalesce": lambda first, second: string(first) or string(second),
    "if": lambda condition, then, otherwise: then if boolean(condition) else otherwise,
    "format-date-time": _format_date_time,
    "format-date": _format_date_time,
    "selected-at": lambda values, index: _selected_at(string(values).split(), number(index)),
}


def _selected_at(chosen: list[str], index: float) -> str:
    """ODK's selected-at(): the space-separated value at a 0-based index, '' outside the list."""
    return chosen[int(index)] if not math.isnan(index) and 0 <= index < len(chosen) else ""


class _Parser:
    """Recursive descent over XPath 1.0's precedence: or < and < equality < relational < additive < multiplicative."""

    LEVELS = (("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod"))

    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        position, stripped = 0, text.rstrip()
        while position < len(stripped):
            match = _TOKENS.match(stripped, position)
            if not match:
                raise XPathError(f"cannot read the XPath {text!r} at character {position}")
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            position = match.end()
        self.tokens.append(("end", ""))
        self.position = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self, expected: str | None = None) -> str:
        kind, value = self.peek()
        if expected is not None and value != expected:
            raise XPathError(f"expected {expected!r} but found {value!r} in the XPath {self.text!r}")
        self.position += 1
        return value

    def parse(self):
        expression = self.binary(0)
        if self.peek()[0] != "end":
            raise XPathError(f"unexpected {self.peek()[1]!r} in the XPath {self.text!r}")
        return expression

    def binary(self, level: int):
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] in ("op", "name") and self.peek()[1] in self.LEVELS[level]:
            op = self.take()
            left = _combine(op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            operand = self.unary()
            return lambda scope: -number(operand(scope))
        return self.primary()

    def primary(self):
        kind, value = self.peek()
        if kind == "number":
            self.take()
            return lambda scope, constant=float(value): constant
        if kind == "string":
            self.take()
            return lambda scope, constant=value[1:-1]: constant
        if value == "(":
            self.take()
            inner = self.binary(0)
            self.take(")")
            return inner
        if kind == "name" and value == "instance" and self.peek(1)[1] == "(":
            return self.secondary()
        if kind == "name" and self.peek(1)[1] == "(":
            return self.call()
        return self.path()

    def call(self):
        name = self.take()
        function = _FUNCTIONS.get(name)
        if function is None:
            raise XPathError(
                f"the XPath function {name}() in {self.text!r} is not supported (forms.xpath evaluates what pyxform writes)"
            )
        self.take("(")
        arguments = []
        while self.peek()[1] != ")":
            arguments.append(self.binary(0))
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        return lambda scope: function(*(argument(scope) for argument in arguments))

    def secondary(self):
        """`instance('id')/root/item[predicate]/column`: the column of the items the predicate keeps."""
        self.take("instance")
        self.take("(")
        kind, identifier = self.peek()
        if kind != "string":
            raise XPathError(f"instance() takes the instance id as a string in the XPath {self.text!r}")
        self.take()
        self.take(")")
        steps, key, predicate = [], None, None
        while self.peek()[1] == "/":
            self.take("/")
            steps.append(self.take())
            if self.peek()[1] == "[":
                self.take("[")
                if self.peek()[0] == "name" and self.peek(1)[1] == "=":  # [column = value]: one value, looked up
                    key = self.take()
                    self.take("=")
                    predicate = self.binary(3)  # the value alone: a path, constant or arithmetic
                    if self.peek()[1] != "]":
                        raise XPathError(
                            f"only [column = value] or a predicate over the item is supported in {self.text!r}"
                        )
                else:
                    predicate = self.binary(0)
                self.take("]")
        if steps[:2] != ["root", "item"] or len(steps) != 3:
            raise XPathError(f"only instance('id')/root/item[...]/column is supported, in the XPath {self.text!r}")
        column, name = steps[2], identifier[1:-1]

        def lookup(scope: _Scope) -> Nodes:
            items = (scope.instances or {}).get(name, ())
            if key is not None:  # the value does not depend on the item: evaluated once, not per item
                wanted = string(predicate(scope))
                kept = [i for i in items if i.get(key) == wanted]
            else:
                kept = [
                    i for i in items if predicate is None or boolean(predicate(_Scope(scope.values, scope.here, i)))
                ]
            return Nodes(item[column] for item in kept if column in item)

        return lookup

    def path(self):
        absolute = self.peek()[1] == "/"
        steps: list[str] = []
        while True:
            if self.peek()[1] == "/":
                self.take()
            kind, value = self.peek()
            if kind != "name" and value not in (".", ".."):
                break
            steps.append(self.take())
            if self.peek()[1] == "[":
                raise XPathError(
                    f"predicates on instance paths are not supported (forms.xpath evaluates what pyxform writes): {self.text!r}"
                )
            if self.peek()[1] != "/":
                break
        if not steps:
            raise XPathError(f"expected a value at {self.peek()[1]!r} in the XPath {self.text!r}")
        return lambda scope: _resolve(scope, absolute, steps)


def _combine(op: str, left, right):
    if op == "or":
        return lambda scope: boolean(left(scope)) or boolean(right(scope))
    if op == "and":
        return lambda scope: boolean(left(scope)) and boolean(right(scope))
    if op in _RELATIONS:
        return lambda scope: _compare(op, left(scope), right(scope))
    arithmetic = {"+": operator.add, "-": operator.sub, "*": operator.mul, "div": _divide, "mod": math.fmod}[op]
    return lambda scope: arithmetic(number(left(scope)), number(right(scope)))


def _divide(left: float, right: float) -> float:
    if right == 0:
        return math.nan if left == 0 or math.isnan(left) else math.copysign(math.inf, left)
    return left / right


def _resolve(scope: _Scope, absolute: bool, steps: list[str]) -> Nodes:
    """A path's node-set: a column of the choice item inside a choice filter, otherwise an instance node."""
    if scope.item is not None and not absolute and len(steps) == 1 and steps[0] not in (".", ".."):
        return Nodes((scope.item[steps[0]],)) if steps[0] in scope.item else Nodes()
    parts = [] if absolute else scope.here.split("/")[1:]
    for step in steps:
        if step == "..":
            parts = parts[:-1]
        elif step != ".":
            parts.append(step)
    path = "/" + "/".join(parts)
    return Nodes((scope.values[path],)) if path in scope.values else Nodes()


@functools.cache
def compile_xpath(text: str):
    """Compile an expression once into a function of a `_Scope`: the form is filled thousands of times."""
    return _Parser(text).parse()


def evaluate(
    text: str,
    values: Mapping[str, str],
    here: str = "",
    item: Mapping[str, str] | None = None,
    instances: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
):
    """Evaluate an XForm expression over instance values keyed by absolute path (`.` is `here`); `instances` are
    the secondary instances' items by id (what `instance('id')/root/item` reads)."""
    return compile_xpath(text)(_Scope(values, here, item, instances))
