"""What the Engine asks of cleanup around each command it runs (one object per process).

* :meth:`CleanupHooks.mark`: a create's words with the run's tag (the dry-run shows them too);
* :meth:`CleanupHooks.guard`: a changing command's targets resolved to what this run made;
* :meth:`CleanupHooks.started` / :meth:`CleanupHooks.finished`: the journal of what the run made,
  written before a create runs (a process killed mid-way has said what it was making) and after
  (with the IDs it printed), kept per script for ``--usacloud-cleanup=script`` and shared with the
  controller through the run's state (``note``).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..record.command import CommandRecord
from ..record.vocabulary import CommandStatus, ResultClass
from ..usacloud import commands
from ..usacloud.mask import Masker
from ..usacloud.policy import Refusal
from . import ownership, plan, printed, tagging
from .runid import RunId

#: Results of a create that may have made something although no output was seen.
_UNSURE = frozenset({ResultClass.TIMEOUT, ResultClass.CANCELLED, ResultClass.CRASHED})
NO_ID = "its output did not show the new ID (-q, -o json, -o yaml and the table show it; --format and --query may not)"


@dataclass(frozen=True)
class Guarded:
    """A changing command after the ownership check: the words to run, or why not."""

    words: tuple[str, ...]
    refusal: str | None = None
    failed: CommandRecord | None = None  # the listing that should have resolved the targets failed
    missing: str | None = None  # a target matched nothing: the command fails as not found
    resource: str = ""
    ids: tuple[str, ...] = ()  # the run's own IDs the targets resolved to


Lister = Callable[[Sequence[str]], "tuple[CommandRecord, object]"]


class CleanupHooks:
    def __init__(
        self,
        run: RunId,
        mode: str = "run",
        any_target: bool = False,
        note: Callable[[dict], None] | None = None,
        noted: Callable[[], list[dict]] | None = None,
        worker: str = "main",
    ) -> None:
        self.run = run
        self.mode = mode  # run | script | off
        self.any_target = any_target  # --usacloud-allow-dangerous=any
        self.note = note or (lambda entry: None)
        self.noted = noted or list
        self.worker = worker
        self._keys = itertools.count(1)
        self._by_script: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

    def tags(self, script: str | None) -> list[str]:
        """The tags a create of ``script`` gets: the run's, and under ``script`` cleanup the script's."""
        if self.mode == "script" and script:
            return [self.run.tag, self.run.script_tag(script)]
        return [self.run.tag]

    def script_env(self, nodeid: str) -> dict[str, str]:
        return self.run.env(nodeid)

    # -- before a command runs ----------------------------------------------------------------

    def mark(self, words: Sequence[str], cwd: Path | None, script: str | None) -> tagging.Tagged:
        return tagging.tag_create(words, self.tags(script), cwd)

    def record(self, cmd: CommandRecord, masker: Masker, marked: tagging.Tagged) -> bool:
        return tagging.record(cmd, masker, marked)

    def guard(self, words: Sequence[str], env: Mapping[str, str], lister: Lister) -> Guarded:
        """``words`` with their targets resolved to IDs this run made (``lister`` runs the listing)."""
        words = tuple(words)
        if self.any_target:
            return Guarded(words)
        found = ownership.targets(words, env)
        if found is None:
            return Guarded(words)
        if isinstance(found, Refusal):
            return Guarded(words, refusal=found.describe())
        mine = self.owned_ids(found.resource)  # an ID is matched like any word: listed, never passed as it is
        cmd, result = lister(ownership.list_words(found))
        if cmd.status != CommandStatus.OK or result is None:
            return Guarded(words, failed=cmd)
        listing = printed.listed(getattr(result, "stdout", ""))
        if listing is None:
            why = f"the listing of `{found.resource}` that checks the targets could not be read"
            return Guarded(words, refusal=ownership.refusal(why).describe())
        resolved = ownership.resolve(found, listing, lambda item: self.run.tag in item.tags or item.id in mine)
        if isinstance(resolved, Refusal):
            return Guarded(words, refusal=resolved.describe())
        if isinstance(resolved, ownership.Missing):
            return Guarded(words, missing=resolved.message)
        after = ownership.targets(resolved, env)  # the same command, its targets now the IDs
        ids = after.values if isinstance(after, ownership.Targets) else ()
        return Guarded(resolved, resource=found.resource, ids=ids)

    # -- the journal --------------------------------------------------------------------------

    def started(self, tagged: tagging.Tagged | None, script: str | None, line: int) -> dict | None:
        """Note a create about to run; returns its journal entry (None for any other command)."""
        if tagged is None or tagged.resource is None:
            return None
        entry = {
            "key": f"{self.worker}:{os.getpid()}:{next(self._keys)}",
            "script": script or "",
            "line": line,
            "resource": tagged.resource,
            "by": tagged.by,
            "tags": self.tags(script) if tagged.by == "tag" else [],
            "name": tagged.name,
            "disks": tagged.disks,
            "ids": [],
            "state": "running",
            "reason": tagged.reason,
        }
        with self._lock:
            self._by_script.setdefault(script or "", []).append(entry)
        self.note(dict(entry))
        return entry

    def finished(self, entry: dict | None, cmd: CommandRecord, stdout: str) -> None:
        """The create ran (or not): what it printed, and whether it made something."""
        if entry is None:
            return
        if cmd.status == CommandStatus.OK:
            entry["state"], entry["ids"] = "done", printed.printed_ids(stdout)
            if entry["by"] == "id" and not entry["ids"]:
                entry["reason"] = NO_ID
        elif cmd.attempts and cmd.cls in _UNSURE:
            entry["state"] = "unsure"
            entry["reason"] = entry["reason"] or f"the create ended as {cmd.cls}: whether it made something is unknown"
        else:
            entry["state"] = "failed"
        self.note(dict(entry))

    def changed(self, guarded: Guarded, cmd: CommandRecord, stdout: str) -> None:
        """An update of the run's own resources ran: an ID it printed that none of its targets had is
        what replaced them (a server's plan change makes a new server, same name and tags), and takes
        their place in the journal (of creates that tagged it: the teardown checks the tag too)."""
        inv = commands.resolve(guarded.words)
        if cmd.status != CommandStatus.OK or inv.subcommand is None or inv.subcommand.kind != "update":
            return
        shown = printed.printed_ids(stdout)
        gone = [i for i in guarded.ids if i not in shown]
        new = [i for i in shown if i not in guarded.ids]
        if not gone or not new:
            return
        replaced, extra = dict(zip(gone, new, strict=False)), new[len(gone) :]  # in the order usacloud printed them
        with self._lock:
            mine = [e for entries in self._by_script.values() for e in entries]
        local = {e["key"] for e in mine}
        for entry in [*mine, *(e for e in plan.merge(self.noted()) if e.get("key") not in local)]:
            ids = [str(i) for i in entry.get("ids") or ()]
            if entry.get("resource") != guarded.resource or entry.get("by") != "tag":
                continue
            if not any(i in replaced for i in ids):
                continue
            ids = [replaced.get(i, i) for i in ids] + (extra if gone[-1] in ids else [])
            with self._lock:
                entry["ids"] = ids
            self.note({**entry, "ids": ids})

    def take(self, script: str) -> list[dict]:
        """The journal entries of ``script``'s creates in this process (its teardown takes them)."""
        with self._lock:
            return [dict(e) for e in self._by_script.pop(script, [])]

    def owned_ids(self, resource: str) -> set[str]:
        """IDs of ``resource`` the run's creates printed (those without tags are only known so)."""
        with self._lock:
            mine = [e for entries in self._by_script.values() for e in entries]
        return {i for e in [*mine, *self.noted()] if e.get("resource") == resource for i in e.get("ids") or ()}
