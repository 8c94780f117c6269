"""The preflight's verdict: what ``usacloud version`` and ``usacloud auth-status -o json`` printed
says about the run's usacloud and key, as a :class:`Preflight` with its cause and a hint.

The call must succeed, print no error and print the account as JSON; anything else names the cause.
"""

from __future__ import annotations

import json
import time

from ..record.command import CommandRecord
from ..record.preflight import Preflight
from ..record.vocabulary import CommandStatus, PreflightCause, ResultClass
from ..usacloud.classify import HINTS
from ..usacloud.commands import USACLOUD_VERSION

_DEPRECATED = "auth-status is deprecated"  # auth-status's own warning: no news
SUPPORTED_SERIES = ".".join(USACLOUD_VERSION.split(".")[:2]) + "."  # "1.22."
#: Texts of Go's network errors: the API could not be reached at all.
_UNREACHABLE = (
    "dial tcp",
    "connection refused",
    "no such host",
    "network is unreachable",
    "i/o timeout",
    "tls:",
    "x509:",
    "giving up after",
    "context deadline exceeded",
)


_HINTS = {
    PreflightCause.MISSING: "install usacloud 1.22.x, or point --usacloud-bin (ini usacloud_bin) at it",
    PreflightCause.VERSION: f"the plugin's command table is usacloud {USACLOUD_VERSION}'s: "
    f"install usacloud {SUPPORTED_SERIES}x",
    PreflightCause.NO_CREDENTIALS: "set SAKURACLOUD_ACCESS_TOKEN and SAKURACLOUD_ACCESS_TOKEN_SECRET in pytest's "
    "environment (profiles are read only with --usacloud-allow-profiles), or run --usacloud-fake",
    PreflightCause.BAD_KEY: "the API key was refused: check SAKURACLOUD_ACCESS_TOKEN / SAKURACLOUD_ACCESS_TOKEN_SECRET",
    PreflightCause.FORBIDDEN: "the API key may not read its own account: check its permissions in the control panel",
    PreflightCause.UNREACHABLE: "usacloud could not reach Sakura's API: check the network, a proxy, "
    "SAKURACLOUD_API_ROOT_URL",
    PreflightCause.PROFILE: "usacloud could not load its profile: without --usacloud-allow-profiles it sees none; "
    "with it, check SAKURACLOUD_PROFILE and ~/.usacloud",
    PreflightCause.RATE_LIMITED: "the API refused for rate (429): wait, or lower --usacloud-rate",
    PreflightCause.NO_OUTPUT: "usacloud did nothing and said nothing (or only an error while exiting 0): check its "
    "configuration (profile, SAKURACLOUD_* settings)",
    PreflightCause.LIMITER: HINTS[ResultClass.LIMITER],
}
_CAUSE_OF_CLASS = {
    ResultClass.MISSING_BINARY: PreflightCause.MISSING,
    ResultClass.PERMISSION: PreflightCause.FORBIDDEN,
    ResultClass.RATE_LIMITED: PreflightCause.RATE_LIMITED,
    ResultClass.UNAVAILABLE: PreflightCause.UNREACHABLE,
    ResultClass.TIMEOUT: PreflightCause.UNREACHABLE,
    ResultClass.LIMITER: PreflightCause.LIMITER,
    ResultClass.CANCELLED: PreflightCause.CANCELLED,
}


def version_number(text: str | None) -> str | None:
    """``1.22.8`` from what ``usacloud version`` prints (``1.22.8 linux/amd64, build abc``)."""
    if not text:
        return None
    first = text.split()[0].removeprefix("v")
    return first if first[:1].isdigit() else None


def judge(cmd: CommandRecord, keyed: bool, version: str, t0: float, warning: str | None, timeout: float) -> Preflight:
    """The verdict on the call ``cmd`` (``keyed``: a key was given, so a 401 means a bad one)."""
    said = _first_line(cmd.stderr_tail)
    if cmd.status != CommandStatus.OK or cmd.cls != ResultClass.OK:
        cause = _cause(cmd, keyed)
        message = cmd.message if cmd.message and _DEPRECATED not in cmd.message else said
        message = message or f"{cmd.status}, exit code {cmd.exit_code}"
        if cmd.cls == ResultClass.TIMEOUT:
            message = f"no answer within {cmd.duration or timeout:.0f}s ({message})"
        return failed(cause, message, version, t0, warning)
    if not cmd.stdout_tail.strip():
        cause = PreflightCause.PROFILE if _about_profile(cmd.stderr_tail) else PreflightCause.NO_OUTPUT
        message = "usacloud exited 0 and printed nothing" + (f"; it said: {said}" if said else "")
        return failed(cause, message, version, t0, warning)
    account = _account(cmd.stdout_tail)
    if account is None:
        return failed(
            PreflightCause.ERROR, f"not the account as JSON: {_first_line(cmd.stdout_tail)}", version, t0, warning
        )
    return Preflight(PreflightCause.OK, account, version, time.monotonic() - t0, warning)


def _cause(cmd: CommandRecord, keyed: bool) -> PreflightCause:
    text = f"{cmd.message}\n{cmd.stderr_tail}"
    if cmd.cls == ResultClass.AUTH:
        return PreflightCause.BAD_KEY if keyed else PreflightCause.NO_CREDENTIALS
    if _about_profile(text):
        return PreflightCause.PROFILE
    if cmd.cls in _CAUSE_OF_CLASS:
        return _CAUSE_OF_CLASS[cmd.cls]
    if any(t in text.lower() for t in _UNREACHABLE):
        return PreflightCause.UNREACHABLE
    return PreflightCause.ERROR


def _about_profile(text: str) -> bool:
    lowered = text.lower()
    return "profile" in lowered or "config.json" in lowered


def _account(stdout: str) -> str | None:
    """What the account's JSON says that is no secret (its permission), or None if it is not one."""
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if not (isinstance(data, list) and data and isinstance(data[0], dict)):
        return None
    permission = data[0].get("Permission")
    return f"the key reads its account (permission: {permission})" if permission else "the key reads its account"


def failed(cause: PreflightCause, message: str, version: str | None, t0: float, warning: str | None) -> Preflight:
    return Preflight(cause, message, version, time.monotonic() - t0, warning, _HINTS.get(cause))


def _first_line(text: str) -> str:
    """The first line that says something (auth-status's own deprecation warning is no news)."""
    lines = (line.strip() for line in text.splitlines())
    return next((line for line in lines if line and _DEPRECATED not in line), "")[:300]
