"""Running a teardown plan: the listings, then the deletions stage by stage.

Every call goes through the Engine's own path (:meth:`~..run.execute.Engine.call`): the token
bucket shared with every worker and run, the 429 retries, the per-command timeout and a command
record. Calls of one stage run side by side on a few threads (the bucket holds the rate); a
stage starts when the one before it is over. The teardown has its own stop (:class:`Deadline`):
the run's stop signal is usually set by the time it runs (a failure under ``-x``, Ctrl-C), so it
ends only at its timeout or at a second interrupt, and then lists what remains.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import replace

from ..record.cleanup import CleanupRecord, ResourceRecord
from ..record.command import CommandRecord
from ..record.vocabulary import CommandStatus, ResourceResult, ResultClass
from ..run.execute import Engine, WorkerStats
from ..usacloud.mask import Masker
from . import plan as pl
from . import resources
from .printed import Listed, listed

PARALLEL = 5  # calls of one stage at once (usacloud-update's parallel design used 5 workers)
GONE = "target resource not found"


class Deadline:
    """The teardown's stop: its timeout, or an interrupt (a second Ctrl-C or SIGTERM)."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.timeout = timeout
        self.deadline = clock() + timeout
        self.why = ""

    def __call__(self) -> bool:
        if not self.why and self.clock() > self.deadline:
            self.why = f"it reached --usacloud-cleanup-timeout ({self.timeout:g}s)"
        return bool(self.why)

    def interrupt(self) -> None:
        self.why = self.why or "interrupted (a second Ctrl-C or SIGTERM)"


class Teardown:
    """One place's teardown (the sandbox, or one fake store) on ``engine`` with ``env``."""

    def __init__(
        self,
        engine: Engine,
        env: Mapping[str, str],
        masker: Masker,
        stop: Deadline,
        progress: Callable[[int, int], None] | None = None,
        parallel: int = PARALLEL,
    ) -> None:
        engine.limiter()  # made once here: every thread's copy of the engine shares it
        self.engine = engine
        self.env = dict(env)
        self.masker = masker
        self.stop = stop
        self.progress = progress or (lambda done, total: None)
        self.parallel = max(1, parallel)
        self.stats = WorkerStats()
        self.summary_commands: list[CommandRecord] = []
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0

    def run(self, plan: pl.Plan, summary: CleanupRecord, keep: Callable[[Listed], bool] | None = None) -> CleanupRecord:
        """List, then delete stage by stage; every resource ends ``deleted`` or ``left`` in ``summary``.
        ``keep``: which listed resources to delete (the plan's tags and journal decide without it)."""
        t0 = time.monotonic()
        summary.resources += plan.unreachable
        self._total = len(plan.listings) + len(plan.by_id)
        found: dict[str, list[Listed]] = {}
        for resource, result in zip(plan.listings, self._each(self._list, plan.listings), strict=True):
            if isinstance(result, str):
                summary.resources.append(ResourceRecord(resource, None, result=ResourceResult.LEFT, reason=result))
            else:
                found[resource] = result
        staged = pl.stages(plan, found, keep)
        summary.resources += staged.settled
        self._total = len(plan.listings) + sum(len(s) for s in staged.stages)
        for stage in staged.stages:
            summary.resources += [o for part in self._each(self._delete, stage) for o in part]
        summary.commands += self.summary_commands
        summary.seconds += time.monotonic() - t0
        summary.interrupted = summary.interrupted or self.stop.why or None
        return summary

    # -- the calls ------------------------------------------------------------------------------

    def _list(self, resource: str) -> list[Listed] | str:
        """Every resource of the type in the zone: what is deleted is picked from it, and what else an
        ID would match is seen in it."""
        cmd, result = self._call(resources.list_words(resource, ()))
        if cmd.status != CommandStatus.OK or result is None:
            return f"could not list {resource}: {self._why(cmd)}"
        items = listed(result.stdout)
        if items is None:
            return f"could not read the listing of {resource} (not JSON)"
        return items

    def _delete(self, deletion: pl.Deletion) -> list[ResourceRecord]:
        cmd, _ = self._call(deletion.words)
        gone = cmd.status == CommandStatus.FAILED and cmd.cls == ResultClass.NOT_FOUND and GONE in (cmd.message or "")
        if cmd.status == CommandStatus.OK or gone:
            result, reason = ResourceResult.DELETED, "already gone" if gone else ""
        else:
            result, reason = ResourceResult.LEFT, self._why(cmd)
        first = ResourceRecord(
            deletion.resource, deletion.id, deletion.name, deletion.zone, result, reason, deletion.script
        )
        with_server = f"with its server {deletion.id}" if result == ResourceResult.DELETED else reason
        return [first] + [
            ResourceRecord("disk", d, "", deletion.zone, result, with_server, deletion.script) for d in deletion.disks
        ]

    def _call(self, words: list[str]) -> tuple[CommandRecord, object]:
        stats = WorkerStats()
        engine = replace(self.engine, stop=self.stop, stats=stats, publish=None)
        cmd, result = engine.call(words, self.env, self.masker)
        with self._lock:
            self.stats.add(vars(stats))
            self.summary_commands.append(cmd)
            self._done += 1
            done, total = self._done, self._total
        self.progress(done, total)
        return cmd, result

    def _why(self, cmd: CommandRecord) -> str:
        if cmd.status == CommandStatus.CANCELLED:
            return f"the teardown ended before it: {self.stop.why or 'cancelled'}"
        return f"{cmd.cls or cmd.status}: {cmd.message}".strip(": ")

    # -- side by side ---------------------------------------------------------------------------

    def _each(self, fn, items: Sequence, *args) -> list:
        """``fn(item, *args)`` for each item on up to ``parallel`` threads, results in order. An interrupt
        here (Ctrl-C, SIGTERM) ends the teardown: the calls in flight are cancelled, what did not run is
        left."""
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(items)), thread_name_prefix="usacloud-td") as pool:
            try:
                futures = [pool.submit(fn, item, *args) for item in items]
                pending = set(futures)
                while pending:
                    try:
                        _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        self.engine.tick()  # the live progress ("cleaning up ...") writes from this thread
                    except KeyboardInterrupt:
                        self.stop.interrupt()
            except BaseException:  # whatever ends this early: the calls in flight end with it
                self.stop.interrupt()
                raise
        return [future.result() for future in futures]
