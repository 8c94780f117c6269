"""Run one script's commands in order: offline check -> policy -> token -> runner -> result class.

The script stops at its first failing command, like `set -e`; the commands after it are recorded
as not run. A stop signal cancels the script before a command, while it waits for a token, while a
command runs and during a retry's backoff.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..fakemode import credentials
from ..fakemode.stores import SEED_ARGV, FakeStores
from ..record.command import CommandRecord
from ..record.script import ScriptRecord, SkippedCheck
from ..record.vocabulary import CommandStatus, ResultClass, ScriptOutcome
from ..report.reprs import shown
from ..script.parse import Command, ParsedScript
from ..settings import Settings
from ..state.children import Children
from ..state.stop import StopSignal
from ..usacloud import profiles
from ..usacloud.classify import HINTS
from ..usacloud.mask import SECRET_ENV, Masker
from ..usacloud.plan import plan_command
from ..usacloud.policy import Planned, Policy, sandbox_env
from . import attempt
from .runner import RunResult, run_command

if TYPE_CHECKING:  # the limiter itself is imported by whoever makes one (limiter_factory)
    from ..limit.bucket import TokenLimiter

VERSION_TIMEOUT = 5.0  # seconds `usacloud version` may take (it makes no API call)
INTERNAL_TAIL = 4 * 1024 * 1024  # bytes of output kept for the plugin's own calls (listings it reads)


class CommandHooks(Protocol):
    """What the Engine asks around each command (cleanup's: ``cleanup.hooks.CleanupHooks``)."""

    def mark(self, words: Sequence[str], cwd: Path | None, script: str | None) -> Any:
        """The words to run (``.words``) or why not (``.refusal``): a create gets the run's tag."""

    def record(self, cmd: CommandRecord, masker: Masker, marked: Any) -> bool:
        """Put the marked words in ``cmd``; False, with ``cmd`` refused, when the create may not run."""

    def guard(self, words: Sequence[str], env: Mapping[str, str], lister: Callable) -> Any:
        """A dangerous or changing command's words with its targets resolved (``.words``), or ``.refusal`` /
        ``.failed`` / ``.missing``."""

    def started(self, marked: Any, script: str | None, line: int) -> dict | None: ...

    def script_env(self, nodeid: str) -> dict[str, str]:
        """Variables a shell-mode script gets (the run's id, the script's id)."""

    def finished(self, entry: dict | None, cmd: CommandRecord, stdout: str) -> None: ...

    def changed(self, guarded: Any, cmd: CommandRecord, stdout: str) -> None:
        """A checked command ran: the new IDs an update printed for what it replaced are the run's."""


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


@dataclass(repr=False)
class Engine:
    """Per-process resources shared by every script this process runs.

    Its repr names no variable: ``base_env`` holds the API key (and pytest's ``-l`` prints locals).
    """

    settings: Settings
    usacloud_bin: str | None  # None in dry-run without a binary
    stop: StopSignal
    base_env: Mapping[str, str]
    run_dir: Path
    worker: str = "main"
    children: Children = field(default_factory=Children)  # this process's running process groups
    limiter_factory: Callable[[], TokenLimiter] | None = None
    publish: Callable[[WorkerStats, bool], None] | None = None  # live counters for the controller
    #: called on the process's main thread from each loop that waits (a token, a command, a backoff):
    #: a lone process's live progress is written from there
    on_poll: Callable[[], object] | None = None
    stats: WorkerStats = field(default_factory=WorkerStats)
    _limiter: TokenLimiter | None = None
    _fake_stores: FakeStores | None = None
    # shell mode (shell.py/broker.py) swaps in a runner that runs the command inside the shim
    command_runner: Callable[..., RunResult] = run_command
    # shell mode's calls: usacloud writes to the script's own files, unmasked (the policy refuses --trace)
    output_to_script: bool = False
    cleanup: CommandHooks | None = None  # tags creates, checks what deletes touch, notes what was made

    def __repr__(self) -> str:
        s = self.settings
        return f"Engine(worker={self.worker!r}, mode={s.mode!r}, dry_run={s.dry_run}, fake={s.fake})"

    def should_stop(self) -> bool:
        """The stop signal, as the loops that wait ask it (on the main thread, after :meth:`tick`)."""
        self.tick()
        return bool(self.stop())

    def tick(self) -> None:
        """Let the live progress write, if this is the main thread (:attr:`on_poll`)."""
        if self.on_poll is not None and threading.current_thread() is threading.main_thread():
            try:
                self.on_poll()
            except Exception:
                pass  # progress never fails a script

    def policy(self, cwd: Path | None = None, root: Path | None = None) -> Policy:
        """The safety policy for commands that run in ``cwd`` (None: this process's directory) for the
        script in ``root`` (the files usacloud reads or writes must lie under it; None: ``cwd``)."""
        s = self.settings
        return Policy(
            s.allow_dangerous,
            s.allow_global_writes,
            fake=s.fake,
            cwd=cwd,
            home=self.base_env.get("HOME"),
            root=root,
            private=(self.run_dir,),
            output_to_script=self.output_to_script,
            allow_profiles=s.allow_profiles,
        )

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

    def _child_env(self, store: Path | None) -> dict[str, str]:
        # unless --usacloud-allow-profiles, usacloud is pointed at a place with no profile that nothing
        # can write, and no profile is named (:mod:`..usacloud.profiles`, :func:`..usacloud.policy.sandbox_env`)
        none = None if self.settings.allow_profiles else profiles.NO_PROFILES
        env = sandbox_env(self.base_env, store, none)
        if self.settings.fake:
            env = credentials.apply_env(env)
        return env

    def env_for(self, nodeid: str | None, fresh: bool = True) -> dict[str, str]:
        """A usacloud child's environment for the script ``nodeid`` (None: a call outside any script).

        The sandbox's pins over pytest's environment; in fake mode also the script's own fake store
        (a fresh copy of the run's seeded store; with ``fresh`` False the store as the script left it)
        and dummy credentials instead of the user's.
        """
        store = None
        if self.settings.fake and nodeid is not None:
            stores = self.fake_stores()
            store = stores.store_for(nodeid) if fresh else stores.path_for(nodeid)
        env = self._child_env(store)
        if self.settings.fake and store is None:  # outside any script (the preflight): the fake driver, no store
            env.update(credentials.MODE_ENV)
        return env

    def usacloud_version(self, timeout: float = VERSION_TIMEOUT) -> str | None:
        """``usacloud version`` with a script's environment (dummy keys in fake mode), as one of the
        run's children (its process group dies at the timeout); None without a binary or an answer."""
        if not self.usacloud_bin:
            return None
        result = run_command([self.usacloud_bin, "version"], self.env_for(None), timeout, children=self.children)
        first = next((line.strip() for line in result.stdout.splitlines() if line.strip()), "")
        return first[:100] if result.exit_code == 0 and first else None

    def pins(self, env: dict[str, str]) -> dict[str, str]:
        """The variables of ``env`` (from :meth:`env_for`) that are laid over every call of a shell-mode
        script: the zone, the place with no profiles (unless --usacloud-allow-profiles), fake mode and
        its store, the credentials (dummies in fake mode). The profile names are not among them: ``env``
        has none, and a call's own variables never add one (the environment allow-list refuses them)."""
        names = set(sandbox_env({}, Path("store"), None if self.settings.allow_profiles else profiles.NO_PROFILES))
        names |= set(SECRET_ENV)
        if self.settings.fake:
            names |= set(credentials.dummy_env())
        return {name: env[name] for name in sorted(names) if name in env}

    def run(self, script: ParsedScript, record: ScriptRecord) -> ScriptRecord:
        """Fill ``record`` with the script's commands; the caller turns it into pass/fail/skip."""
        masker = Masker.for_commands(self.base_env, script.commands)
        env = self.env_for(record.nodeid)
        # usacloud runs in the script's directory: a relative --parameters or -d file is read there,
        # by the offline check, by the policy and by usacloud alike
        base_dir = Path(record.path).parent
        record.skipped_lines = len(script.skipped)
        record.skipped_checks = [SkippedCheck(c.line, masker.text(c.text), c.reason) for c in script.checks]
        record.start = time.time()
        try:
            halted = failed = False
            for command in script.commands:
                cmd = CommandRecord(line=command.line, text=masker.text(command.text))
                record.commands.append(cmd)
                if halted or (failed and not self.settings.dry_run):
                    continue  # not run: after the first failure, or after a cancel
                if self.stop():
                    cmd.status, cmd.cls = CommandStatus.CANCELLED, ResultClass.CANCELLED
                else:
                    self._one(command, cmd, masker, env, base_dir, record.nodeid)
                if cmd.status == CommandStatus.CANCELLED:
                    record.status, halted = ScriptOutcome.CANCELLED, True
                elif cmd.status == CommandStatus.UNSUPPORTED:
                    # fake mode cannot go on: skipped, never failed nor passed
                    record.status, halted = ScriptOutcome.SKIPPED, True
                    record.cls, record.line = ResultClass.FAKE_LIMIT, cmd.line
                    record.message = fake_limit_reason(cmd)
                elif cmd.failed and not failed:
                    failed = True
                    record.status, record.cls, record.line = ScriptOutcome.FAILED, cmd.cls, cmd.line
                    record.message = cmd.message
                if self.publish is not None:
                    self.publish(self.stats, False)
        finally:
            record.end = time.time()
            if self.publish is not None:  # throttled too: the script's record brings its counts with it
                self.publish(self.stats, False)
        return record

    def run_one(
        self,
        command: Command,
        masker: Masker,
        env: dict,
        cwd: Path | None = None,
        script: str | None = None,
        root: Path | None = None,
    ) -> CommandRecord:
        """One command through check, policy, token, runner and classification (shell mode's broker);
        ``cwd``: the caller's directory, where usacloud will run; ``script``: the node id it runs for;
        ``root``: the script's directory."""
        cmd = CommandRecord(line=command.line, text=masker.text(command.text))
        if self.stop():
            cmd.status, cmd.cls = CommandStatus.CANCELLED, ResultClass.CANCELLED
        else:
            self._one(command, cmd, masker, env, cwd, script, root)
        return cmd

    def call(
        self, words: Sequence[str], env: Mapping[str, str], masker: Masker
    ) -> tuple[CommandRecord, RunResult | None]:
        """One of the plugin's own usacloud calls (a listing, the teardown's deletes): no policy, but the
        token, the 429 retries, the timeout and a record, like a script's command. It runs in the run's
        own directory (no script's file can change what it reads); its output is kept, not forwarded,
        for the caller to read."""
        words = tuple(words)
        cmd = CommandRecord(line=0, text=masker.text(shown(words)), words=list(masker.words(words)))
        cmd.written = list(cmd.words)
        if self.stop():
            cmd.status, cmd.cls = CommandStatus.CANCELLED, ResultClass.CANCELLED
            return cmd, None
        runner = functools.partial(run_command, tail_bytes=INTERNAL_TAIL)
        return cmd, attempt.execute(self, words, cmd, masker, dict(env), self.run_dir, runner)

    def _one(
        self,
        command: Command,
        cmd: CommandRecord,
        masker: Masker,
        env: dict,
        cwd: Path | None = None,
        script: str | None = None,
        root: Path | None = None,
    ) -> None:
        planned = plan_command(command, cmd, masker, self.policy(cwd, root), cwd, self.base_env.get("HOME"), env)
        if cmd.status == CommandStatus.REFUSED:
            self.stats.refused += 1
        if planned is None or cmd.failed:  # skipped, refused or invalid: the record says why
            return
        words, marked = planned.words, None
        if self.cleanup is not None:  # a create gets the run's tag (the dry-run shows it too)
            marked = self.cleanup.mark(words, cwd, script)
            if not self.cleanup.record(cmd, masker, marked):
                self.stats.refused += 1
                return
            words = marked.words
        if self.settings.dry_run:
            cmd.status = CommandStatus.DRY_RUN
            return
        env = {**env, **planned.env}  # allowed VAR=value prefixes
        guarded = None
        if self.cleanup is not None and _changes_targets(planned):  # it acts only on what this run made
            guarded = self.cleanup.guard(words, env, lambda listing: self.call(listing, env, masker))
            if guarded.failed is not None:
                _listing_failed(cmd, guarded.failed)
                return
            if guarded.refusal is not None:
                self._refuse(cmd, masker, guarded.refusal)
                return
            if guarded.missing is not None:  # as usacloud fails it, without sending it
                cmd.status, cmd.cls = CommandStatus.FAILED, ResultClass.NOT_FOUND
                cmd.message, cmd.hint = masker.text(guarded.missing), HINTS.get(ResultClass.NOT_FOUND)
                return
            words = guarded.words
            cmd.words = list(masker.words(words))
        entry = self.cleanup.started(marked, script, cmd.line) if self.cleanup is not None else None
        words = credentials.dummy_words(words) if self.settings.fake else words
        result = attempt.execute(self, words, cmd, masker, env, cwd)
        if self.cleanup is not None:
            self.cleanup.finished(entry, cmd, result.stdout if result is not None else "")
            if guarded is not None:
                self.cleanup.changed(guarded, cmd, result.stdout if result is not None else "")

    def _refuse(self, cmd: CommandRecord, masker: Masker, message: str) -> None:
        cmd.status, cmd.cls = CommandStatus.REFUSED, ResultClass.REFUSED
        cmd.message = masker.text(message)
        self.stats.refused += 1


def _changes_targets(planned: Planned) -> bool:
    """A dangerous command, or one that changes the resources it names: its targets must be the run's."""
    sub = planned.invocation.subcommand
    return bool(planned.danger) or (sub is not None and sub.changes_targets)


def fake_limit_reason(cmd: CommandRecord) -> str:
    """Why a script that hit a limit of usacloud's fake mode is skipped."""
    return f"a limit of usacloud's fake mode, not a failure of the script: {cmd.message}"


def _listing_failed(cmd: CommandRecord, listing: CommandRecord) -> None:
    """The listing that checks a destructive command's targets failed: the command fails with its class."""
    cmd.status = CommandStatus.CANCELLED if listing.status == CommandStatus.CANCELLED else CommandStatus.FAILED
    cmd.cls, cmd.hint = listing.cls, listing.hint
    cmd.message = f"the targets could not be checked (`{listing.text}` {listing.status}): {listing.message}"
