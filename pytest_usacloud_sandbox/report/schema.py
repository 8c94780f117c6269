"""The JSON Schema (draft 2020-12) of the --usacloud-report document: the one definition.

Every field carries its description here; docs/report-schema.md is generated from this module
(``python -m pytest_usacloud_sandbox.report.schema > docs/report-schema.md``) and a test checks
that the file is current. `schema_version` goes up whenever a field is added, removed or changes
meaning; every object except `run.options` is closed (additionalProperties false), so a record that
drifts from this schema fails the tests rather than reaching readers unannounced.
"""

from __future__ import annotations

from ..state.records import OUTPUT_TAIL_CHARS, CommandStatus, ScriptStatus
from ..usacloud.outcome import Cls
from .runlog import OUTCOMES, SCHEMA_NAME, SCHEMA_VERSION


def _f(kind, description: str, **extra) -> dict:
    return {"type": kind, "description": description, **extra}


def _enum(values, description: str) -> dict:
    return {"enum": [str(v) for v in values], "description": description}


_COUNT = {"type": "integer", "minimum": 0}
_CLASSES = ", ".join(f"`{c}`" for c in Cls)
_STATUSES = ", ".join(f"`{s}`" for s in CommandStatus)

_ATTEMPT = {
    "type": "object",
    "description": "one execution of a command (a 429 is retried as a new attempt)",
    "additionalProperties": False,
    "required": ["start", "end", "exit_code", "cls", "token_wait"],
    "properties": {
        "start": _f("number", "when it started"),
        "end": _f("number", "when it ended"),
        "exit_code": _f(["integer", "null"], "usacloud's exit code; null if it could not be started"),
        "cls": _f("string", "its result class"),
        "token_wait": _f("number", "seconds it waited for a rate-limit token", minimum=0),
        "token_at": _f(["number", "null"], "when the token bucket admitted it; null without a limiter"),
    },
}

_FINDING = {
    "type": "object",
    "description": "one finding of the offline check against usacloud's command tree",
    "additionalProperties": False,
    "required": ["severity", "code", "word", "message"],
    "properties": {
        "severity": _enum(["error", "warning"], "`error` fails the command; `warning` is only shown"),
        "code": _f("string", "what kind of finding, e.g. `unknown-subcommand`, `deprecated-alias`"),
        "word": _f("string", "the word it is about (masked)"),
        "message": _f("string", "what is wrong"),
        "fix": _f(["string", "null"], "the suggested correction, if any"),
    },
}

_COMMAND = {
    "type": "object",
    "description": "one usacloud command of a script, in script order",
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
        "line": _f("integer", "the line it starts on", minimum=0),
        "text": _f("string", "the command as written in the script (masked)"),
        "words": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the words run, after the sandbox policy (zone pinned to tk1v; masked); "
            "empty when it never got that far",
        },
        "written": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the same words as the script wrote them, before the policy (masked); the offline "
            "check reads these; empty when it never got that far",
        },
        "zone_rewritten": _f("boolean", "the policy changed a zone in it"),
        "status": _enum(
            CommandStatus,
            "`ok`, `failed`, `skipped` (needs shell expansion), `refused`, `not-run` (after the script's first "
            "failure), `cancelled`, `dry-run` (checked, would run), `invalid` (failed the offline check), "
            "`unsupported` (fake mode: usacloud's fake driver cannot do it, class `fake-limit`; the script is skipped)",
        ),
        "cls": _f(
            ["string", "null"],
            f"the result class: {_CLASSES} (`fake-hang` with status `ok`: in fake mode, hung after its effect "
            "was visible and counted as done)",
        ),
        "message": _f(
            "string", "what went wrong, or why it was skipped (for `fake-hang`, the note saying what was visible)"
        ),
        "hint": _f(["string", "null"], "what to do about it"),
        "exit_code": _f(
            ["integer", "null"],
            "usacloud's exit code (of the last attempt); null if it never ran or could not be started; "
            "negative when a signal ended it (`-15`: SIGTERM)",
        ),
        "start": _f(["number", "null"], "the first attempt's start; null if it never ran"),
        "end": _f(["number", "null"], "the last attempt's end"),
        "duration": _f(["number", "null"], "`end - start` (backoff between retries included)", minimum=0),
        "token_wait": _f("number", "seconds waited for tokens, all attempts together", minimum=0),
        "attempts": {
            "type": "array",
            "items": {"$ref": "#/$defs/attempt"},
            "description": "each execution (below)",
        },
        "stdout_tail": _f(
            "string",
            f"the last {OUTPUT_TAIL_CHARS} characters of standard output (masked; terminal control "
            "sequences removed, other control characters escaped as `\\xNN`)",
        ),
        "stderr_tail": _f("string", "the same for standard error"),
        "findings": {
            "type": "array",
            "items": {"$ref": "#/$defs/finding"},
            "description": "the offline check's findings (below)",
        },
    },
}

_SCRIPT = {
    "type": "object",
    "description": "one script that finished, in the order they finished",
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
        "path": _f("string", "the script's file"),
        "nodeid": _f("string", "its pytest node id (what `-k`, `--lf` and JUnit XML use)"),
        "worker": _f("string", "the xdist worker that ran it (`gw0`, ...), `main` without `-n`"),
        "mode": _enum(["commands", "shell"], "`commands` or `shell`"),
        "outcome": _enum(
            OUTCOMES,
            "as pytest reports it: `passed`, `failed`, `skipped`, `cancelled` (skipped because the run was "
            "stopped), `xfailed`, `xpassed`",
        ),
        "status": _enum(
            ScriptStatus,
            "the plugin's own verdict: `passed`, `failed`, `skipped` (nothing ran: every command needs the shell, "
            "or there is no usacloud command; or, class `fake-limit`, usacloud's fake mode could not do a command), "
            "`cancelled`, `error`",
        ),
        "cls": _f(
            ["string", "null"],
            "the failure's result class (`invalid-script` for a script that could not be read; `fake-limit` for a "
            "script skipped at a limit of usacloud's fake mode)",
        ),
        "message": _f("string", "the failure, or the skip reason"),
        "line": _f(
            ["integer", "null"], "the failing line (for a script that ran nothing, the first line that needs the shell)"
        ),
        "start": _f(["number", "null"], "when its commands started; null when it never ran"),
        "end": _f(["number", "null"], "when its commands ended"),
        "duration": _f(["number", "null"], "`end - start`", minimum=0),
        "token_wait": _f("number", "seconds its commands waited for tokens", minimum=0),
        "skipped_lines": {**_COUNT, "description": "lines of the script that are not usacloud commands (never run)"},
        "commands_run": {**_COUNT, "description": "commands executed at least once"},
        "commands_failed": {**_COUNT, "description": "commands that failed, were refused or failed the offline check"},
        "commands": {
            "type": "array",
            "items": {"$ref": "#/$defs/command"},
            "description": "every usacloud command of the script, in order (below)",
        },
        "cleanup": {
            "anyOf": [{"$ref": "#/$defs/cleanup"}, {"type": "null"}],
            "description": "`--usacloud-cleanup=script`: the teardown right after it, as the top-level `cleanup`; "
            "null when it made nothing",
        },
    },
}

_RESOURCE = {
    "type": "object",
    "description": "one resource the run created (or, in a sweep, an earlier run left), and what became of it",
    "additionalProperties": False,
    "required": ["type", "id", "name", "zone", "result", "reason"],
    "properties": {
        "type": _f("string", "the usacloud resource (`server`, `switch`, ...)"),
        "id": _f(["string", "null"], "its ID; null when it is not known (a listing failed, no ID was printed)"),
        "name": _f("string", "its name, when known"),
        "zone": _f(["string", "null"], "its zone (`tk1v`); null for a global resource or when not known"),
        "result": _enum(
            ["deleted", "left", "kept", "discarded"],
            "`deleted`; `left` (still there, `reason` says why); `kept` (`--usacloud-cleanup=off`); "
            "`discarded` (fake mode: its fake store went with its worker's run directory)",
        ),
        "reason": _f(
            "string",
            "why it was left or kept; for a deleted one a note (`with its server ...`, `already gone`) or empty",
        ),
        "script": _f("string", "the node id of the script that made it, when known"),
    },
}

_CLEANUP = {
    "type": "object",
    "description": "what the run created and what its teardown (or the sweep) removed",
    "additionalProperties": False,
    "required": ["mode", "tag", "deleted", "left", "resources", "commands"],
    "properties": {
        "mode": _enum(
            ["run", "script", "off", "sweep"],
            "`--usacloud-cleanup` (`run`, `script`, `off`), or `sweep` for `--usacloud-sweep`",
        ),
        "tag": _f("string", "the run's tag, carried by everything it created (`usacloud-run=YYMMDDhhmmss-xxxxxx`)"),
        "deleted": {**_COUNT, "description": "resources deleted"},
        "left": {**_COUNT, "description": "resources left behind (each with its reason in `resources`)"},
        "kept": {**_COUNT, "description": "resources kept under `--usacloud-cleanup=off`"},
        "discarded": {**_COUNT, "description": "fake mode: resources in fake stores that went with their worker"},
        "interrupted": _f(
            ["string", "null"], "why the teardown ended early (its timeout, a second Ctrl-C); null when it did not"
        ),
        "seconds": _f("number", "time the teardown took", minimum=0),
        "resources": {
            "type": "array",
            "items": {"$ref": "#/$defs/resource"},
            "description": "each resource and its result (below)",
        },
        "commands": {
            "type": "array",
            "items": {"$ref": "#/$defs/command"},
            "description": "the teardown's own usacloud calls (listings and deletes), recorded like a script's",
        },
    },
}

_PREFLIGHT = {
    "type": "object",
    "description": "one read-only call (`usacloud auth-status -o json`) before any script, as a script's command",
    "additionalProperties": False,
    "required": ["ok", "cause", "message", "version", "seconds", "warning", "hint", "command"],
    "properties": {
        "ok": _f("boolean", "it passed; false: the session ended before any script ran"),
        "cause": _f(
            "string",
            "`ok`, or what failed: `usacloud missing`, "
            "`usacloud version`, `no credentials`, `bad key (401)`, `key not allowed (403)`, `API unreachable`, "
            "`profile`, `rate limited (429)`, `no output`, `error`, `rate-limit state unreachable`, `cancelled`",
        ),
        "message": _f("string", "what the call showed, or what went wrong (masked)"),
        "version": _f(["string", "null"], "what `usacloud version` printed"),
        "seconds": _f("number", "how long it took", minimum=0),
        "warning": _f(["string", "null"], "usacloud's version differs from the command table's"),
        "hint": _f(["string", "null"], "what to do about a failure"),
        "command": _f("string", "the call"),
    },
}

_RUN = {
    "type": "object",
    "description": "the run's metadata and totals",
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
        "start": _f("number", "when the session started"),
        "end": _f("number", "when the report was written"),
        "start_utc": _f("string", "`start` as ISO 8601 UTC (`2024-05-01T09:30:00.123Z`)"),
        "end_utc": _f("string", "`end` as ISO 8601 UTC"),
        "duration": _f("number", "`end - start`", minimum=0),
        "options": {
            "type": "object",
            "description": "the plugin's options in effect (names as the ini keys), credentials masked",
        },
        "plugin_version": _f("string", "this plugin's version"),
        "usacloud_version": _f(
            ["string", "null"], "what `usacloud version` printed; null in dry-run or when it could not be asked"
        ),
        "preflight": {
            "anyOf": [{"type": "null"}, {"$ref": "#/$defs/preflight"}],
            "description": "the check of usacloud and the credentials before any script ran; null in a dry-run "
            "and with `--no-usacloud-preflight`",
        },
        "workers": {**_COUNT, "description": "xdist workers (0 without `-n`)"},
        "rate": _f(
            ["number", "null"], "the configured commands per second; null means `unlimited`", exclusiveMinimum=0
        ),
        "burst": _f("integer", "the token bucket's size", minimum=1),
        "backend": _f(
            "string",
            "where the token bucket lives (`file:PATH` or a Redis URL, password masked); empty for the default",
        ),
        "dry_run": _f("boolean", "`--usacloud-dry-run`: nothing was executed"),
        "interrupted": _f("boolean", "the run ended early: Ctrl-C, SIGTERM, or a stop by the error policy"),
        "stop_reason": _f(["string", "null"], "why it stopped early, e.g. `run stopped by a.usacloud::a (auth): ...`"),
        "scripts_total": {**_COUNT, "description": "scripts collected to run"},
        "scripts_finished": {**_COUNT, "description": "scripts with a result (the length of `scripts`)"},
        "outcomes": {
            "type": "object",
            "description": "scripts by outcome: " + ", ".join(f"`{o}`" for o in OUTCOMES) + " (all present)",
            "additionalProperties": False,
            "required": [str(o) for o in OUTCOMES],
            "properties": {str(name): _COUNT for name in OUTCOMES},
        },
        "partly_run": {**_COUNT, "description": "scripts that passed with some commands skipped (they need the shell)"},
        "commands": {**_COUNT, "description": "usacloud commands in the finished scripts"},
        "commands_run": {**_COUNT, "description": "of those, commands executed at least once"},
        "commands_by_class": {
            "type": "object",
            "additionalProperties": _COUNT,
            "description": "commands by result class, or by status when a command has no class "
            "(`not-run`, `skipped`, `dry-run`)",
        },
        "attempts": {**_COUNT, "description": "executions, retries included (each took a token)"},
        "retries": {**_COUNT, "description": "executions beyond the first (429 retries)"},
        "refused": {**_COUNT, "description": "commands the sandbox policy refused (never executed)"},
        "token_wait": _f("number", "seconds spent waiting for rate-limit tokens, all commands together", minimum=0),
        "achieved_rate": _f(
            "number",
            "starts per second beyond the burst, from the first start (token grant) to the last: "
            "(starts - burst) / span, never above the rate while the bucket held it; 0 with too few starts",
            minimum=0,
        ),
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
        "schema": {"const": SCHEMA_NAME, "description": f'`"{SCHEMA_NAME}"`'},
        "schema_version": {"const": SCHEMA_VERSION, "description": f"`{SCHEMA_VERSION}`"},
        "run": {"$ref": "#/$defs/run", "description": "the run's metadata and totals (below)"},
        "cleanup": {
            "$ref": "#/$defs/cleanup",
            "description": "what the run created and removed (below); absent in a dry-run",
        },
        "scripts": {
            "type": "array",
            "items": {"$ref": "#/$defs/script"},
            "description": "one object per script that finished, in the order they finished",
        },
    },
    "$defs": {
        "run": _RUN,
        "preflight": _PREFLIGHT,
        "cleanup": _CLEANUP,
        "resource": _RESOURCE,
        "script": _SCRIPT,
        "command": _COMMAND,
        "attempt": _ATTEMPT,
        "finding": _FINDING,
    },
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


# -- docs/report-schema.md ----------------------------------------------------------------------

_INTRO = f"""\
# The JSON report (`--usacloud-report=PATH`)

<!-- Generated from pytest_usacloud_sandbox/report/schema.py: edit that file, then run
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

_SECTIONS = (
    ("Top level", SCHEMA),
    ("`run`", _RUN),
    ("`cleanup`", _CLEANUP),
    ("`cleanup.resources[]`", _RESOURCE),
    ("`scripts[]`", _SCRIPT),
    ("`scripts[].commands[]`", _COMMAND),
    ("`scripts[].commands[].attempts[]`", _ATTEMPT),
    ("`scripts[].commands[].findings[]`", _FINDING),
)


def _type(prop: dict) -> str:
    if "const" in prop:
        return "integer" if isinstance(prop["const"], int) else "string"
    if "enum" in prop:
        return "string"
    if "$ref" in prop or "anyOf" in prop:
        return "object" + (" or null" if {"type": "null"} in prop.get("anyOf", ()) else "")
    kinds = prop.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if kinds[0] == "array":
        items = prop.get("items", {})
        return "array of strings" if items.get("type") == "string" else "array"
    return " or ".join(kinds)


def markdown() -> str:
    """docs/report-schema.md, from SCHEMA."""
    parts = [_INTRO]
    for title, obj in _SECTIONS:
        rows = ["| field | type | meaning |", "|---|---|---|"]
        for name, prop in obj["properties"].items():
            meaning = prop.get("description", "").replace("|", "\\|")
            rows.append(f"| `{name}` | {_type(prop)} | {meaning} |")
        parts.append(f"## {title}\n\n" + "\n".join(rows) + "\n")
    parts.append(_OUTRO)
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
