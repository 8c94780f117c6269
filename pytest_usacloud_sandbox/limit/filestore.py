"""The bucket's state in one small file shared by every process on the machine.

A grant is ``flock``, ``pread``, ``pwrite``, unlock of one fixed-size record (:data:`RECORD_SIZE`) on
a descriptor the process keeps: nothing sleeps under the lock, and the kernel drops a dead holder's.
The record carries a magic, a version and a CRC-32; anything that fails them (empty, torn, another
layout) is recovered as a bucket just emptied, never a full one, so no window sees more than ``burst + R*T``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pyrate_limiter import AbstractClock

from .algorithm import MicroTokenBucket, State
from .errors import LimiterUnavailable
from .store import MicroClock, TokenStore, Verdict, clock_us

__all__ = ["RECORD_SIZE", "DamagedRecord", "FileStateStore", "MicroWallClock", "decode_record", "encode_record"]

MAGIC = b"PUSB"
#: Bumped if the layout ever changes; a record of another version reads as damaged.
VERSION = 2
RECORD_SIZE = 64
_HEADER = struct.Struct("<4sBB")  # magic, version, number of TATs
_TAT = struct.Struct("<Q")  # one theoretical arrival time, integer microseconds
_CRC = struct.Struct("<I")
_BODY = RECORD_SIZE - _CRC.size
MAX_RATES = (_BODY - _HEADER.size) // _TAT.size

#: Waiting for a contended lock: first retry after 50 us, doubling up to 1 ms. The lock is held
#: for some tens of microseconds, so a coarser poll (filelock's default is 50 ms) would dominate.
LOCK_POLL_FIRST = 0.000_05
LOCK_POLL_MAX = 0.001


class MicroWallClock(MicroClock):
    """Wall-clock time (the state outlives processes), in microseconds."""

    def now_us(self) -> int:
        return time.time_ns() // 1000


class DamagedRecord(ValueError):
    """The bytes are not a valid bucket record (the message says why)."""


def _layout(count: int) -> struct.Struct:
    """magic, version, count, ``count`` TATs, zero padding, then the CRC-32 of all that."""
    return struct.Struct(f"<4sBB{count}Q{_BODY - _HEADER.size - count * _TAT.size}x")


_LAYOUTS = tuple(_layout(count) for count in range(MAX_RATES + 1))


def encode_record(state: State) -> bytes:
    if len(state) > MAX_RATES:
        raise ValueError(f"at most {MAX_RATES} rates fit in a bucket record, got {len(state)}")
    body = _LAYOUTS[len(state)].pack(MAGIC, VERSION, len(state), *state)
    return body + _CRC.pack(zlib.crc32(body))


def decode_record(raw: bytes) -> State:
    """The TATs of a valid record (``()`` for a never-used bucket); :class:`DamagedRecord` otherwise."""
    if len(raw) != RECORD_SIZE:
        raise DamagedRecord("is empty" if not raw else f"has {len(raw)} bytes, not {RECORD_SIZE}")
    if raw[:4] != MAGIC:
        raise DamagedRecord("is not a bucket record")
    if zlib.crc32(raw[:_BODY]) != _CRC.unpack_from(raw, _BODY)[0]:
        raise DamagedRecord("fails its checksum")
    if raw[4] != VERSION:
        raise DamagedRecord(f"has layout version {raw[4]}, not {VERSION}")
    count = raw[5]
    end = _HEADER.size + count * _TAT.size
    if count > MAX_RATES or raw[end:_BODY].count(0) != _BODY - end:
        raise DamagedRecord("has a bad length")
    return _LAYOUTS[count].unpack_from(raw)[3:]


class FileStateStore(TokenStore):
    """The bucket's state in a small file, for :class:`MicroTokenBucket`.

    Decisions are taken at the clock read while the lock is held (wall-clock time by default: the
    state outlives processes), to the microsecond. The file is created complete (written under a
    temporary name and hard-linked into place), so an empty file is always damage. A file that
    disappears or is replaced while in use is reopened, and a never-used record found there counts
    as damage too (a bucket in use was lost); damage is repaired with one warning.
    """

    is_async = False
    default_clock: AbstractClock = MicroWallClock()

    def __init__(
        self,
        path: str | os.PathLike,
        lock_timeout: float = 10.0,
        on_warning: Callable[[str], None] | None = None,
        *,
        clock: AbstractClock | None = None,
    ) -> None:
        if not lock_timeout > 0:
            raise ValueError(f"lock_timeout must be > 0, got {lock_timeout!r}")
        self.path = Path(os.fspath(path))
        self.lock_timeout = float(lock_timeout)
        self._on_warning = on_warning
        self._warned = False
        if clock is not None:
            self.default_clock = clock
        self._pid: int | None = None
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the open file
        self._lost = False  # the file this process used vanished or was replaced
        self._thread_lock = threading.Lock()
        self._verdict: Verdict | None = None

    def verdict(self) -> Verdict | None:
        return self._verdict

    def use_clock(self, clock: AbstractClock) -> None:
        """Take the limiter's clock: ``check()`` re-reads it under the lock, so both must agree."""
        self.default_clock = clock

    # -- pickling / fork: the descriptor and the thread lock are per process -----------

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_pid=None, _fd=None, _identity=None, _thread_lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()

    def _fail(self, what: str, exc: OSError) -> LimiterUnavailable:
        return LimiterUnavailable(f"rate-limit state {self.path}: {what}: {exc}")

    def _forget_descriptor(self) -> None:
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
        self._fd, self._identity = None, None

    def _create(self) -> None:
        """Create the file complete with a never-used record, or leave the one another process made."""
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".new")
        except OSError as exc:
            raise self._fail("cannot create it", exc) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(encode_record(()))
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass
            except OSError:  # no hard links here: create it in place (a reader may see it empty: damage)
                with suppress(FileExistsError):
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(encode_record(()))
        except OSError as exc:
            raise self._fail("cannot create it", exc) from exc
        finally:
            with suppress(OSError):
                os.unlink(tmp)

    def _descriptor(self) -> int:
        if self._fd is None:
            for _ in range(3):
                try:
                    fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
                    break
                except FileNotFoundError:
                    self._create()
                except OSError as exc:
                    raise self._fail("cannot open it", exc) from exc
            else:
                raise LimiterUnavailable(f"rate-limit state {self.path}: keeps disappearing")
            st = os.fstat(fd)
            self._fd, self._identity = fd, (st.st_dev, st.st_ino)
        return self._fd

    def _still_current(self) -> bool:
        """Whether the locked descriptor is still the file at ``path`` (one stat)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._fail("cannot stat it", exc) from exc
        return (st.st_dev, st.st_ino) == self._identity

    def _flock(self, fd: int, deadline: float) -> None:
        delay = LOCK_POLL_FIRST
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise self._fail("cannot lock it", exc) from exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LimiterUnavailable(
                    f"rate-limit state {self.path}: lock not acquired within {self.lock_timeout:g}s"
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, LOCK_POLL_MAX)

    @contextmanager
    def _locked(self) -> Iterator[int]:
        deadline = time.monotonic() + self.lock_timeout
        if self._pid != os.getpid():
            # A new process: an inherited descriptor shares the parent's lock (flock belongs to the
            # open file description). Closing this copy leaves the parent's lock alone.
            self._forget_descriptor()
            self._thread_lock = threading.Lock()  # a parent's may have been copied while held
            self._pid = os.getpid()
        thread_lock = self._thread_lock
        if not thread_lock.acquire(timeout=self.lock_timeout):
            raise LimiterUnavailable(
                f"rate-limit state {self.path}: in-process lock not acquired within {self.lock_timeout:g}s"
            )
        try:
            while True:
                fd = self._descriptor()
                self._flock(fd, deadline)
                if self._still_current():
                    break
                # Unlinked or replaced while this process held it open: lock the file at `path`.
                fcntl.flock(fd, fcntl.LOCK_UN)
                self._forget_descriptor()
                self._lost = True
                if time.monotonic() > deadline:
                    raise LimiterUnavailable(f"rate-limit state {self.path}: keeps being replaced")
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            thread_lock.release()

    # -- the record -------------------------------------------------------------------

    def _warn(self, message: str) -> None:
        if self._warned:
            return
        self._warned = True
        if self._on_warning is not None:
            self._on_warning(message)

    def _now_us(self) -> int:
        return clock_us(self.default_clock)

    def _load(self, fd: int, algorithm: MicroTokenBucket, rates: list, now_us: int) -> tuple[State, bool, bool]:
        """(state, whether it must be written back, whether the file has the wrong size).

        A damaged record comes back exhausted.
        """
        try:
            raw = os.pread(fd, RECORD_SIZE + 1, 0)
        except OSError as exc:
            raise self._fail("cannot read it", exc) from exc
        misfit = len(raw) != RECORD_SIZE
        try:
            state = decode_record(raw)
            if not state and self._lost:
                raise DamagedRecord("was lost while in use (deleted or replaced)")
            if state and len(state) != len(rates):
                raise DamagedRecord(f"holds {len(state)} rates, not {len(rates)}")
        except DamagedRecord as exc:
            self._warn(
                f"rate-limit state file {self.path} {exc}; recovered as a bucket emptied by a grant made now (no burst)"
            )
            self._lost = False
            return algorithm.exhausted(rates, now_us), True, misfit
        self._lost = False
        if not state:
            return algorithm.initial(rates), False, False
        clamped = algorithm.clamp(rates, state, now_us)
        # A clamp must stick, or every retry would clamp the far-future value again and wait anew.
        return clamped, clamped != state, False

    def _write(self, fd: int, state: State, resize: bool) -> None:
        try:
            if os.pwrite(fd, encode_record(state), 0) != RECORD_SIZE:
                raise OSError(errno.EIO, "short write")
            if resize:  # a damaged file may have been longer
                os.ftruncate(fd, RECORD_SIZE)
        except OSError as exc:
            raise self._fail("cannot write it", exc) from exc

    # -- TokenStore -------------------------------------------------------------------

    @staticmethod
    def _algorithm(algorithm) -> MicroTokenBucket:
        if not isinstance(algorithm, MicroTokenBucket):
            raise TypeError(f"FileStateStore runs MicroTokenBucket, not {type(algorithm).__name__}")
        return algorithm

    def check(self, algorithm, rates, now, weight):
        algorithm = self._algorithm(algorithm)
        with self._locked() as fd:
            # `now` was stamped before the lock was won. A stamp gone stale (queued behind other
            # holders, or descheduled) would let this caller spend a token "in the past" - a burst
            # in real time - so decide at the time the lock is actually held.
            now_us = max(int(now) * 1000, self._now_us())
            state, dirty, misfit = self._load(fd, algorithm, rates, now_us)
            new_state, decision, wait_us = algorithm.decide(rates, state, now_us, weight)
            if decision.allowed or dirty:
                self._write(fd, new_state, misfit)
            self._verdict = Verdict(now_us / 1e6, None if decision.allowed else wait_us / 1e6)
        return decision

    def read(self, algorithm, rates):
        algorithm = self._algorithm(algorithm)
        with self._locked() as fd:
            return self._load(fd, algorithm, rates, self._now_us())[0]

    def reset(self) -> None:
        with self._locked() as fd:
            self._write(fd, (), resize=True)

    def close(self) -> None:
        if self._pid == os.getpid():
            self._forget_descriptor()
        self._pid = None
