"""One command through the token bucket, the runner and the classification, retrying a 429 with
backoff: what fills a command's record with its attempts, status, class and output."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..fakemode import evidence
from ..fakemode.stores import connects_shared_segment
from ..limit.errors import Cancelled, LimiterUnavailable
from ..record.command import Attempt, CommandRecord, tail
from ..record.vocabulary import CommandStatus, ResultClass
from ..usacloud import profiles
from ..usacloud.classify import HINTS, classify, classify_fake
from ..usacloud.mask import Masker
from .runner import RunResult

if TYPE_CHECKING:
    from .execute import Engine

MAX_BACKOFF = 30.0


def execute(
    engine: Engine, words, cmd: CommandRecord, masker: Masker, env: dict, cwd: Path | None, runner=None
) -> RunResult | None:
    """Run ``words`` through the token bucket, the runner and the classification, retrying a 429; fills
    ``cmd``. Returns the last attempt's result (None if it never ran)."""
    runner = runner or engine.command_runner
    argv = [engine.usacloud_bin or words[0], *words[1:]]
    engine.stats.commands += 1
    effect = store = None
    if engine.settings.fake:
        effect, store = evidence.effect(words), evidence.store_path(words, env)
        if store is not None:  # the script's store: the run's seed, or new for a shared-segment first command
            engine.fake_stores().prepare(store, lambda: connects_shared_segment(words, cwd))
    attempt = 0
    while True:
        attempt += 1
        waited, granted = 0.0, None
        limiter = engine.limiter()
        try:
            if limiter is not None:
                token = limiter.acquire(engine.should_stop)
                waited, granted = token.waited, token.granted_at
                engine.stats.tokens += 1
                engine.stats.token_wait += waited
        except Cancelled:
            cmd.status, cmd.cls = CommandStatus.CANCELLED, ResultClass.CANCELLED
            cmd.message = "cancelled while waiting for a rate-limit token"
            return None
        except LimiterUnavailable as exc:
            cmd.status, cmd.cls = CommandStatus.FAILED, ResultClass.LIMITER
            cmd.message, cmd.hint = masker.text(str(exc)), HINTS[ResultClass.LIMITER]
            return None
        cmd.token_wait += waited
        planted = profiles.planted() if profiles.pins(env) else None
        if planted is not None:  # never run usacloud where it could read a profile a script left
            cmd.status, cmd.cls = CommandStatus.FAILED, ResultClass.ERROR
            cmd.message = f"not run: {planted}; the sandbox points usacloud there so that it reads no profile"
            return None
        engine.stats.attempts += 1
        before = evidence.fingerprint(store) if effect is not None else None
        result = runner(
            argv,
            env,
            engine.settings.command_timeout,
            engine.should_stop,
            children=engine.children,
            cwd=None if cwd is None else str(cwd),
        )
        if engine.settings.fake:  # a timeout after a visible change counts as done (never retried)
            changed = result.timed_out and before is not None and evidence.fingerprint(store) != before
            classified = classify_fake(result, effect, changed)
        else:
            classified = classify(result)
        cmd.attempts.append(Attempt(result.started, result.ended, result.exit_code, classified.cls, waited, granted))
        if cmd.start is None:
            cmd.start = result.started
        cmd.end, cmd.exit_code = result.ended, result.exit_code
        cmd.duration = cmd.end - cmd.start
        cmd.stdout_tail = tail(masker.text(result.stdout))
        cmd.stderr_tail = tail(masker.text(result.stderr))
        cmd.cls, cmd.message, cmd.hint = classified.cls, masker.text(classified.message), classified.hint
        if classified.cls == ResultClass.RATE_LIMITED and attempt <= engine.settings.retries:
            engine.stats.retries += 1
            if backoff(engine, attempt):
                continue
            cmd.status, cmd.cls = CommandStatus.CANCELLED, ResultClass.CANCELLED
            return result
        break
    if classified.cls == ResultClass.CANCELLED:
        cmd.status = CommandStatus.CANCELLED
    elif classified.ok:
        cmd.status = CommandStatus.OK  # a fake-mode hang after a visible effect too (class fake-hang)
    elif classified.cls == ResultClass.FAKE_LIMIT:
        cmd.status = CommandStatus.UNSUPPORTED
    else:
        cmd.status = CommandStatus.FAILED
        if classified.cls == ResultClass.RATE_LIMITED:
            cmd.message = f"still rate-limited (429) after {attempt} attempts: {cmd.message}"
    return result


def backoff(engine: Engine, attempt: int) -> bool:
    """Sleep before a retry; False if the stop signal came meanwhile."""
    delay = min(MAX_BACKOFF, engine.settings.retry_backoff * 2 ** (attempt - 1))
    deadline = time.monotonic() + delay * random.uniform(0.5, 1.5)
    while time.monotonic() < deadline:
        if engine.should_stop():
            return False
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return not engine.stop()
