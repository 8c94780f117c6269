"""Markers from a script's top comment block: ``# pytest.mark.NAME(literal arguments)``.

The arguments are parsed with :mod:`ast` and read with :func:`ast.literal_eval`; nothing is ever
evaluated.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .source import ScriptError


@dataclass(frozen=True)
class MarkerSpec:
    line: int
    name: str
    args: tuple
    kwargs: Mapping[str, Any]


_MARKER = re.compile(r"pytest\.mark\.([^\s(#]*)(.*)", re.DOTALL)


def parse_markers(text: str) -> tuple[MarkerSpec, ...]:
    """``# pytest.mark.NAME`` / ``# pytest.mark.NAME(args)`` lines of the top comment block.

    The arguments are parsed with :mod:`ast` and each value goes through
    :func:`ast.literal_eval`; nothing is ever evaluated.
    """
    markers = []
    for index, line in enumerate(text.removeprefix("\ufeff").split("\n")):
        stripped = line.strip(" \t\r")  # bash's blanks (a CR line end is parse_script's error)
        if not stripped or (index == 0 and stripped.startswith("#!")):
            continue
        if not stripped.startswith("#"):
            break
        body = stripped[1:].strip()
        if body.startswith("pytest.mark."):
            markers.append(_parse_marker(index + 1, body))
    return tuple(markers)


def _parse_marker(line: int, body: str) -> MarkerSpec:
    shown = body if len(body) <= 80 else body[:77] + "..."

    def bad(why: str) -> ScriptError:
        return ScriptError(line, f"bad marker {shown!r} on line {line}: {why}")

    name, rest = _MARKER.fullmatch(body).groups()
    if not name.isidentifier() or keyword.iskeyword(name):
        raise bad(f"{name!r} is not a valid marker name")
    if name.startswith("_"):
        raise bad("marker names must not start with '_'")
    rest = rest.strip()
    if not rest or rest.startswith("#"):
        return MarkerSpec(line, name, (), MappingProxyType({}))
    if not rest.startswith("("):
        raise bad(f"expected '(' or the end of the line after the name, got {rest[:20]!r}")
    source = "f" + rest  # == f"f({args})" (a trailing Python comment is allowed)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise bad(f"invalid syntax ({getattr(e, 'msg', None) or type(e).__name__})") from None
    call = tree.body
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.col_offset == 0
        and call.func.end_col_offset == 1
    ):
        raise bad("expected NAME(arguments) and nothing else")

    def literal(node: ast.AST, what: str) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            segment = ast.get_source_segment(source, node) or "?"
            raise bad(f"{what} is not a literal: {segment[:40]}") from None

    args = []
    for i, node in enumerate(call.args, 1):
        if isinstance(node, ast.Starred):
            raise bad("*args is not allowed")
        args.append(literal(node, f"argument {i}"))
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise bad("**kwargs is not allowed")
        if kw.arg in kwargs:
            raise bad(f"keyword argument {kw.arg!r} repeated")
        kwargs[kw.arg] = literal(kw.value, f"keyword argument {kw.arg!r}")
    return MarkerSpec(line, name, tuple(args), MappingProxyType(kwargs))
