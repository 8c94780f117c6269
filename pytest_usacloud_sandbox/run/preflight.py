"""The preflight: before any script runs, one read-only usacloud call that needs valid credentials.

A misconfigured run must not be a run of silent no-ops, nor one failure per script: usacloud exits
0 on some errors (a missing profile, for one), real mode with no key or a dead API endpoint makes
no up-front error, and a usacloud other than the one the command table describes reads scripts
differently. So once per run, before any script's first command (on the controller, before xdist
starts its workers), the run asks ``usacloud version`` and makes one call, ``usacloud auth-status
-o json``, exactly as a script's command would run: through the offline check, the sandbox policy
and fake mode's dummy words, with a rate-limit token, in the environment the Engine gives every
usacloud child (``env_for``: the zone pins, the empty profile directory, fake mode's dummy keys),
the same binary, timeout handling and masking. auth-status reads the API key's own account (it
needs valid credentials for real, and works in fake mode).

The call must succeed, print no error, and print the account as JSON: a failure, an error line, or
an exit 0 with nothing printed ends the session before any script runs, with one message naming
the cause (:class:`PreflightCause`). The result (and usacloud's version) goes to the summary and the report.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from ..record.command import CommandRecord
from ..record.preflight import ARGV, COMMAND, Preflight
from ..record.vocabulary import CommandStatus, PreflightCause, ResultClass
from ..script.parse import Command
from ..usacloud.classify import HINTS
from ..usacloud.commands import USACLOUD_VERSION
from ..usacloud.fake import SECRET_ENV, TOKEN_ENV
from ..usacloud.mask import Masker
from .execute import VERSION_TIMEOUT, Engine, WorkerStats

#: The longest the call may take: usacloud retries an unreachable API silently for minutes.
TIMEOUT = 60.0
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


def check(engine: Engine, cwd: Path, version: str | None) -> Preflight:
    """Judge ``version`` (what ``usacloud version`` printed, None: nothing) and make the preflight call
    in ``cwd`` (see the module)."""
    env = engine.env_for(None)
    t0 = time.monotonic()
    number = version_number(version)
    warning = None
    if number is not None and number != USACLOUD_VERSION:
        warning = (
            f"usacloud {number} is installed; the plugin's command table (offline check, policy) is "
            f"usacloud {USACLOUD_VERSION}'s"
        )
    if version is None:
        message = f"`{engine.usacloud_bin} version` failed or printed no version within {VERSION_TIMEOUT:g}s"
        return _failed(PreflightCause.MISSING, message, version, t0, warning)
    if number is None or not number.startswith(SUPPORTED_SERIES):
        return _failed(PreflightCause.VERSION, f"usacloud {version} is not {SUPPORTED_SERIES}x", version, t0, warning)
    cmd = _call(engine, env, cwd)
    # a key in the environment, or one a profile may give: a 401 then means a bad key, not none
    keyed = engine.settings.allow_profiles or (
        any(env.get(n) for n in TOKEN_ENV) and any(env.get(n) for n in SECRET_ENV)
    )
    return _judge(cmd, keyed, version, t0, warning)


def _call(engine: Engine, env: dict[str, str], cwd: Path) -> CommandRecord:
    """``usacloud auth-status -o json`` as a script's command (its own counters, a shorter timeout)."""
    s = engine.settings
    settings = replace(s, timeout=min(s.timeout, TIMEOUT), fake_timeout=min(s.fake_timeout, TIMEOUT))
    engine.limiter()  # made on the engine itself, which closes it: the copy below shares it
    one = replace(engine, settings=settings, stats=WorkerStats(), publish=None)
    words = ("usacloud", *ARGV)
    command = Command(line=0, end_line=0, text=COMMAND, words=words, expansion=None, nested=False)
    return one.run_one(command, Masker.for_commands(engine.base_env, [command]), env, cwd)


def _judge(cmd: CommandRecord, keyed: bool, version: str, t0: float, warning: str | None) -> Preflight:
    said = _first_line(cmd.stderr_tail)
    if cmd.status != CommandStatus.OK or cmd.cls != ResultClass.OK:
        cause = _cause(cmd, keyed)
        message = cmd.message if cmd.message and _DEPRECATED not in cmd.message else said
        message = message or f"{cmd.status}, exit code {cmd.exit_code}"
        if cmd.cls == ResultClass.TIMEOUT:
            message = f"no answer within {cmd.duration or TIMEOUT:.0f}s ({message})"
        return _failed(cause, message, version, t0, warning)
    if not cmd.stdout_tail.strip():
        cause = PreflightCause.PROFILE if _about_profile(cmd.stderr_tail) else PreflightCause.NO_OUTPUT
        message = "usacloud exited 0 and printed nothing" + (f"; it said: {said}" if said else "")
        return _failed(cause, message, version, t0, warning)
    account = _account(cmd.stdout_tail)
    if account is None:
        return _failed(
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


def _failed(cause: PreflightCause, message: str, version: str | None, t0: float, warning: str | None) -> Preflight:
    return Preflight(cause, message, version, time.monotonic() - t0, warning, _HINTS.get(cause))


def _first_line(text: str) -> str:
    """The first line that says something (auth-status's own deprecation warning is no news)."""
    lines = (line.strip() for line in text.splitlines())
    return next((line for line in lines if line and _DEPRECATED not in line), "")[:300]
