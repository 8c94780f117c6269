"""Collection: one pytest item per usacloud script, with markers from its header comments."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import pytest

from .record.inflight import InFlight
from .record.script import ScriptRecord
from .record.vocabulary import ResultClass, ScriptOutcome
from .report import teststatus
from .report.reprs import (
    cancel_text,
    command_line,
    failure_text,
    header,
    is_partly_run,
    is_script,
    nothing_ran,
    partly_run,
    printable,
    script_path,
    skipped_commands,
)
from .run.execute import Engine
from .script.load import SHELL_MARKER, load_script
from .script.parse import MarkerSpec, ScriptError, parse_markers
from .script.syntax import find_bash
from .usacloud.mask import Masker

ENGINE_KEY = pytest.StashKey[Engine]()
RECORDS_KEY = pytest.StashKey[InFlight]()  # this process's scripts' records in flight
HEADER_BYTES = 64 * 1024
# pytest evaluates string conditions of skipif/xfail as Python: a script may only give literals.
_CONDITION_MARKERS = ("skipif", "xfail")


class ScriptInputError(Exception):
    """The script could not be read or parsed: reported on its own item, never a session error."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class ScriptFailed(Exception):
    def __init__(self, record: ScriptRecord) -> None:
        super().__init__(record.message)
        self.record = record


class Scope:
    """Which files are usacloud scripts to collect (no surprise collection).

    A file whose name matches the glob is collected when it lies under a configured script path
    (``--usacloud-scripts`` / ini ``usacloud_scripts``), when it is named on the command line
    (``pytest a.usacloud`` or ``a.usacloud::a``), or anywhere with ``usacloud_collect = anywhere``.
    """

    def __init__(self, glob: str, anywhere: bool, roots, named) -> None:
        self.glob = glob
        self.anywhere = anywhere
        self.roots = tuple(f for p in roots for f in _forms(Path(p)))
        self.named = frozenset(f for p in named for f in _forms(Path(p)))

    @classmethod
    def from_config(cls, config: pytest.Config, settings) -> Scope:
        base = Path(config.invocation_params.dir)
        named = []
        for arg in config.args:
            path = base / str(arg).split("::", 1)[0]
            if is_script(path, settings.script_glob):
                named.append(path)
        return cls(settings.script_glob, settings.collect == "anywhere", settings.scripts, named)

    @property
    def asked(self) -> bool:
        """Scripts were asked for: a configured script path, or a script named on the command line."""
        return bool(self.roots or self.named)

    def wants(self, path: Path) -> bool:
        if not is_script(path, self.glob):
            return False
        if self.anywhere:
            return True
        path = path.absolute()
        if self._covers(path):  # the path as given: no symbolic link to resolve (every worker asks, per file)
            return True
        try:
            resolved = path.resolve()
        except OSError:
            return False
        return resolved != path and self._covers(resolved)

    def _covers(self, form: Path) -> bool:
        if form in self.named:
            return True
        text = str(form)
        return any(text == root or text.startswith(under) for root, under in self._under)

    @functools.cached_property
    def _under(self) -> tuple[tuple[str, str], ...]:
        """Each root as text, and the prefix of what lies under it."""
        return tuple((str(root), str(root).rstrip(os.sep) + os.sep) for root in self.roots)


def _forms(path: Path) -> tuple[Path, ...]:
    """The path as given (made absolute) and with symbolic links resolved."""
    path = path.absolute()
    try:
        resolved = path.resolve()
    except OSError:
        return (path,)
    return (path,) if resolved == path else (path, resolved)


class UsacloudFile(pytest.File):
    def collect(self):
        item = UsacloudItem.from_parent(self, name=self.path.stem)
        try:
            specs = parse_markers(_read_header(self.path))
        except ScriptError as exc:
            item.input_error = ScriptInputError(exc.line, exc.message)
            specs = ()
        except OSError as exc:
            item.input_error = ScriptInputError(0, f"cannot read the script: {exc.strerror or exc}")
            specs = ()
        marks = []
        for spec in specs:
            try:
                marks.append(_marker(spec, self.path))
            except (ValueError, TypeError, AttributeError, Warning, pytest.fail.Exception) as exc:
                item.input_error = ScriptInputError(spec.line, f"bad marker {spec.name!r}: {_one_line(exc)}")
                marks = []  # one bad marker: none apply (an xfail must not hide the error)
                break
        for mark in marks:
            item.add_marker(mark)
        yield item


class ScriptSkipped(pytest.skip.Exception):
    """The script was skipped by the plugin (cancelled, or nothing ran): reported at the script."""


class UsacloudItem(pytest.Item):
    """One script. Its record is not kept on the item (pytest keeps every item for the whole
    session): it is in flight (:class:`~.record.inflight.InFlight`) from the start of its run until
    its teardown report is made."""

    input_error: ScriptInputError | None = None

    def runtest(self) -> None:
        engine = self.config.stash[ENGINE_KEY]
        record = ScriptRecord(path=str(self.path), nodeid=self.nodeid, worker=engine.worker, mode=engine.settings.mode)
        self.config.stash[RECORDS_KEY].put(record)
        try:
            self._run(engine, record)
        finally:
            self._properties(record)

    def _run(self, engine: Engine, record: ScriptRecord) -> None:
        try:
            if self.input_error is not None:
                raise self.input_error
            if engine.stop():
                record.status = ScriptOutcome.CANCELLED
                raise ScriptSkipped(_cancelled(engine, record))
            shell_wanted = self._wants_shell(engine)
            try:  # a script meant for bash is checked as commands in a dry-run, but not held to the order
                bash = find_bash(engine.base_env.get("PATH", os.defpath))
                parsed = load_script(self.path, engine.settings.max_script_bytes, shell=shell_wanted, bash=bash)
            except ScriptError as exc:
                raise ScriptInputError(exc.line, exc.message) from None
            if shell_wanted and not engine.settings.dry_run:  # shell mode
                from .run import shell  # its modules (the broker, the shim's protocol) only where used

                shell.run_item(self, engine, parsed, record)
            else:
                record.mode = "commands"
                engine.run(parsed, record)
        except ScriptInputError as exc:
            record.status, record.cls = ScriptOutcome.FAILED, ResultClass.INVALID_SCRIPT
            record.line, record.message = exc.line, exc.message
            raise
        if record.status == ScriptOutcome.CANCELLED:
            raise ScriptSkipped(_cancelled(engine, record))
        if record.status == ScriptOutcome.FAILED:
            raise ScriptFailed(record)
        if record.status == ScriptOutcome.SKIPPED:  # a limit of usacloud's fake mode
            raise ScriptSkipped(record.message)
        nothing = nothing_ran(record, engine.settings.dry_run, self._wants_shell(engine))
        if nothing is not None:  # a green run means the commands really ran
            record.status, (record.message, record.line) = ScriptOutcome.SKIPPED, nothing
            raise ScriptSkipped(record.message)
        if engine.settings.strict and is_partly_run(record):
            record.status, record.cls = ScriptOutcome.FAILED, ResultClass.PARTLY_RUN
            record.message, record.line = partly_run(record, engine.settings.dry_run, self._wants_shell(engine))
            raise ScriptFailed(record)

    def _wants_shell(self, engine: Engine) -> bool:
        return engine.settings.mode == "shell" or self.get_closest_marker(SHELL_MARKER) is not None

    def _properties(self, record: ScriptRecord) -> None:
        """JUnit's properties (the status also tells pytest's report what to call the result), and the
        commands that were skipped as the item's output (JUnit's system-out with ``junit_logging``)."""
        passed = record.status == ScriptOutcome.PASSED
        self.user_properties.extend(
            [
                (teststatus.STATUS_PROPERTY, str(teststatus.status(record))),
                ("usacloud_commands", len(record.commands)),
                ("usacloud_commands_run", record.commands_run),
                ("usacloud_commands_failed", record.commands_failed),
                ("usacloud_class", str(record.cls or (ResultClass.OK if passed else record.status))),
            ]
        )
        skipped, checks = skipped_commands(record), record.skipped_checks
        lines = [f"skipped commands ({len(skipped)}):", *(f"  {command_line(c)}" for c in skipped)] if skipped else []
        if checks:
            lines.append(f"skipped lines that can decide the result ({len(checks)}):")
            lines.extend(f"  line {c.line:<4} {' '.join(c.text.split())}  ({c.why})" for c in checks)
        if lines:
            self.add_report_section("call", "stdout", printable("\n".join(lines)) + "\n")

    def repr_failure(self, excinfo, style=None):
        relpath = self.location[0]
        if isinstance(excinfo.value, ScriptFailed):
            if excinfo.value.record.mode == "shell":
                from .run import shell

                text = shell.failure_text(excinfo.value.record, relpath, self.stash.get(shell.BASH_OUTPUT, None))
                return FailureRepr(printable(text))
            return FailureRepr(printable(failure_text(excinfo.value.record, relpath)))
        if isinstance(excinfo.value, ScriptInputError):
            err = excinfo.value
            where = f"{relpath}:{err.line}" if err.line else relpath
            return FailureRepr(printable("\n".join(header(ResultClass.INVALID_SCRIPT, err.message, where))))
        return FailureRepr(printable(self._internal_error(excinfo, style)))

    def _internal_error(self, excinfo: pytest.ExceptionInfo, style) -> str:
        """Any other exception is the plugin's own bug: its traceback, masked, and without the frames'
        arguments and variables (pytest shows them with ``-l``, and in long tracebacks): they hold the
        run's environment, the API key included."""
        engine = self.config.stash.get(ENGINE_KEY, None)
        masker = Masker.from_sources(engine.base_env if engine is not None else os.environ)
        trace = excinfo.getrepr(funcargs=False, showlocals=False, style="short" if style == "short" else "long")
        message = f"internal error in pytest-usacloud-sandbox: {excinfo.typename}: {excinfo.value}"
        lines = header(ResultClass.ERROR, message, self.location[0])
        lines += ["  " + line for line in str(trace).splitlines()]
        return masker.text("\n".join(lines))

    def reportinfo(self):
        """The script, at its failing line once it has run (while its record is in flight)."""
        records = self.config.stash.get(RECORDS_KEY, None)
        record = records.running(self.nodeid) if records is not None else None
        line = record.line if record is not None else None
        if line is None and self.input_error is not None and self.input_error.line:
            line = self.input_error.line
        return self.path, (line - 1) if line else 0, f"usacloud script: {self.path.name}"


class FailureRepr:
    """A failure's text as pytest's reports take it: ``toterminal`` for the failure section, and a
    one-line ``reprcrash.message`` (the text's first line: class and message) for the short summary
    and JUnit's failure message. Across xdist the text travels as a string and the controller wraps
    it again (:meth:`wrap`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.reprcrash = _Crash(text.split("\n", 1)[0])

    def toterminal(self, tw) -> None:
        for line in self.text.split("\n"):
            tw.line(line)

    def __str__(self) -> str:
        return self.text

    @classmethod
    def wrap(cls, report: pytest.TestReport) -> None:
        if report.failed and isinstance(report.longrepr, str):
            report.longrepr = cls(report.longrepr)


class _Crash:
    def __init__(self, message: str) -> None:
        self.message = message


def _cancelled(engine: Engine, record: ScriptRecord) -> str:
    """The skip reason of a cancelled script, kept in its record too (the JSON report's message)."""
    record.message = _cancel_reason(engine, record)
    return record.message


def _cancel_reason(engine: Engine, record: ScriptRecord) -> str:
    reason = engine.stop.reason()
    if reason is None:
        return "cancelled: the run was stopped"
    if reason.nodeid.startswith("("):  # Ctrl-C or SIGTERM
        return f"cancelled: {reason.cls} ({reason.message})"
    where = script_path(reason.nodeid, engine.settings.script_glob) or reason.nodeid
    return cancel_text(where, reason.cls, record.commands_run, getattr(reason, "shard", ""))


def _read_header(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    return head.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\x00", "\ufffd")


def _marker(spec: MarkerSpec, path: Path) -> pytest.MarkDecorator:
    """The marker a header line names. pytest's warnings about it (an unknown marker) point at that
    line of the script, not at this module; one turned into an error (``-W error``) is the item's."""
    kwargs = dict(spec.kwargs)
    if spec.name in _CONDITION_MARKERS:
        conditions = list(spec.args) + ([kwargs["condition"]] if "condition" in kwargs else [])
        for condition in conditions:
            if isinstance(condition, str):
                raise ValueError(
                    f"the condition must be a literal such as True, not a string (pytest would evaluate {condition!r})"
                )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mark = getattr(pytest.mark, spec.name)(*spec.args, **kwargs)
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, os.fspath(path), spec.line)
    return mark


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
