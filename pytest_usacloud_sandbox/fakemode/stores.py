"""Fake mode's stores: one per script, each a copy of a store seeded once per run.

usacloud's fake store is unsafe for several processes, so every script has its own file; and the
first command on a new store seeds it with the fake catalogue (~196 KB, about 7 s of CPU), so the run
seeds one store once (``zone list -q``) and scripts start from copies. A command that connects to the
shared segment makes its store itself: the driver sets that segment up only in the seeding process.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..usacloud import commands
from ..usacloud.classify import first_error_line
from ..usacloud.params import read_parameters
from ..usacloud.result import RunResult

STORES_DIR = "fake-stores"
SEED_FILE = "fake-seed.json"
SEED_INFO = "fake-seed-info.json"
SEED_LOCK = "fake-seed.lock"
#: The seeding command: a read of built-in data that every usacloud has; it never hangs.
SEED_ARGV = ("zone", "list", "-q")
LOCK_POLL = 0.2


#: Subcommands that connect an interface to the shared segment, and the parameter field that says
#: so (None: always). usacloud's fake driver can do that only in the process that created its store.
SHARED_SEGMENT = {
    ("server", "create"): "NetworkInterface.Upstream",
    ("mobile-gateway", "create"): None,
    ("vpc-router", "create-standard"): None,
}


def connects_shared_segment(words: Sequence[str], base_dir: str | Path | None = None) -> bool:
    """Whether the command connects something to the shared segment (``server create
    --network-interface-upstream shared``, also through ``--parameters``; a mobile gateway; a
    standard-plan VPC router). ``base_dir``: where a relative ``--parameters`` file is read."""
    inv = commands.resolve(words)
    if inv.resource is None or inv.subcommand is None:
        return False
    key = (inv.resource.name, inv.subcommand.name)
    if key not in SHARED_SEGMENT:
        return False
    field = SHARED_SEGMENT[key]
    if field is None:
        return True
    given = [u.value for u in inv.flags if u.flag is not None and u.flag.field == field and u.value is not None]
    parameters = [u.value for u in inv.flags if u.name == "--parameters" and u.value is not None]
    if parameters:  # it replaces every flag's value
        given = [read_parameters(parameters[-1], base_dir).value(field)]
    return bool(given) and given[-1] == "shared"


@dataclass(frozen=True)
class SeedInfo:
    ok: bool
    seconds: float
    message: str  # what went wrong ("" when ok)
    worker: str = ""

    def describe(self) -> str:
        command = "usacloud " + " ".join(SEED_ARGV)
        if self.ok:
            return f"store seeded once for the run ({command}, {self.seconds:.1f}s), one copy per script"
        return f"store seeding failed ({self.message}): every script seeds its own store on its first command"


def read_info(run_dir: Path) -> SeedInfo | None:
    """The run's seeding outcome, or None when no store was seeded (dry-run, not fake, not yet)."""
    try:
        data = json.loads((Path(run_dir) / SEED_INFO).read_text(encoding="utf-8"))
        return SeedInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def store_name(nodeid: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in nodeid)[-150:]
    return f"{safe}.json"


class FakeStores:
    """One process's access to the run's fake stores.

    ``seed_command(path)`` runs the seeding command on a fake store at ``path`` and returns its
    result; None means no seeding (dry-run). ``stop()`` ends a wait for another process's seeding.
    """

    def __init__(
        self,
        run_dir: Path,
        seed_command: Callable[[Path], RunResult] | None,
        stop: Callable[[], object] = lambda: False,
        worker: str = "main",
    ) -> None:
        self.run_dir = Path(run_dir)
        self.seed_command = seed_command
        self.stop = stop
        self.worker = worker
        self._seed: Path | None = None
        self._known = False  # the seed's outcome is known to this process
        self._pending: set[Path] = set()  # scripts' stores not yet made (their first command has not run)
        self._lock = threading.Lock()  # shell mode: a script's calls may come from several broker threads

    def path_for(self, nodeid: str) -> Path:
        """Where the script's own store is (as it left it; nothing is copied)."""
        return self.run_dir / STORES_DIR / store_name(nodeid)

    def store_for(self, nodeid: str) -> Path:
        """The script's own store path, empty until its first command (:meth:`prepare`) makes it."""
        store = self.path_for(nodeid)
        store.parent.mkdir(parents=True, exist_ok=True)
        store.unlink(missing_ok=True)  # a script run again starts afresh too
        with self._lock:
            self._pending.add(store)
        return store

    def prepare(self, store: Path, fresh: Callable[[], bool]) -> None:
        """Before a command runs on ``store``: the first time, make the script's store a copy of the
        run's seed, unless ``fresh()`` says that the command needs to create the store itself (it
        connects to the shared segment). Stores that are not a script's are left alone."""
        with self._lock:  # held while the store is made: a concurrent call on it waits for it
            if store not in self._pending:
                return
            self._pending.discard(store)
            if fresh():
                return
            seed = self.seed()
            if seed is not None and not store.exists():  # a direct call of usacloud (shell mode) may have made it
                tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
                shutil.copyfile(seed, tmp)
                os.replace(tmp, store)

    def seed(self) -> Path | None:
        """The run's seeded store, seeding it now if no process has (None: no seeding). One process
        seeds under a file lock in the run directory while the others wait and copy; the outcome is
        kept beside the seed (:data:`SEED_INFO`) for the summary. When seeding fails, every script
        falls back to a fresh store path of its own."""
        if self._known or self.seed_command is None:
            return self._seed
        import filelock  # fake mode's seeding only: a run without it does not pay the import

        lock = filelock.FileLock(str(self.run_dir / SEED_LOCK))
        while True:
            try:
                lock.acquire(timeout=LOCK_POLL)
                break
            except filelock.Timeout:
                if self.stop():
                    return None  # cancelled while another process seeds: this script will not run
        try:
            info = read_info(self.run_dir)
            if info is None:
                info = self._run_seed()
                _write_json(self.run_dir / SEED_INFO, asdict(info))
        finally:
            lock.release()
        self._known = True
        self._seed = self.run_dir / SEED_FILE if info.ok else None
        return self._seed

    def _run_seed(self) -> SeedInfo:
        assert self.seed_command is not None
        target = self.run_dir / SEED_FILE
        tmp = self.run_dir / f".{SEED_FILE}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        t0 = time.monotonic()
        result = self.seed_command(tmp)
        seconds = time.monotonic() - t0
        problem = _seed_problem(result, tmp)
        if problem is not None:
            tmp.unlink(missing_ok=True)
            return SeedInfo(False, seconds, problem, self.worker)
        os.replace(tmp, target)
        return SeedInfo(True, seconds, "", self.worker)


def _seed_problem(result: RunResult, store: Path) -> str | None:
    """Why the seeding run is no good, or None."""
    if result.launch_error is not None:
        return result.launch_error
    if result.cancelled:
        return "cancelled"
    if result.timed_out:
        return f"timed out after {result.duration:.1f}s"
    if result.exit_code != 0:
        return f"exit code {result.exit_code}: {first_error_line(result.stderr)}".rstrip(": ")
    try:
        raw = store.read_bytes()
    except OSError:
        return "usacloud wrote no store file"
    try:
        json.loads(raw)
    except ValueError:
        return "the store file it wrote is not JSON"
    return None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
