"""Everything of a run that crosses processes, owned in one place: :class:`SharedState`.

Each pytest process holds one, and no other module knows where the state lives: the stop signal, the
children, the workers' live counters, the failure count behind ``--maxfail``, the run's id and journal
of what it created, and ``home``, this host's directory for the run. It travels over files on one host,
xdist's execnet gateway and a run group's Redis (:class:`~.links.Link`); each process forwards a stop once.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .children import Children, sweep
from .links import COUNTERS, CREATED, FAILURE, HELLO, STOP, Channel, Gateway, Link, NodeChannels, WorkerChannel
from .stop import StopReason, StopSignal

if TYPE_CHECKING:
    from .group import RunGroup

RUN_INPUT = "usacloud_run"  # workerinput: {"run_dir", "token", "run_id": str, "channel": execnet channel}
TOKEN_FILE = "host-token"
STOP_FILE = "stop"
FAILURES_FILE = "failures"
CREATED_FILE = "created.jsonl"
CHILDREN_DIR = "children"
PUBLISH_EVERY = 0.5  # seconds between two counter messages of a worker (the display redraws at 2 Hz)
LOST_GRACE = 1.0  # seconds between TERM and KILL when a worker lost its controller

LOST_CONTROLLER = StopReason(
    "(controller)", "lost-controller", "this worker lost its controller (it crashed, or the link to it broke)"
)
INTERRUPTED = StopReason("(interrupt)", "interrupted", "Ctrl-C, SIGTERM or SIGHUP")


class SharedState:
    def __init__(self, home: Path, worker: str, *, owner: bool, shared: bool, token: str, run_id: str = "") -> None:
        self.home = home
        self.run_id = run_id
        self.worker = worker
        self.owner = owner  # this process made ``home`` and removes it
        self.shared = shared  # ``home`` is the run directory (not a remote worker's private one)
        self.token = token
        self.stop = StopSignal(home / STOP_FILE, on_trigger=self._forward)
        self.children = Children(home / CHILDREN_DIR / worker)
        self._links: list[Link] = []
        self._nodes: NodeChannels | None = None  # the controller's channels to its workers
        self._up: WorkerChannel | None = None  # a worker's channel to its controller
        self._visible: dict[str, bool] = {}  # worker id -> it sees the run directory
        self._counters: dict[str, dict] = {}
        self._last_publish = 0.0
        self._forwarded = False
        self._finished = False
        self._lock = threading.Lock()

    # -- the three kinds of process ----------------------------------------------------------

    @classmethod
    def open_run(cls, run_id: str = "") -> SharedState:
        """A lone process or an xdist controller: a new run directory, with the token workers check."""
        home = Path(tempfile.mkdtemp(prefix="pytest-usacloud-"))
        token = secrets.token_hex(16)
        (home / TOKEN_FILE).write_text(token)
        return cls(home, "main", owner=True, shared=True, token=token, run_id=run_id)

    @classmethod
    def open_worker(cls, workerinput: dict) -> SharedState:
        """An xdist worker: the controller's run directory if this host sees it (it can read the token
        the controller wrote there; never guessed from the gateway spec), else a private one."""
        run = workerinput[RUN_INPUT]
        worker = str(workerinput.get("workerid", "gw"))
        run_dir, token, run_id = Path(run["run_dir"]), str(run["token"]), str(run.get("run_id") or "")
        visible = _reads_token(run_dir, token)
        if visible:
            state = cls(run_dir, worker, owner=False, shared=True, token=token, run_id=run_id)
        else:
            home = Path(tempfile.mkdtemp(prefix=f"pytest-usacloud-{worker}-"))
            state = cls(home, worker, owner=True, shared=False, token=token, run_id=run_id)
        channel: Channel | None = run.get("channel")
        if channel is not None:
            state._up = WorkerChannel(channel, state._from_controller, state._lost_controller)
            state._links.append(state._up)
            state._up.send(HELLO, {"visible": visible, "host": socket.gethostname()})
        return state

    def join_group(self, url: str, name: str, shard: str) -> RunGroup:
        """Share the stop signal with every run of the group ``name`` on this Redis."""
        from .group import RunGroup  # only runs that name a group need redis

        group = RunGroup(url, name, shard, self._from_group)
        self._links.append(group)
        group.start()
        return group

    # -- the stop signal ---------------------------------------------------------------------

    def request_stop(self, reason: StopReason) -> bool:
        """Stop the run (every worker on every host, every shard of the group). False if it was already."""
        return self.stop.trigger(reason)

    def _forward(self, reason: StopReason) -> None:
        """Tell every link, once, whichever way this process learned of the stop."""
        with self._lock:
            if self._forwarded:
                return
            self._forwarded = True
            links = list(self._links)
        for link in links:
            link.send(STOP, reason.to_dict())

    def _learned(self, reason: StopReason) -> None:
        """A stop from elsewhere: stop this host; pass it on if a local worker's own stop came first."""
        if not self.stop.trigger(reason):
            self._forward(self.stop.reason() or reason)

    def _from_group(self, reason: StopReason) -> None:
        self._learned(reason)

    # -- the controller ----------------------------------------------------------------------

    def configure_node(self, worker: str, gateway: Gateway, workerinput: dict) -> None:
        """Give a starting worker the run directory, the token and its channel."""
        if self._nodes is None:
            self._nodes = NodeChannels(self._from_worker)
            self._links.append(self._nodes)
        channel = self._nodes.open(worker, gateway)
        workerinput[RUN_INPUT] = {
            "run_dir": str(self.home),
            "token": self.token,
            "run_id": self.run_id,
            "channel": channel,
        }

    def sees_run_dir(self, worker: str) -> bool | None:
        """Whether that worker reads this run directory (None: it has not said)."""
        return self._visible.get(worker)

    def remote_workers(self) -> list[str]:
        return sorted(w for w, visible in self._visible.items() if not visible)

    def _from_worker(self, worker: str, kind: str, payload: dict) -> None:
        if kind == HELLO:
            self._visible[worker] = bool(payload.get("visible"))
        elif kind == COUNTERS:
            with self._lock:
                self._counters[worker] = payload
        elif kind == STOP:
            reason = StopReason.from_dict(payload)
            if reason is not None:
                self._learned(reason)
        elif kind == FAILURE:
            reason = StopReason.from_dict(payload.get("reason"))
            if reason is not None:
                self.note_failure(reason, int(payload.get("maxfail") or 1))
        elif kind == CREATED:
            self.note_created(payload)

    def node_down(self, worker: str, crashed: bool) -> int:
        """A worker ended; if it crashed on this host, kill what it left. Returns the groups killed."""
        if self._nodes is not None:
            self._nodes.drop(worker)
        if crashed and self._visible.get(worker, True):
            return sweep(self.home / CHILDREN_DIR / worker)
        return 0

    # -- a worker ----------------------------------------------------------------------------

    def _from_controller(self, kind: str, payload: dict) -> None:
        if kind == STOP:
            reason = StopReason.from_dict(payload)
            if reason is not None:
                with self._lock:
                    self._forwarded = True  # it came from there: nothing to send back
                self.stop.trigger(reason)

    def _lost_controller(self) -> None:
        """The channel ended while the session runs: stop, and leave nothing running on this host."""
        if self._finished:
            return
        self.stop.stop_here(LOST_CONTROLLER)  # the other workers have channels of their own
        self.children.terminate_all(grace=LOST_GRACE)
        sweep(self.children.directory)  # groups recorded by the shell mode's shim

    # -- counters and failures ---------------------------------------------------------------

    def publish(self, counters: dict, force: bool = False) -> None:
        """This process's live counters, for the controller's progress line."""
        if self._up is None:
            with self._lock:
                self._counters[self.worker] = dict(counters)
            return
        now = time.monotonic()
        if force or now - self._last_publish >= PUBLISH_EVERY:
            self._last_publish = now
            self._up.send(COUNTERS, dict(counters))

    def counters(self) -> dict[str, dict]:
        """{process: its latest counters} of every worker that published."""
        with self._lock:
            return {k: dict(v) for k, v in self._counters.items()}

    def note_failure(self, reason: StopReason, maxfail: int) -> None:
        """Count a failed script run-wide; stop the run (with ``reason``) when the count reaches ``maxfail``."""
        if not self.shared:
            if self._up is not None:
                self._up.send(FAILURE, {"reason": reason.to_dict(), "maxfail": maxfail})
            return
        path = self.home / FAILURES_FILE
        with open(path, "a") as fh:  # one short line per append: O_APPEND keeps them whole
            fh.write(reason.nodeid.replace("\n", " ") + "\n")
        with open(path) as fh:
            count = sum(1 for _ in fh)
        if count >= max(1, maxfail):
            self.request_stop(reason)

    # -- what the run created ---------------------------------------------------------------

    def note_created(self, entry: dict) -> None:
        """One entry of the run's journal of what it made, written before a create runs and again after:
        the teardown reads it (a process killed mid-way has said what it was making)."""
        if not self.shared:
            if self._up is not None:
                self._up.send(CREATED, dict(entry))
            return
        line = ("\n" + json.dumps(entry, separators=(",", ":"))).encode()
        fd = os.open(self.home / CREATED_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)  # one write on an O_APPEND descriptor: lines stay whole
        finally:
            os.close(fd)

    def created(self) -> list[dict]:
        """Every journal entry this host's run directory holds (remote workers' came up their channel)."""
        try:
            text = (self.home / CREATED_FILE).read_text(encoding="utf-8")
        except OSError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # empty, or torn by a kill mid-write
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    # -- the end -----------------------------------------------------------------------------

    def finish(self) -> None:
        """The session is over: from now on a closing channel is the normal end, not a lost controller."""
        self._finished = True
        if self._up is not None:
            self._up.close()

    def close(self) -> None:
        """Kill what is left, close the links, remove what this process made."""
        self._finished = True
        self.children.terminate_all()
        self.children.close()
        for link in self._links:
            with contextlib.suppress(Exception):
                link.close()
        if self.owner:
            sweep(self.home / CHILDREN_DIR)
            shutil.rmtree(self.home, ignore_errors=True)


def _reads_token(run_dir: Path, token: str) -> bool:
    try:
        return (run_dir / TOKEN_FILE).read_text() == token
    except (OSError, UnicodeDecodeError):
        return False


def remote_file_bucket(worker: str, bucket: str) -> str:
    """Why a run whose worker is on another host cannot keep its bucket in a file."""
    return (
        f"xdist worker {worker} cannot see this run's directory: it runs on another host (or in another "
        f"filesystem namespace), so the rate-limit bucket in the file {bucket} would not be shared with it "
        "and the rate bound would not hold. Workers on several hosts share one bucket in Redis: "
        "--usacloud-rate-backend=redis://host:6379/0 (ini usacloud_rate_backend), or "
        "--usacloud-rate=unlimited / --usacloud-dry-run where no bound is needed."
    )


def shard_name(given: str) -> str:
    """This run's name in its group: the option, or host:pid."""
    return given or f"{socket.gethostname()}:{os.getpid()}"
