"""Run one script's commands in order: offline check -> policy -> token -> runner -> outcome.

The script stops at its first failing command, like `set -e`; the commands after it are recorded
as not run. A stop signal cancels the script before a command, while it waits for a token, while a
command runs and during a retry's backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..limit.errors import Cancelled, LimiterUnavailable
from ..script.parse import Command, ParsedScript
from ..settings import Settings
from ..state import records as rec
from ..state.children import Children
from ..state.stop import StopSignal
from ..usacloud import fake
from ..usacloud import outcome as oc
from ..usacloud.check import check_command
from ..usacloud.mask import SECRET_ENV, Masker
from ..usacloud.policy import Policy, sandbox_env
from .fakestore import PROFILE_DIR, SEED_ARGV, FakeStores
from .runner import RunResult, run_command

if TYPE_CHECKING:  # the limiter itself is imported by whoever makes one (limiter_factory)
    from ..limit.bucket import TokenLimiter

MAX_BACKOFF = 30.0


@dataclass
class WorkerStats:
    """What one process did; sent to the controller through workeroutput."""

    commands: int = 0
    attempts: int = 0
    tokens: int = 0
    token_wait: float = 0.0
    retries: int = 0
    refused: int = 0

    def add(self, other: dict) -> None:
        for key, value in other.items():
            if hasattr(self, key):
                setattr(self, key, getattr(self, key) + value)


@dataclass
class Engine:
    """Per-process resources shared by every script this process runs."""

    settings: Settings
    usacloud_bin: str | None  # None in dry-run without a binary
    stop: StopSignal
    base_env: Mapping[str, str]
    run_dir: Path
    worker: str = "main"
    children: Children = field(default_factory=Children)  # this process's running process groups
    limiter_factory: Callable[[], TokenLimiter] | None = None
    publish: Callable[[WorkerStats, bool], None] | None = None  # live counters for the controller
    stats: WorkerStats = field(default_factory=WorkerStats)
    _limiter: TokenLimiter | None = None
    _fake_stores: FakeStores | None = None
    # shell mode (shell.py/broker.py) swaps in a runner that runs the command inside the shim
    command_runner: Callable[..., RunResult] = run_command

    def policy(self, cwd: Path | None = None) -> Policy:
        """The safety policy for commands that run in ``cwd`` (None: this process's directory)."""
        s = self.settings
        return Policy(s.allow_dangerous, s.allow_global_writes, fake=s.fake, cwd=cwd, home=self.base_env.get("HOME"))

    def limiter(self) -> TokenLimiter | None:
        if self._limiter is None and self.limiter_factory is not None:
            self._limiter = self.limiter_factory()
        return self._limiter

    def close(self) -> None:
        if self._limiter is not None:
            self._limiter.close()
            self._limiter = None

    def fake_stores(self) -> FakeStores:
        """Fake mode's per-script stores, seeded once per run (shared by copies of this engine)."""
        if self._fake_stores is None:
            seed = None if self.settings.dry_run or not self.usacloud_bin else self._seed_command
            self._fake_stores = FakeStores(self.run_dir, seed, self.stop, self.worker)
        return self._fake_stores

    def _seed_command(self, store: Path) -> RunResult:
        env = self._child_env(store)
        return run_command(
            [self.usacloud_bin or "usacloud", *SEED_ARGV], env, self.settings.timeout, self.stop, children=self.children
        )

    def empty_profile_dir(self) -> Path:
        """Where usacloud looks for profiles unless --usacloud-allow-profiles: an empty directory of the run."""
        path = self.run_dir / PROFILE_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _child_env(self, store: Path | None) -> dict[str, str]:
        profiles = None if self.settings.allow_profiles else self.empty_profile_dir()
        env = sandbox_env(self.base_env, store, profiles)
        if self.settings.fake:
            env = fake.apply_env(env, self.fake_stores().profile_dir)
        return env

    def env_for(self, nodeid: str | None) -> dict[str, str]:
        """A usacloud child's environment for the script ``nodeid`` (None: a call outside any script).

        The sandbox's pins over pytest's environment; in fake mode also the script's own fake store
        (a copy of the run's seeded store) and dummy credentials instead of the user's.
        """
        store = None
        if self.settings.fake and nodeid is not None:
            store = self.fake_stores().store_for(nodeid)
        return self._child_env(store)

    def pins(self, env: dict[str, str]) -> dict[str, str]:
        """The variables of ``env`` (from :meth:`env_for`) that are laid over every call of a shell-mode
        script: the zone, the empty profile directory (unless --usacloud-allow-profiles), fake mode and
        its store, the credentials (dummies in fake mode)."""
        names = set(sandbox_env({}, Path("store"), None if self.settings.allow_profiles else Path("profiles")))
        names |= set(SECRET_ENV)
        if self.settings.fake:
            names |= set(fake.dummy_env(Path("profiles")))
        return {name: env[name] for name in sorted(names) if name in env}

    def run(self, script: ParsedScript, record: rec.ScriptRecord) -> rec.ScriptRecord:
        """Fill ``record`` with the script's commands; the caller turns it into pass/fail/skip."""
        masker = Masker.for_commands(self.base_env, script.commands)
        env = self.env_for(record.nodeid)
        # usacloud runs in the script's directory: a relative --parameters or -d file is read there,
        # by the offline check, by the policy and by usacloud alike
        base_dir = Path(record.path).parent
        record.skipped_lines = len(script.skipped)
        record.start = time.time()
        try:
            halted = failed = False
            for command in script.commands:
                cmd = rec.CommandRecord(line=command.line, text=masker.text(command.text))
                record.commands.append(cmd)
                if halted or (failed and not self.settings.dry_run):
                    continue  # not run: after the first failure, or after a cancel
                if self.stop():
                    cmd.status, cmd.cls = rec.CANCELLED, oc.CANCELLED
                else:
                    self._one(command, cmd, masker, env, base_dir)
                if cmd.status == rec.CANCELLED:
                    record.status, halted = "cancelled", True
                elif cmd.failed and not failed:
                    failed = True
                    record.status, record.cls, record.line = "failed", cmd.cls, cmd.line
                    record.message = cmd.message
                if self.publish is not None:
                    self.publish(self.stats, False)
        finally:
            record.end = time.time()
            if self.publish is not None:  # throttled too: the script's record brings its counts with it
                self.publish(self.stats, False)
        return record

    def run_one(self, command: Command, masker: Masker, env: dict, cwd: Path | None = None) -> rec.CommandRecord:
        """One command through check, policy, token, runner and outcome (shell mode's broker);
        ``cwd``: the caller's directory, where usacloud will run."""
        cmd = rec.CommandRecord(line=command.line, text=masker.text(command.text))
        if self.stop():
            cmd.status, cmd.cls = rec.CANCELLED, oc.CANCELLED
        else:
            self._one(command, cmd, masker, env, cwd)
        return cmd

    def _one(
        self, command: Command, cmd: rec.CommandRecord, masker: Masker, env: dict, cwd: Path | None = None
    ) -> None:
        if command.expansion is not None:
            cmd.status = rec.SKIPPED
            cmd.message = f"needs shell expansion: {masker.text(command.expansion)}"
            cmd.words = list(masker.words(command.words))
            return
        # The offline check reads the words as written (a bad zone is a bad zone even though the
        # policy pins it); only then does the policy rewrite them for execution. Both are kept.
        findings = check_command(command.words, cwd, self.base_env.get("HOME"))
        cmd.findings = [
            {
                "severity": f.severity,
                "code": f.code,
                "word": masker.text(f.word),
                "message": masker.text(f.message),
                "fix": masker.text(f.fix) if f.fix else f.fix,
            }
            for f in findings
        ]
        errors = "; ".join(masker.text(f.message) for f in findings if f.severity == "error")
        planned = self.policy(cwd).apply(command.words, command.assignments)
        cmd.written = list(masker.words(command.words))
        cmd.words = list(masker.words(planned.words))
        cmd.zone_rewritten = planned.zone_rewritten
        if planned.refusal is not None:
            cmd.status, cmd.cls = rec.REFUSED, oc.REFUSED
            cmd.message = masker.text(planned.refusal.describe())  # it may quote the script's words
            if errors:
                cmd.message += f"; the offline check also fails it: {errors}"
            self.stats.refused += 1
            return
        if errors:
            cmd.status, cmd.cls = rec.INVALID, oc.USAGE
            cmd.message = errors
            cmd.hint = "found by the offline check against usacloud's command tree; nothing was sent"
            return
        if self.settings.dry_run:
            cmd.status = rec.DRY_RUN
            return
        words = fake.dummy_words(planned.words) if self.settings.fake else planned.words
        self._execute(words, cmd, masker, {**env, **planned.env}, cwd)  # allowed VAR=value prefixes

    def _execute(self, words, cmd: rec.CommandRecord, masker: Masker, env: dict, cwd: Path | None) -> None:
        argv = [self.usacloud_bin or words[0], *words[1:]]
        self.stats.commands += 1
        effect = fake.effect(words) if self.settings.fake else None
        store = fake.store_path(words, env) if effect is not None else None
        attempt = 0
        while True:
            attempt += 1
            waited, granted = 0.0, None
            limiter = self.limiter()
            try:
                if limiter is not None:
                    token = limiter.acquire(self.stop)
                    waited, granted = token.waited, token.granted_at
                    self.stats.tokens += 1
                    self.stats.token_wait += waited
            except Cancelled:
                cmd.status, cmd.cls = rec.CANCELLED, oc.CANCELLED
                cmd.message = "cancelled while waiting for a rate-limit token"
                return
            except LimiterUnavailable as exc:
                cmd.status, cmd.cls = rec.FAILED, oc.LIMITER
                cmd.message, cmd.hint = masker.text(str(exc)), oc.HINTS[oc.LIMITER]
                return
            cmd.token_wait += waited
            self.stats.attempts += 1
            before = fake.fingerprint(store)
            result = self.command_runner(
                argv,
                env,
                self.settings.command_timeout,
                self.stop,
                children=self.children,
                cwd=None if cwd is None else str(cwd),
            )
            if self.settings.fake:  # a timeout after a visible change counts as done (never retried)
                changed = result.timed_out and store is not None and fake.fingerprint(store) != before
                outcome = oc.classify_fake(result, effect, changed)
            else:
                outcome = oc.classify(result)
            cmd.attempts.append(
                rec.Attempt(result.started, result.ended, result.exit_code, outcome.cls, waited, granted)
            )
            if cmd.start is None:
                cmd.start = result.started
            cmd.end, cmd.exit_code = result.ended, result.exit_code
            cmd.duration = cmd.end - cmd.start
            cmd.stdout_tail = rec.tail(masker.text(result.stdout))
            cmd.stderr_tail = rec.tail(masker.text(result.stderr))
            cmd.cls, cmd.message, cmd.hint = outcome.cls, masker.text(outcome.message), outcome.hint
            if outcome.cls == oc.RATE_LIMITED and attempt <= self.settings.retries:
                self.stats.retries += 1
                if self._backoff(attempt):
                    continue
                cmd.status, cmd.cls = rec.CANCELLED, oc.CANCELLED
                return
            break
        if outcome.cls == oc.CANCELLED:
            cmd.status = rec.CANCELLED
        elif outcome.ok:
            cmd.status = rec.RAN  # a fake-mode hang after a visible effect too (class fake-hang)
        else:
            cmd.status = rec.FAILED
            if outcome.cls == oc.RATE_LIMITED:
                cmd.message = f"still rate-limited (429) after {attempt} attempts: {cmd.message}"

    def _backoff(self, attempt: int) -> bool:
        """Sleep before a retry; False if the stop signal came meanwhile."""
        delay = min(MAX_BACKOFF, self.settings.retry_backoff * 2 ** (attempt - 1))
        deadline = time.monotonic() + delay * random.uniform(0.5, 1.5)
        while time.monotonic() < deadline:
            if self.stop():
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return not self.stop()
