"""The JSON Schema (draft 2020-12) of the --usacloud-report document, made from its dataclasses.

Each object of the schema is one dataclass of the document (:data:`OBJECTS`): a property per field,
its type from the annotation, its description from the field's ``doc``. docs/report-schema.md is made
from it (``python -m pytest_usacloud_sandbox.report.schema > docs/report-schema.md``; a test checks it).
Objects are closed (but ``run.options``), so a record that drifts from the schema fails the tests.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, Literal

from ..record.cleanup import CleanupRecord, ResourceRecord
from ..record.command import Attempt, CommandRecord, Finding
from ..record.fields import Bound, computed_names
from ..record.preflight import Preflight
from ..record.script import ScriptRecord, SkippedCheck
from ..record.vocabulary import WORDS
from .document import SCHEMA_NAME, SCHEMA_VERSION, Report, RunSection

#: each object of the document: its name in ``$defs``, its dataclass, and its section in the docs
OBJECTS = (
    ("run", RunSection, "`run`"),
    ("preflight", Preflight, "`run.preflight`"),
    ("cleanup", CleanupRecord, "`cleanup`"),
    ("resource", ResourceRecord, "`cleanup.resources[]`"),
    ("script", ScriptRecord, "`scripts[]`"),
    ("skipped_check", SkippedCheck, "`scripts[].skipped_checks[]`"),
    ("command", CommandRecord, "`scripts[].commands[]`"),
    ("attempt", Attempt, "`scripts[].commands[].attempts[]`"),
    ("finding", Finding, "`scripts[].commands[].findings[]`"),
)
_DEF_OF = {cls: name for name, cls, _ in OBJECTS}


def object_schema(cls: type) -> dict:
    """The schema of one dataclass: closed, every field required unless it is left out when None."""
    hints = typing.get_type_hints(cls, include_extras=True)
    properties, required = {}, []
    for f in dataclasses.fields(cls):
        absent = f.metadata.get("absent_when_none", False)
        hint = _without_none(hints[f.name]) if absent else hints[f.name]
        properties[f.name] = _property(hint, f.metadata["doc"])
        if not absent:
            required.append(f.name)
    for name in computed_names(cls):
        value = getattr(cls, name)
        properties[name] = _property(typing.get_type_hints(value.fget, include_extras=True)["return"], value.doc)
        required.append(name)
    return {
        "type": "object",
        "description": _first_line(cls),
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _property(hint, doc: str) -> dict:
    schema = type_schema(hint)
    words = _words(hint)
    if words:
        doc += ": " + ", ".join(f"`{w}`" for w in words)
        if _origin(hint) in (Mapping, dict):
            doc += " (all present)"
    return {**schema, "description": doc}


def type_schema(hint) -> dict:
    """The JSON schema of a value annotated ``hint``."""
    origin, args = _origin(hint), typing.get_args(hint)
    if origin is Annotated:
        bounds = [m for m in hint.__metadata__ if isinstance(m, Bound)]
        extra = {("exclusiveMinimum" if b.exclusive else "minimum"): b.minimum for b in bounds}
        return {**type_schema(args[0]), **extra}
    if origin in (typing.Union, types.UnionType):
        return _nullable(type_schema(_without_none(hint)))
    if origin is Literal:
        values = [_json(a) for a in args]
        return {"const": values[0]} if len(values) == 1 else {"enum": values}
    if origin in (Sequence, list, tuple):
        return {"type": "array", "items": type_schema(args[0])}
    if origin in (Mapping, dict):
        key, value = args
        if key is Any or value is Any:
            return {"type": "object"}
        if _origin(key) is Literal:
            names = [_json(a) for a in typing.get_args(key)]
            item = type_schema(value)
            return {
                "type": "object",
                "additionalProperties": False,
                "required": names,
                "properties": dict.fromkeys(names, item),
            }
        return {"type": "object", "additionalProperties": type_schema(value)}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"enum": [str(m) for m in hint]}
    if hint in _DEF_OF:
        return {"$ref": f"#/$defs/{_DEF_OF[hint]}"}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    raise TypeError(f"no JSON schema for {hint!r}: a record's field must be a scalar, a word, or a record")


_SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _nullable(schema: dict) -> dict:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _origin(hint):
    origin = typing.get_origin(hint)
    return {list: list, tuple: tuple, dict: dict}.get(origin, origin)


def _without_none(hint):
    if _origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return functools.reduce(lambda a, b: a | b, rest)
    return hint


def _words(hint) -> list:
    """The words of the vocabulary a value (or a mapping's key) may be, None when it is no word."""
    origin, args = _origin(hint), typing.get_args(hint)
    if origin is Annotated or origin in (typing.Union, types.UnionType):
        return _words(_without_none(args[0] if origin is Annotated else hint))
    if origin in (Mapping, dict):
        return _words(args[0])
    if origin is Literal and all(isinstance(a, Enum) for a in args):
        return list(args)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return list(hint)
    return []


def _first_line(obj) -> str:
    """The first line of a class's docstring, without its full stop."""
    return (obj.__doc__ or "").strip().split("\n")[0].rstrip(".").replace("``", "`")


def _json(value):
    return str(value) if isinstance(value, Enum) else value


def _document() -> dict:
    top = object_schema(Report)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:{SCHEMA_NAME.replace('/', ':')}:{SCHEMA_VERSION}",
        "title": "pytest-usacloud-sandbox report",
        "type": "object",
        "additionalProperties": False,
        "required": top["required"],
        "properties": top["properties"],
        "$defs": {name: object_schema(cls) for name, cls, _ in OBJECTS},
    }


SCHEMA: dict = _document()


def validate(doc: dict) -> bool:
    """Check ``doc`` against SCHEMA: True if it was checked, False if jsonschema is not installed.

    Raises jsonschema.ValidationError when the document does not match.
    """
    try:
        import jsonschema
    except ImportError:
        return False
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return True


# -- docs/report-schema.md ----------------------------------------------------------------------

_INTRO = f"""\
# The JSON report (`--usacloud-report=PATH`)

<!-- Generated from the report's dataclasses (pytest_usacloud_sandbox/report/document.py and the
     records in pytest_usacloud_sandbox/record/): edit those, then run
     python -m pytest_usacloud_sandbox.report.schema > docs/report-schema.md -->

`--usacloud-report=PATH` (ini `usacloud_report`) writes one JSON document when the run ends. It is
also written when the run is stopped by the error policy, by Ctrl-C or by SIGTERM; it then holds
every script that finished, and `run.interrupted` / `run.stop_reason` say why the rest are missing.
The file is written to a temporary file in the same directory, then renamed over `PATH`, so a
reader never sees half a report, and an earlier report stays whole if writing a new one fails. It
gets the permissions pytest gives its JUnit file: a new file as the umask allows, an existing file
keeps its mode.

Credentials never appear in it: the options, the words run, the text as written, messages and
output tails are all masked (`***`), as they are in the terminal. Terminal control sequences in
usacloud's output are removed, and other control characters are escaped (`\\x07`).

The schema is versioned. `schema` is always `"{SCHEMA_NAME}"`, and `schema_version` (an integer,
now `{SCHEMA_VERSION}`) goes up whenever a field is added, removed or changes meaning. The
machine-readable form is the JSON Schema (draft 2020-12) in `pytest_usacloud_sandbox/report/schema.py`
(`SCHEMA`, and `validate(doc)` when `jsonschema` is installed); this page is generated from it.
Every object in it is closed except `run.options`.

Times are Unix time in seconds (floats, from the machine's clock); durations are seconds.
"""

_OUTRO = """\
## Reading it

```console
$ jq -r '.scripts[] | select(.outcome == "failed") | "\\(.path):\\(.line) \\(.cls) \\(.message)"' report.json
$ jq '[.scripts[].commands[] | select(.attempts | length > 0) | .duration] | max' report.json
```
"""


def _type(prop: dict) -> str:
    """A property's type as the doc's table says it."""
    if "const" in prop:
        return "integer" if isinstance(prop["const"], int) else "string"
    if "enum" in prop:
        return "string or null" if None in prop["enum"] else "string"
    if "$ref" in prop or "anyOf" in prop:
        return "object" + (" or null" if {"type": "null"} in prop.get("anyOf", ()) else "")
    kinds = prop.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if kinds[0] == "array":
        return "array of strings" if prop.get("items", {}).get("type") == "string" else "array"
    return " or ".join(kinds)


def markdown() -> str:
    """docs/report-schema.md, from SCHEMA."""
    parts = [_INTRO]
    sections = [("Top level", SCHEMA), *((title, SCHEMA["$defs"][name]) for name, _, title in OBJECTS)]
    for title, obj in sections:
        rows = ["| field | type | meaning |", "|---|---|---|"]
        for name, prop in obj["properties"].items():
            meaning = prop.get("description", "").replace("|", "\\|")
            rows.append(f"| `{name}` | {_type(prop)} | {meaning} |")
        parts.append(f"## {title}\n\n" + "\n".join(rows) + "\n")
    parts.append("## Words\n\nWhat each word of the report means.\n")
    for words in WORDS:
        rows = ["| word | meaning |", "|---|---|", *(f"| `{w}` | {w.doc} |" for w in words)]
        parts.append(f"### {_first_line(words)}\n\n" + "\n".join(rows) + "\n")
    parts.append(_OUTRO)
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
