"""Classify one command's result (its :class:`~..record.vocabulary.ResultClass`) from its exit code and
usacloud's stderr forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..record.vocabulary import CRITICAL_CLASSES, ResultClass
from .result import RunResult

HINTS = {
    ResultClass.AUTH: "check SAKURACLOUD_ACCESS_TOKEN / SAKURACLOUD_ACCESS_TOKEN_SECRET in pytest's environment "
    "(usacloud profiles are read only with --usacloud-allow-profiles)",
    ResultClass.PERMISSION: "the API key is not allowed to do this: check its permissions in the control panel",
    ResultClass.RATE_LIMITED: "the API refused for rate (429): lower --usacloud-rate or raise --usacloud-retries",
    ResultClass.UNAVAILABLE: "the API stayed busy through usacloud's own retries (503/423); try again later",
    ResultClass.TIMEOUT: "raise --usacloud-timeout if the command is expected to take longer",
    ResultClass.FAKE_HANG: "usacloud's fake driver can hang after a change; the command was not retried",
    ResultClass.MISSING_BINARY: "install usacloud or point --usacloud-bin at it",
    ResultClass.CONFIG: "usacloud reported a configuration error, ran nothing and exited 0: check the profile settings "
    "(the sandbox pins only an empty profile directory) and the SAKURACLOUD_* variables",
    ResultClass.NOT_FOUND: "no resource matched in zone tk1v; check the name or ID",
    ResultClass.CRASHED: "usacloud crashed (signal or Go panic); a truncated --fake-store file is one known cause",
    ResultClass.LIMITER: "the shared rate-limit state could not be reached (see --usacloud-rate-backend)",
    ResultClass.FAKE_LIMIT: "a limit of usacloud's fake mode, not of the script: test this part against the sandbox "
    "zone (without --usacloud-fake)",
}
CONFIRM_HINT = "add -y: usacloud cannot ask for confirmation without a terminal"
FAKE_TIMEOUT_HINT = (
    "in fake mode list and read never hang, and a wait command waits for ever for a state that never comes "
    "(e.g. wait-until-ready on a server never booted); raise --usacloud-fake-timeout if it needs longer"
)
FAKE_CHANGE_TIMEOUT_HINT = (
    "usacloud's fake driver can hang after a change, but this one left no visible effect, so it counts as failed "
    "and was not retried; raise --usacloud-fake-timeout if it needs longer"
)
_ERROR_TEXT = re.compile(r"(?i)\berror\b|panic:|\bfailed\b")

_STATUS = re.compile(r'Status:"(\d{3})')
_STATUS_CLASS = {
    "401": ResultClass.AUTH,
    "403": ResultClass.PERMISSION,
    "404": ResultClass.NOT_FOUND,
    "409": ResultClass.CONFLICT,
    "423": ResultClass.CONFLICT,
    "429": ResultClass.RATE_LIMITED,
    "503": ResultClass.UNAVAILABLE,
}
_USAGE_TEXTS = (
    "unknown command",
    "unknown flag",
    "unknown shorthand flag",
    "validation error",
    "the confirm dialog cannot be used",
    "arguments are required",
    "only a single target is allowed",
    "invalid argument",
    "flag needs an argument",
    "accepts ",
)
PARAMETERS_HINT = (
    "usacloud could not read --parameters (a JSON text, or a file relative to the script's directory), "
    "ran nothing and exited 0"
)
SETTINGS_HINT = (
    "usacloud rejected a setting (SAKURACLOUD_DEFAULT_OUTPUT_TYPE, _ARGUMENT_MATCH_MODE, _DEFAULT_QUERY_DRIVER, "
    "--argument-match-mode), ran nothing and exited 0"
)
#: Errors usacloud prints while still exiting 0, having run nothing: what its set-up (configuration,
#: API client, --parameters) returns is printed bare on stderr. Each: (class, hint, pattern of a
#: message). ``config`` is what every script of the run meets alike (a profile, a key file): it stops
#: a run under the ``critical`` policy. A usacloud message may be glued to the one before it (a
#: ``[WARN]`` without a newline), so they are matched in the parts :func:`_messages` splits off.
_EXIT0_RULES = (
    # the API client could not be set up: a named profile that does not exist, its directory, a key file
    (ResultClass.CONFIG, HINTS[ResultClass.CONFIG], re.compile(r"^API Error - ")),
    (ResultClass.CONFIG, HINTS[ResultClass.CONFIG], re.compile(r'^\[WARN\] loading profile ".*" is failed')),
    # the configuration's own validation: a setting, from the run or the script (a VAR=value prefix, a flag)
    (ResultClass.USAGE, SETTINGS_HINT, re.compile(r"^validation error:")),
    # Go's JSON decoder on a broken or missing --parameters (a missing file is read as its name)
    (ResultClass.USAGE, PARAMETERS_HINT, re.compile(r"^(?:invalid character '|unexpected end of JSON input|json: )")),
    # the forms of earlier usacloud versions
    (
        ResultClass.CONFIG,
        HINTS[ResultClass.CONFIG],
        re.compile(r"(?i)^(?:error\b|\[error\]|.*\bprofile\b.*\bnot (?:found|exist))"),
    ),
    (ResultClass.CONFIG, HINTS[ResultClass.CONFIG], re.compile(r"(?i).*\btoo (?:open|lax)\b")),
    (ResultClass.USAGE, SETTINGS_HINT, re.compile(r"(?i).*\binvalid (?:default )?output.?type")),
    (ResultClass.USAGE, PARAMETERS_HINT, re.compile(r"(?i).*--parameters\b.*\b(?:invalid|failed|error)")),
)
_GLUED = re.compile(r"(?<=\S)(?=API Error - |\[WARN\] )")


@dataclass(frozen=True)
class Classification:
    """A command's result class, the line that says what went wrong, and what to do about it."""

    cls: ResultClass
    message: str  # the line that says what went wrong ("" when ok)
    hint: str | None = None

    @property
    def ok(self) -> bool:
        """The command did its work (a fake-mode hang after a visible effect included)."""
        return self.cls in (ResultClass.OK, ResultClass.FAKE_HANG)

    @property
    def critical(self) -> bool:
        return self.cls in CRITICAL_CLASSES


def classify(result: RunResult) -> Classification:
    if result.launch_error is not None:
        return Classification(ResultClass.MISSING_BINARY, result.launch_error, HINTS[ResultClass.MISSING_BINARY])
    if result.cancelled:
        return Classification(ResultClass.CANCELLED, "cancelled by the stop signal")
    if result.timed_out:
        return Classification(
            ResultClass.TIMEOUT,
            f"timed out after {result.duration:.1f}s; its process group was terminated",
            HINTS[ResultClass.TIMEOUT],
        )
    stderr = result.stderr
    if result.signal is not None:
        return Classification(ResultClass.CRASHED, f"killed by signal {result.signal}", HINTS[ResultClass.CRASHED])
    if "panic:" in stderr or "goroutine " in stderr:
        return Classification(
            ResultClass.CRASHED, _line_with(stderr, "panic:") or "Go panic", HINTS[ResultClass.CRASHED]
        )
    if result.exit_code == 0:
        return exit0_error(stderr) or Classification(ResultClass.OK, "")
    return _classify_error(stderr, result.exit_code)


def exit0_error(stderr: str) -> Classification | None:
    """The error of a command that exited 0 having run nothing (usacloud prints its set-up errors and
    exits 0), or None. Warnings of a command that did run (a deprecated command, the noise of the
    ``--zones`` flag) are no error. The first rule that matches wins, in the order of ``_EXIT0_RULES``."""
    messages = _messages(stderr)
    for cls, hint, pattern in _EXIT0_RULES:
        for index, message in enumerate(messages):
            if pattern.match(message):
                if message.endswith(":"):  # `validation error:` is followed by one line per problem
                    message = _with_details(message, messages[index + 1 :])
                return Classification(cls, f"{message[:480]} (usacloud exited 0 without running the command)", hint)
    return None


def classify_fake(result: RunResult, effect: str | None, store_changed: bool) -> Classification:
    """Fake mode: like :func:`classify`, except for a timeout (``--usacloud-fake-timeout``).

    ``effect`` is what shows that a changing command did its work (:func:`..fakemode.evidence.effect`):
    ``"output"`` for create and update, which print the resource (a script may need it, e.g. the
    new ID of ``-q``), ``"store"`` for delete, the power commands and other changes, which print
    nothing: a changed fake store (or output) shows it. None: the command changes nothing.
    A command that timed out counts as done (class ``fake-hang``) when that evidence is there and it
    printed no error; any other timeout fails as ``timeout``. Nothing here retries.
    """
    limit = fake_driver_limit(result)
    if limit is not None:
        return limit
    if not result.timed_out or result.launch_error is not None or result.cancelled:
        return classify(result)
    seconds = f"{result.duration:.1f}s"
    evidence = []
    if effect is not None and not _ERROR_TEXT.search(result.stderr):
        if result.stdout.strip():
            evidence.append("it had printed its output")
        if store_changed and effect == "store":
            evidence.append("the fake store had changed")
    if evidence:
        return Classification(
            ResultClass.FAKE_HANG,
            f"fake-mode hang: still running after {seconds} (--usacloud-fake-timeout) although its effect was "
            f"visible ({' and '.join(evidence)}); counted as done, not retried",
            HINTS[ResultClass.FAKE_HANG],
        )
    if effect is not None:
        seen = "no output" if effect == "output" else "no output, the fake store unchanged"
        if effect == "output" and store_changed:
            seen = "the fake store changed, but it printed nothing, and a script may need its output"
        return Classification(
            ResultClass.TIMEOUT,
            f"timed out after {seconds} in fake mode with no visible effect ({seen}); its process group was terminated",
            FAKE_CHANGE_TIMEOUT_HINT,
        )
    return Classification(
        ResultClass.TIMEOUT,
        f"timed out after {seconds} in fake mode; its process group was terminated",
        FAKE_TIMEOUT_HINT,
    )


#: The first frame of a panicking goroutine that is one of the fake driver's operations
#: (``github.com/sacloud/iaas-api-go/fake.(*InterfaceOp).ConnectToSharedSegment(...)``).
_FAKE_OP_FRAME = re.compile(r"^github\.com/sacloud/iaas-api-go/fake\.\(\*(\w+)Op\)\.(\w+)\(")
#: What the fake driver cannot do, by operation, and why.
FAKE_LIMITS = {
    ("Interface", "ConnectToSharedSegment"): "it keeps the shared segment only in the process that created the "
    "fake store, and another usacloud process created this one",
}


def fake_driver_limit(result: RunResult) -> Classification | None:
    """A Go panic inside one of usacloud's fake driver operations (fake mode only): a limit of fake
    mode, class ``fake-limit``; None for anything else (a broken store file stays ``crashed``)."""
    if result.exit_code != 2 or "panic:" not in result.stderr:
        return None
    frame = _panic_frame(result.stderr)
    match = _FAKE_OP_FRAME.match(frame) if frame else None
    if match is None:
        return None
    op = f"{match.group(1)}Op.{match.group(2)}"
    why = FAKE_LIMITS.get((match.group(1), match.group(2)), "an operation it does not support")
    return Classification(
        ResultClass.FAKE_LIMIT, f"usacloud's fake driver panicked in {op}: {why}", HINTS[ResultClass.FAKE_LIMIT]
    )


def _panic_frame(stderr: str) -> str | None:
    """The first function frame of the goroutine that panicked (runtime frames skipped)."""
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("goroutine ") and "[running]" in line), None)
    if start is None:
        return None
    for line in lines[start + 1 :]:
        if not line or line.startswith("\t"):
            continue
        if line.startswith(("panic(", "runtime.")):
            continue
        return line
    return None


def _classify_error(stderr: str, code: int | None) -> Classification:
    message = first_error_line(stderr) or f"exit code {code}"
    status = _STATUS.search(stderr)
    if status and status.group(1) in _STATUS_CLASS:
        cls = _STATUS_CLASS[status.group(1)]
        return Classification(cls, message, HINTS.get(cls))
    if "giving up after" in stderr:
        return Classification(ResultClass.UNAVAILABLE, message, HINTS[ResultClass.UNAVAILABLE])
    if "timed out" in stderr and "deadline exceeded" in stderr:
        return Classification(ResultClass.TIMEOUT, message, HINTS[ResultClass.TIMEOUT])
    if "target resource not found" in stderr:
        return Classification(ResultClass.NOT_FOUND, message, HINTS[ResultClass.NOT_FOUND])
    if "the confirm dialog cannot be used" in stderr:
        return Classification(ResultClass.USAGE, message, CONFIRM_HINT)
    lowered = stderr.lower()
    if any(text in lowered for text in _USAGE_TEXTS):
        return Classification(ResultClass.USAGE, message)
    if status or "error in response" in lowered:
        return Classification(ResultClass.API_ERROR, message)
    return Classification(ResultClass.ERROR, message)


def first_error_line(text: str) -> str:
    """The most telling line of an error output: the first non-blank one, Error lines first; a
    ``validation error:`` line with the problems listed under it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.lower().startswith(("error", "validation error", "panic:")):
            if line.lower() == "validation error:":
                return _with_details(line, lines[index + 1 :])[:500]
            return line[:500]
    return lines[0][:500] if lines else ""


def _with_details(head: str, following: list[str]) -> str:
    """``validation error:`` and the problem lines under it (tab-indented by usacloud), on one line."""
    details = []
    for line in following:
        if not line.startswith(("--", "\t--", "arguments", "profile.")):
            break
        details.append(line.strip())
    return f"{head} {'; '.join(details)}" if details else head


def _messages(text: str) -> list[str]:
    """The messages of an output, one per line, with messages glued to the one before split off."""
    return [part.strip() for line in text.splitlines() for part in _GLUED.split(line) if part.strip()]


def _line_with(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle in line:
            return line.strip()[:500]
    return ""
