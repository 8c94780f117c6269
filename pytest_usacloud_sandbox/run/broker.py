"""Shell mode's worker side: one broker per running script serves the shims of its usacloud calls.

It listens on a Unix socket in the script's private directory. For each call a thread runs the
Engine's own ``run_one`` (policy, offline check, token, retries, outcome, masking: exactly what
commands mode does) on a copy of the worker's Engine that shares its limiter and stop signal but
whose ``command_runner`` asks the shim to run the command and waits for its result. The record of
each call lands in ``calls`` in the order the calls arrived, with the exit code the shim returns in
``exits``.

An attempt's ``token_at`` is taken here, as in commands mode; its ``start`` (just before the shim's
Popen), ``end`` and exit code are the shim's.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from ..report.reprs import shown
from ..script.parse import Command
from ..state import records as rec
from ..usacloud import outcome as oc
from ..usacloud.mask import Masker
from .execute import Engine, WorkerStats
from .runner import RunResult
from .shim import EXIT_CANCELLED, EXIT_NOT_STARTED, EXIT_REFUSED, EXIT_TIMEOUT, Channel

ACCEPT_POLL = 0.2
CLOSE_GRACE = 5.0  # seconds close() waits for calls still being served
VANISHED = "the shim was killed before usacloud ended (script timeout, stop, or the script killed it)"
_MIN_SECRET = 4


class Broker:
    def __init__(
        self,
        engine: Engine,
        masker: Masker,
        pins: dict[str, str],
        socket_path: str,
        text_at: Callable[[int], str | None],
        registry: Path,
    ) -> None:
        self.engine = engine
        self.masker = masker
        self.seen = masker  # grows with every call's expanded secrets
        self.pins = pins  # the sandbox's environment variables, laid over the script's at each call
        self.socket_path = socket_path
        self.text_at = text_at  # the script's text for a line (None if no usacloud command starts there)
        self.registry = registry  # where shims record running process groups (swept by the controller too)
        self.calls: list[rec.CommandRecord | None] = []
        self.exits: list[int] = []
        self.groups: set[int] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._closed_at: float | None = None
        self._threads: list[threading.Thread] = []
        self._server: socket.socket | None = None
        engine.limiter()  # create it once here: every call's copy of the engine shares it

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> Broker:
        self.registry.mkdir(parents=True, exist_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.socket_path)
        os.chmod(self.socket_path, 0o600)
        server.listen(64)
        server.settimeout(ACCEPT_POLL)
        self._server = server
        thread = threading.Thread(target=self._accept, name="usacloud-broker", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def close(self, grace: float = CLOSE_GRACE) -> list[rec.CommandRecord]:
        """Stop accepting, wait (bounded) for calls in flight, kill any usacloud group a killed shim left."""
        self._closed_at = time.monotonic()
        self._closing.set()
        deadline = time.monotonic() + grace
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._server is not None:
            self._server.close()
            Path(self.socket_path).unlink(missing_ok=True)
        self.sweep()
        with self._lock:
            for index, cmd in enumerate(self.calls):
                if cmd is None:  # still being served: its shim is gone with bash
                    self.calls[index] = rec.CommandRecord(
                        line=0, text="usacloud", status=rec.CANCELLED, cls=oc.CANCELLED, message=VANISHED
                    )
        return [c for c in self.calls if c is not None]

    def sweep(self) -> int:
        """SIGKILL the process groups shims started and did not clean up (a shim killed mid-call)."""
        killed = 0
        for pid in sorted(self.groups):
            marker = self.registry / str(pid)
            if marker.exists():
                try:
                    os.killpg(pid, signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
                marker.unlink(missing_ok=True)
        return killed

    # -- serving --------------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closing.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(conn,), name="usacloud-call", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        channel = Channel(conn)
        try:
            request = channel.recv(timeout=30.0)
        except (TimeoutError, ValueError):
            request = None
        if not isinstance(request, dict):
            conn.close()
            return
        words = [str(w) for w in request.get("words") or ["usacloud"]]
        line = int(request.get("line") or 0)
        with self._lock:
            index = len(self.calls)
            self.calls.append(None)
            self.exits.append(EXIT_REFUSED)
        masker = _with_secrets(self.masker, request.get("secrets") or ()).with_words(words)
        self.seen = self.seen.with_values(masker.secrets)  # bash's own output is masked with all of them
        text = self.text_at(line) or shown(words)
        command = Command(line=line, end_line=line, text=text, words=tuple(words), expansion=None, nested=False)
        state: dict = {}
        call_engine = replace(
            self.engine,
            stop=partial(self._stopped, channel),
            stats=WorkerStats(),
            publish=None,
            command_runner=partial(self._remote, channel, state),
        )
        try:
            cmd = call_engine.run_one(command, masker, dict(self.pins))
        except Exception as exc:
            cmd = rec.CommandRecord(
                line=line,
                text=masker.text(text),
                words=list(masker.words(words)),
                status=rec.FAILED,
                cls=oc.ERROR,
                message=f"internal error in the sandbox broker: {exc!r}",
            )
        if state.get("vanished") and cmd.status == rec.CANCELLED:
            cmd.message = VANISHED
        code, message = exit_of(cmd, state.get("last"))
        with self._lock:
            self.calls[index], self.exits[index] = cmd, code
            self.engine.stats.add(asdict(call_engine.stats))
            if self.engine.publish is not None:
                self.engine.publish(self.engine.stats, False)
        try:
            channel.send({"action": "exit", "exit": code, "message": message})
        except OSError:
            pass
        finally:
            conn.close()

    def _stopped(self, channel: Channel) -> bool:
        """The call's stop: the run's stop signal, the script having ended, or its shim gone."""
        return bool(self.engine.stop()) or self._closing.is_set() or _peer_gone(channel.sock)

    def _remote(self, channel: Channel, state: dict, argv, env, timeout, should_stop=None, **_) -> RunResult:
        """The command_runner of a call: the shim runs the command; the result comes back here."""
        sent, t0 = time.time(), time.monotonic()
        stop_path = getattr(self.engine.stop, "path", None)
        order = {
            "action": "run",
            "argv": list(argv),
            "env": env,
            "timeout": timeout,
            "stop": str(stop_path) if stop_path else None,
            "registry": str(self.registry),
        }
        try:
            channel.send(order)
            while True:
                try:
                    message = channel.recv(timeout=ACCEPT_POLL)
                except TimeoutError:
                    if self._closed_at is not None and time.monotonic() - self._closed_at > CLOSE_GRACE / 2:
                        break  # the script is over and the shim still says nothing
                    continue
                if message is None:
                    break
                if "started" in message:
                    with self._lock:
                        self.groups.add(int(message["started"]))
                elif "result" in message:
                    data = dict(message["result"])
                    data["argv"] = tuple(data["argv"])
                    state["last"] = result = RunResult(**data)
                    return result
        except (OSError, ValueError, TypeError):
            pass
        state["vanished"] = True
        state["last"] = result = RunResult(
            argv=tuple(argv),
            exit_code=None,
            signal=None,
            stdout="",
            stderr="",
            truncated=False,
            started=sent,
            ended=time.time(),
            duration=time.monotonic() - t0,
            cancelled=True,
        )
        return result


def exit_of(cmd: rec.CommandRecord, last: RunResult | None) -> tuple[int, str | None]:
    """The shim's exit code for a call, and what it prints on stderr (None: usacloud spoke for itself)."""
    if cmd.status == rec.DRY_RUN:
        return 0, None
    if cmd.status == rec.CANCELLED:
        return EXIT_CANCELLED, cmd.message or "cancelled: the run was stopped"
    if cmd.status in (rec.REFUSED, rec.INVALID) or last is None:
        hint = f" ({cmd.hint})" if cmd.hint and cmd.status == rec.INVALID else ""
        return EXIT_REFUSED, (cmd.message or cmd.status) + hint
    if last.launch_error is not None:
        return EXIT_NOT_STARTED, cmd.message
    if cmd.cls == oc.FAKE_HANG:  # fake mode: it hung after doing its work, and counts as done
        return 0, cmd.message
    if last.timed_out:
        return EXIT_TIMEOUT, cmd.message
    if last.signal is not None:
        return 128 + last.signal, None
    code = last.exit_code if last.exit_code is not None else EXIT_REFUSED
    if cmd.cls == oc.RATE_LIMITED:
        return code, cmd.message
    return code, None


def _with_secrets(masker: Masker, values) -> Masker:
    extra = {v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET}
    if not extra - set(masker.secrets):
        return masker
    return Masker(tuple(sorted(set(masker.secrets) | extra, key=len, reverse=True)))


def _peer_gone(sock: socket.socket) -> bool:
    """True once the shim has closed its end (it says nothing while it waits for an answer)."""
    try:
        sock.setblocking(False)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            sock.setblocking(True)
    except BlockingIOError:
        return False
    except OSError:
        return True
