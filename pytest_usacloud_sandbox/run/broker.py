"""Shell mode's worker side: one broker per running script runs the usacloud calls its script makes.

It listens on 127.0.0.1 (for the bash function) and on a Unix socket in the script's private
directory (for the shim): :mod:`protocol`. Each call goes through the Engine's own ``run_one``, as in
commands mode, with usacloud started here with the caller's files: the API key is only in usacloud's
environment, built here, and never crosses a socket. A caller that goes away cancels its call.
"""

from __future__ import annotations

import os
import secrets
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from ..record.command import CommandRecord
from ..record.vocabulary import CommandStatus, ResultClass
from ..report.reprs import shown
from ..script.parse import Command
from ..usacloud.environment import TRACE_VARIABLES, from_shell
from ..usacloud.mask import SECRET_ENV, Masker
from . import peers, protocol, runner
from .execute import Engine, WorkerStats
from .runner import RunResult
from .shim import ENV_PREFIX, EXIT_CANCELLED, EXIT_NOT_STARTED, EXIT_REFUSED, EXIT_TIMEOUT, PREFIX, TESTED_ENV

ACCEPT_POLL = 0.2
REQUEST_TIMEOUT = 30.0  # seconds a client may take to send its request
RETAKE_PAUSE = 0.0002
CLOSE_GRACE = 5.0  # seconds close() waits for calls still being served
VANISHED = "the caller was killed before usacloud ended (script timeout, stop, or the script killed it)"
LEFT_RUNNING = "still running {:g}s after bash had exited; it was cancelled with the script's last processes"
_MIN_SECRET = 4


class Broker:
    """Serves one script's calls, a thread each: it authenticates the caller, takes its stdin, stdout
    and stderr, builds usacloud's environment (:meth:`call_env`), runs the call through a copy of the
    worker's Engine that shares its limiter, stop and children (policy, offline check, token, retries,
    outcome, masking), writes any explanation to the caller's stderr and answers the exit status."""

    def __init__(
        self,
        engine: Engine,
        masker: Masker,
        base_env: Mapping[str, str],
        given_env: Mapping[str, str],
        socket_path: str,
        text_at: Callable[[int], str | None],
        script: str | None = None,
        root: Path | None = None,
    ) -> None:
        self.engine = engine
        self.script = script  # the node id of the script whose calls this broker runs
        self.root = root  # the script's directory: usacloud reads and writes files only under it
        self.masker = masker
        self.seen = masker  # grows with every call's expanded secrets
        # the run's environment for this script (engine.env_for), without a trace: usacloud's
        # stderr is the script's own here, unmasked
        self.base_env = {k: v for k, v in base_env.items() if k not in TRACE_VARIABLES}
        self.pins = engine.pins(self.base_env)  # zone, fake mode and store, credentials: over everything
        self.given_env = dict(given_env)  # what bash was given: a call's variables are compared with it
        self.socket_path = socket_path
        self.text_at = text_at  # the script's text for a line (None if no usacloud command starts there)
        self.cookie = secrets.token_hex(16)
        self.port = 0
        self.calls: list[CommandRecord | None] = []
        self.exits: list[int] = []
        self.tested: list[bool] = []  # per call: its caller stood where bash tests the status (``if !``)
        self.fallback = False  # set once pidfd_getfd was refused: the function hands over to the shim
        self.session = 0  # bash's session: its jobs that outlive it are orphans, no descendants of ours
        self.linger = engine.settings.command_timeout  # how long calls may go on once bash has exited
        self._linger_until: float | None = None
        self._active = 0  # connections accepted and not yet answered
        self._handed_over: set[int] = set()  # callers told to use the shim, until their shim connects
        self._pending: dict[int, tuple[int, str]] = {}  # calls being served: their line and text
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._reading: set[socket.socket] = set()
        self._servers: list[socket.socket] = []
        engine.limiter()  # create it once here: every call's copy of the engine shares it

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> Broker:
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(self.socket_path)
        os.chmod(self.socket_path, 0o600)
        unix.listen(128)
        self._servers = [unix]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", 0))
            tcp.listen(128)
            self.port = tcp.getsockname()[1]
            self._servers.append(tcp)
        except OSError:  # no loopback TCP: port 0 makes every call take the Unix socket (the shim)
            tcp.close()
        thread = threading.Thread(target=self._accept, name="usacloud-broker", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def serve_session(self, sid: int) -> None:
        """Serve processes of session ``sid`` too (bash's, which it started in a session of its own):
        a process cannot join a session it did not start in, so they are bash's, orphans included."""
        self.session = sid

    def busy(self) -> bool:
        """Once bash has exited: whether a call that reached the broker is still served, or waits to be
        (accepted under the lock, so a connection is either waiting or counted), for at most
        :attr:`linger` seconds from the first time it is asked. Under plain bash such calls complete."""
        now = time.monotonic()
        if self._linger_until is None:
            self._linger_until = now + self.linger
        if now > self._linger_until:
            return False
        with self._lock:
            waiting = select.select(self._servers, [], [], 0)[0] if self._servers else []
            return bool(self._active or waiting or any(map(peers.is_running, self._handed_over)))

    def close(self, grace: float = CLOSE_GRACE) -> list[CommandRecord]:
        """Stop accepting, cancel and wait (bounded) for calls in flight; the calls' records in order."""
        self._closing.set()
        with self._lock:
            for conn in self._reading:
                _shutdown(conn)
        deadline = time.monotonic() + grace
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        for server in self._servers:
            server.close()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        with self._lock:
            for index, cmd in enumerate(self.calls):
                if cmd is None:  # still being served
                    line, text = self._pending.get(index, (0, "usacloud"))
                    self.calls[index] = self._cancelled(line, text)
            return [c for c in self.calls if c is not None]

    def _cancelled(self, line: int, text: str) -> CommandRecord:
        over = self._linger_until is not None and time.monotonic() > self._linger_until
        message = LEFT_RUNNING.format(self.linger) if over else VANISHED
        return CommandRecord(
            line=line, text=text, status=CommandStatus.CANCELLED, cls=ResultClass.CANCELLED, message=message
        )

    # -- serving --------------------------------------------------------------------------------

    def _accept(self) -> None:
        sel = selectors.DefaultSelector()
        for server in self._servers:
            sel.register(server, selectors.EVENT_READ, server.family == socket.AF_UNIX)
        try:
            while not self._closing.is_set():
                for key, _ in sel.select(ACCEPT_POLL):
                    with self._lock:  # busy() sees a connection either waiting here or counted
                        try:
                            conn, _ = key.fileobj.accept()
                        except OSError:
                            continue
                        thread = threading.Thread(
                            target=self._serve, args=(conn, key.data), name="usacloud-call", daemon=True
                        )
                        self._active += 1
                        self._reading.add(conn)
                        self._threads.append(thread)
                    if not key.data:
                        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    thread.start()
        finally:
            sel.close()

    def _serve(self, conn: socket.socket, unix: bool) -> None:
        files: list[int | None] = []
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            try:  # a stranger (no cookie, or not a process of this script) gets no answer
                request = protocol.read_request(conn, unix, partial(self._authenticate, conn, unix))
            except (protocol.BadRequest, OSError, ValueError):
                return
            finally:
                with self._lock:
                    self._reading.discard(conn)
            conn.settimeout(None)
            if unix:  # the shim of a caller that was handed over (its parent)
                self._handed_over.discard(peers.parent_of(request.pid))
            try:
                files, pid = self._files(request, conn, unix)
            except LookupError:
                return  # a stranger, or a caller already gone: no answer
            if files is None:
                with self._lock:
                    self._handed_over.add(pid)
                conn.sendall(protocol.FALLBACK.encode() + b"\n")
                return
            code = self._call(request, conn, files, pid)
            conn.sendall(b"%d\n" % code)
        except OSError:
            pass
        finally:
            protocol.close_all(files or ())
            conn.close()
            with self._lock:
                self._active -= 1

    def _authenticate(self, conn: socket.socket, unix: bool, kind: str, token: str, pid: int) -> int:
        """The caller's pid, if it knows the script's cookie and is a process of the script (a
        descendant of this worker, or in bash's session: an orphaned job). The kernel says which
        process it is: on the Unix socket its peer credentials, on TCP the process holding the
        connection's other end, which must be the pid the request declares (another process of the
        run cannot call in a script's name)."""
        if unix:
            pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid != os.getuid():
                raise protocol.Stranger("another user")
        cookie = token.encode("utf-8", "surrogateescape")
        if kind != ("shim" if unix else "fn") or not secrets.compare_digest(cookie, self.cookie.encode()):
            raise protocol.Stranger("not the script's client")
        if not peers.is_descendant(pid, os.getpid()) and not (self.session and peers.session_of(pid) == self.session):
            raise protocol.Stranger("not a process of the script")
        if not unix and not peers.holds_connection(pid, conn):
            raise protocol.Stranger("the declared process does not hold this connection")
        return pid

    def _files(self, request: protocol.Request, conn: socket.socket, unix: bool):
        """The caller's descriptors 0, 1, 2 (None: the function must hand over to the shim) and its pid."""
        if unix:
            return request.fds, request.pid
        if self.fallback:
            return None, request.pid
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while True:
            try:
                files = protocol.PIDFD.take(request.pid)
            except protocol.NoDescriptors:
                self.fallback = True
                return None, request.pid
            # The function wrote its request with its stdout sent to this connection (`{ ...; } >&$fd`);
            # until bash has put its stdout back, what we took is that, not the caller's stdout.
            if not any(peers.is_other_end(fd, conn) for fd in files) or time.monotonic() > deadline:
                return files, request.pid
            protocol.close_all(files)
            time.sleep(RETAKE_PAUSE)

    def call_env(self, caller_env: Mapping[str, str]):
        """usacloud's environment for a call from a process whose environment is ``caller_env``.

        Returns (env, refusal). Only allowed settings the script changed are applied; the run's pins
        are laid over everything.
        """
        mine = {k: v for k, v in caller_env.items() if not k.startswith(ENV_PREFIX)}
        applied, refusal = from_shell(mine, self.given_env)
        if refusal is not None:
            return {}, refusal
        return {**self.base_env, **applied, **self.pins}, None

    def _call(self, request: protocol.Request, conn: socket.socket, files: list[int | None], pid: int) -> int:
        words = ["usacloud", *request.words]
        line = request.line
        text = self.text_at(line) or shown(words)
        with self._lock:
            index = len(self.calls)
            self.calls.append(None)
            self.exits.append(EXIT_REFUSED)
            self.tested.append(request.env.get(TESTED_ENV) == "1")
            self._pending[index] = (line, self.masker.text(text))
        given_secrets = [request.env.get(name) for name in SECRET_ENV]
        masker = _with_secrets(self.masker, given_secrets).with_words(words)
        with self._lock:
            self.seen = self.seen.with_values(masker.secrets)  # bash's own output is masked with all of them
        command = Command(line=line, end_line=line, text=text, words=tuple(words), expansion=None, nested=False)
        state: dict = {}
        call_engine = replace(
            self.engine,
            stop=partial(self._stopped, conn),
            stats=WorkerStats(),
            publish=None,
            command_runner=partial(self._run_here, files, conn, pid, state),
            output_to_script=True,
        )

        def not_run(status, cls, message: str) -> CommandRecord:
            text_, words_ = masker.text(text), list(masker.words(words))
            return CommandRecord(line=line, text=text_, words=words_, status=status, cls=cls, message=message)

        try:
            env, refusal = self.call_env(request.env)
            if refusal is not None:
                cmd = not_run(CommandStatus.REFUSED, ResultClass.REFUSED, masker.text(refusal.describe()))
                call_engine.stats.refused += 1
            else:
                cmd = call_engine.run_one(command, masker, env, _cwd_of(pid), self.script, self.root)
        except Exception as exc:
            cmd = not_run(CommandStatus.FAILED, ResultClass.ERROR, f"internal error in the sandbox broker: {exc!r}")
        if state.get("vanished") and cmd.status == CommandStatus.CANCELLED:
            cmd.message = self._cancelled(line, text).message
        code, message = exit_of(cmd, state.get("last"))
        with self._lock:
            self.calls[index], self.exits[index] = cmd, code
            self._pending.pop(index, None)
            self.engine.stats.add(asdict(call_engine.stats))
            if self.engine.publish is not None:
                self.engine.publish(self.engine.stats, False)
        if message and files[2] is not None:
            _write(files[2], f"{PREFIX}{message}\n")
        return code

    def _stopped(self, conn: socket.socket) -> bool:
        """The call's stop: the run's stop signal, the script having ended, or its caller gone."""
        return bool(self.engine.stop()) or self._closing.is_set() or _peer_gone(conn)

    def _run_here(self, files, conn, pid, state, argv, env, timeout, should_stop=None, children=None, **_) -> RunResult:
        """The command_runner of a call: usacloud runs here, with the caller's files and directory."""
        cwd = _cwd_of(pid)
        result = runner.run_command(
            argv,
            env,
            timeout,
            should_stop,
            children=children,
            cwd=None if cwd is None else str(cwd),
            stdin=files[0],
            forward=(files[1], files[2]),
            watch=conn,
        )
        state["last"] = result
        if result.cancelled and _peer_gone(conn):
            state["vanished"] = True
        return result


def exit_of(cmd: CommandRecord, last: RunResult | None) -> tuple[int, str | None]:
    """A call's exit status, and what the caller gets on stderr (None: usacloud spoke for itself)."""
    if cmd.status == CommandStatus.DRY_RUN:
        return 0, None
    if cmd.status == CommandStatus.CANCELLED:
        return EXIT_CANCELLED, cmd.message or "cancelled: the run was stopped"
    if cmd.status in (CommandStatus.REFUSED, CommandStatus.INVALID) or last is None:
        hint = f" ({cmd.hint})" if cmd.hint and cmd.status == CommandStatus.INVALID else ""
        return EXIT_REFUSED, (cmd.message or cmd.status) + hint
    if last.launch_error is not None:
        return EXIT_NOT_STARTED, cmd.message
    if cmd.cls == ResultClass.FAKE_HANG:  # fake mode: it hung after doing its work, and counts as done
        return 0, cmd.message
    if last.timed_out:
        return EXIT_TIMEOUT, cmd.message
    if last.signal is not None:
        return 128 + last.signal, None
    code = last.exit_code if last.exit_code is not None else EXIT_REFUSED
    if cmd.cls == ResultClass.RATE_LIMITED or cmd.status == CommandStatus.UNSUPPORTED:
        return code, cmd.message
    return code, None


def _with_secrets(masker: Masker, values) -> Masker:
    extra = {v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET}
    if not extra - set(masker.secrets):
        return masker
    return Masker(tuple(sorted(set(masker.secrets) | extra, key=len, reverse=True)))


def _write(fd: int, text: str) -> None:
    data = text.encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _peer_gone(sock: socket.socket) -> bool:
    """True once the caller has closed its end (it says nothing while it waits for an answer)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def _cwd_of(pid: int) -> Path | None:
    """The calling process's current directory (where its usacloud reads relative files), if readable."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None
