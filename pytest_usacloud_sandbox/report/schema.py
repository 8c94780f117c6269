"""The JSON Schema (draft 2020-12) of the --usacloud-report document; see docs/report-schema.md.

`schema_version` goes up whenever a field is added, removed or changes meaning; every object except
`run.options` is closed (additionalProperties false), so a record that drifts from this schema fails
the tests rather than reaching readers unannounced.
"""

from __future__ import annotations

from .runlog import OUTCOMES, SCHEMA_NAME, SCHEMA_VERSION

_NUM = {"type": "number"}
_TIME = {"type": ["number", "null"], "description": "Unix time in seconds (float), null if it never started"}
_STR_OR_NULL = {"type": ["string", "null"]}
_COUNT = {"type": "integer", "minimum": 0}

_ATTEMPT = {
    "type": "object",
    "description": "one execution of a command (a 429 is retried as a new attempt)",
    "additionalProperties": False,
    "required": ["start", "end", "exit_code", "cls", "token_wait"],
    "properties": {
        "start": _NUM,
        "end": _NUM,
        "exit_code": {"type": ["integer", "null"]},
        "cls": {"type": "string"},
        "token_wait": {"type": "number", "minimum": 0},
        "token_at": {"type": ["number", "null"]},
    },
}

_FINDING = {
    "type": "object",
    "description": "one finding of the offline check against usacloud's command tree",
    "additionalProperties": False,
    "required": ["severity", "code", "word", "message"],
    "properties": {
        "severity": {"enum": ["error", "warning"]},
        "code": {"type": "string"},
        "word": {"type": "string"},
        "message": {"type": "string"},
        "fix": _STR_OR_NULL,
    },
}

_COMMAND = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "line",
        "text",
        "words",
        "zone_rewritten",
        "status",
        "cls",
        "message",
        "exit_code",
        "start",
        "end",
        "duration",
        "token_wait",
        "attempts",
        "stdout_tail",
        "stderr_tail",
    ],
    "properties": {
        "line": {"type": "integer", "minimum": 0},
        "text": {"type": "string"},
        "words": {"type": "array", "items": {"type": "string"}},
        "written": {"type": "array", "items": {"type": "string"}},
        "zone_rewritten": {"type": "boolean"},
        "status": {"enum": ["ok", "failed", "skipped", "refused", "not-run", "cancelled", "dry-run", "invalid"]},
        "cls": _STR_OR_NULL,
        "message": {"type": "string"},
        "hint": _STR_OR_NULL,
        "exit_code": {"type": ["integer", "null"]},
        "start": _TIME,
        "end": _TIME,
        "duration": {"type": ["number", "null"], "minimum": 0},
        "token_wait": {"type": "number", "minimum": 0},
        "attempts": {"type": "array", "items": {"$ref": "#/$defs/attempt"}},
        "stdout_tail": {"type": "string"},
        "stderr_tail": {"type": "string"},
        "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
    },
}

_SCRIPT = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "path",
        "nodeid",
        "worker",
        "outcome",
        "status",
        "cls",
        "message",
        "line",
        "start",
        "end",
        "duration",
        "commands",
    ],
    "properties": {
        "path": {"type": "string"},
        "nodeid": {"type": "string"},
        "worker": {"type": "string"},
        "mode": {"enum": ["commands", "shell"]},
        "outcome": {"enum": list(OUTCOMES)},
        "status": {"enum": ["passed", "failed", "skipped", "cancelled", "error"]},
        "cls": _STR_OR_NULL,
        "message": {"type": "string"},
        "line": {"type": ["integer", "null"]},
        "start": _TIME,
        "end": _TIME,
        "duration": {"type": ["number", "null"], "minimum": 0},
        "token_wait": {"type": "number", "minimum": 0},
        "skipped_lines": _COUNT,
        "commands_run": _COUNT,
        "commands_failed": _COUNT,
        "commands": {"type": "array", "items": {"$ref": "#/$defs/command"}},
    },
}

_RUN = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "start",
        "end",
        "duration",
        "options",
        "plugin_version",
        "usacloud_version",
        "workers",
        "rate",
        "burst",
        "backend",
        "interrupted",
        "stop_reason",
        "scripts_total",
        "scripts_finished",
        "outcomes",
    ],
    "properties": {
        "start": _NUM,
        "end": _NUM,
        "start_utc": {"type": "string"},
        "end_utc": {"type": "string"},
        "duration": {"type": "number", "minimum": 0},
        "options": {"type": "object", "description": "the options in effect, credentials masked"},
        "plugin_version": {"type": "string"},
        "usacloud_version": _STR_OR_NULL,
        "workers": _COUNT,
        "rate": {"type": ["number", "null"], "exclusiveMinimum": 0, "description": "null: unlimited"},
        "burst": {"type": "integer", "minimum": 1},
        "backend": {"type": "string"},
        "dry_run": {"type": "boolean"},
        "interrupted": {"type": "boolean"},
        "stop_reason": _STR_OR_NULL,
        "scripts_total": _COUNT,
        "scripts_finished": _COUNT,
        "outcomes": {
            "type": "object",
            "additionalProperties": False,
            "required": list(OUTCOMES),
            "properties": {name: _COUNT for name in OUTCOMES},
        },
        "commands": _COUNT,
        "commands_run": _COUNT,
        "commands_by_class": {"type": "object", "additionalProperties": _COUNT},
        "attempts": _COUNT,
        "retries": _COUNT,
        "refused": _COUNT,
        "token_wait": {"type": "number", "minimum": 0},
        "achieved_rate": {"type": "number", "minimum": 0},
    },
}

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:{SCHEMA_NAME.replace('/', ':')}:{SCHEMA_VERSION}",
    "title": "pytest-usacloud-sandbox report",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "schema_version", "run", "scripts"],
    "properties": {
        "schema": {"const": SCHEMA_NAME},
        "schema_version": {"const": SCHEMA_VERSION},
        "run": {"$ref": "#/$defs/run"},
        "scripts": {"type": "array", "items": {"$ref": "#/$defs/script"}},
    },
    "$defs": {"run": _RUN, "script": _SCRIPT, "command": _COMMAND, "attempt": _ATTEMPT, "finding": _FINDING},
}


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
