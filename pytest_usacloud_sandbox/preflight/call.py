"""The preflight call: ``usacloud version``, then ``usacloud auth-status -o json`` made once per run,
before any script (on the controller, before xdist starts its workers), exactly as a script's
command runs: offline check, policy, fake mode's dummies, a rate token, the Engine's environment.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from ..fakemode.credentials import SECRET_ENV, TOKEN_ENV
from ..record.command import CommandRecord
from ..record.preflight import ARGV, COMMAND, Preflight
from ..record.vocabulary import PreflightCause
from ..run.execute import VERSION_TIMEOUT, Engine, WorkerStats
from ..script.parse import Command
from ..usacloud.commands import USACLOUD_VERSION
from ..usacloud.mask import Masker
from .verdict import SUPPORTED_SERIES, failed, judge, version_number

#: The longest the call may take: usacloud retries an unreachable API silently for minutes.
TIMEOUT = 60.0


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
        return failed(PreflightCause.MISSING, message, version, t0, warning)
    if number is None or not number.startswith(SUPPORTED_SERIES):
        return failed(PreflightCause.VERSION, f"usacloud {version} is not {SUPPORTED_SERIES}x", version, t0, warning)
    cmd = _call(engine, env, cwd)
    # a key in the environment, or one a profile may give: a 401 then means a bad key, not none
    keyed = engine.settings.allow_profiles or (
        any(env.get(n) for n in TOKEN_ENV) and any(env.get(n) for n in SECRET_ENV)
    )
    return judge(cmd, keyed, version, t0, warning, TIMEOUT)


def _call(engine: Engine, env: dict[str, str], cwd: Path) -> CommandRecord:
    """``usacloud auth-status -o json`` as a script's command (its own counters, a shorter timeout)."""
    s = engine.settings
    settings = replace(s, timeout=min(s.timeout, TIMEOUT), fake_timeout=min(s.fake_timeout, TIMEOUT))
    engine.limiter()  # made on the engine itself, which closes it: the copy below shares it
    one = replace(engine, settings=settings, stats=WorkerStats(), publish=None)
    words = ("usacloud", *ARGV)
    command = Command(line=0, end_line=0, text=COMMAND, words=words, expansion=None, nested=False)
    return one.run_one(command, Masker.for_commands(engine.base_env, [command]), env, cwd)
