"""RunLog: counts, the status line, the summary and the JSON report (with its schema)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import typing
from pathlib import Path

import pytest

from pytest_usacloud_sandbox.record.command import Attempt, CommandRecord, Finding
from pytest_usacloud_sandbox.record.fields import from_plain, plain
from pytest_usacloud_sandbox.record.inflight import InFlight
from pytest_usacloud_sandbox.record.script import ScriptRecord, from_wire, to_wire
from pytest_usacloud_sandbox.record.vocabulary import (
    REPORTED,
    WORDS,
    CommandStatus,
    ResultClass,
    ScriptOutcome,
    Verdict,
)
from pytest_usacloud_sandbox.report import runlog as rl
from pytest_usacloud_sandbox.report.document import SCHEMA_VERSION
from pytest_usacloud_sandbox.report.schema import SCHEMA, markdown, validate
from pytest_usacloud_sandbox.report.summary import clock
from pytest_usacloud_sandbox.settings import Settings
from pytest_usacloud_sandbox.usacloud.mask import mask_url

jsonschema = pytest.importorskip("jsonschema")

T0 = 1_700_000_000.0
OPTIONS = {"usacloud_rate": "2.0", "usacloud_rate_backend": "redis://:***@127.0.0.1:6379/0", "token": "***"}


def command(line, duration=None, cls="ok", status="ok", attempts=1, wait=0.0, findings=()):
    cmd = CommandRecord(
        line=line,
        text=f"usacloud server list # line {line}",
        status=status,
        cls=cls,
        words=["usacloud", "server", "list", "--zone", "tk1v"],
        findings=list(findings),
    )
    if duration is not None:
        cmd.start, cmd.end, cmd.duration = T0, T0 + duration, duration
        cmd.exit_code = 0 if cls == "ok" else 1
        cmd.token_wait = wait
        cmd.attempts = [Attempt(T0, T0 + duration, cmd.exit_code, cls, wait / attempts) for _ in range(attempts)]
    return cmd


def script(name, *commands, status="passed", cls=None, line=None, message="", outcome=None):
    """A finished script's (frozen) record; its outcome is its status unless given."""
    record = ScriptRecord(
        path=f"/abs/{name}.usacloud",
        nodeid=f"{name}.usacloud::{name}",
        worker="gw0",
        status=status,
        cls=cls,
        line=line,
        message=message,
        start=T0,
        end=T0 + 3,
        outcome=outcome or status,
    )
    record.commands = list(commands)
    return record.nodeid, record.freeze()


def make(tmp_path, report=True, rate=2.0, **kw):
    settings = Settings(report=tmp_path / "out" / "report.json" if report else None, rate=rate, **kw)
    return rl.RunLog(settings, tmp_path / "run", T0, OPTIONS, "redis://:hunter22@127.0.0.1:6379/0", workers=2)


@pytest.fixture
def log(tmp_path):
    log = make(tmp_path)
    log.set_total(13)
    for i in range(8):
        log.script_started(f"s{i}.usacloud::s{i}", now=T0)
    log.first_start = T0  # as if the scripts started at T0
    nodeid, data = script("s0", command(1, 1.0), command(2, 9.0, attempts=3, wait=4.5))
    log.script_finished(nodeid, "passed", data, None)
    nodeid, data = script("s1", command(1, 2.0), command(2, 5.0), command(3, 7.0))
    log.script_finished(nodeid, "passed", data, None)
    warn = Finding("warning", "zone-all", "--zone=all", "--zone=all\nreaches every zone")
    nodeid, data = script(
        "s2",
        command(4, 3.0, findings=[warn]),
        command(5, 0.5, cls="not-found", status="failed"),
        command(6, status="not-run", cls=None),
        status="failed",
        cls="not-found",
        line=5,
        message="no server matched",
    )
    log.script_finished(nodeid, "failed", data, "longrepr text")
    nodeid, data = script(
        "s3",
        command(2, cls="refused", status="refused"),
        status="failed",
        cls="refused",
        line=2,
        message="delete is refused",
    )
    log.script_finished(nodeid, "failed", data, None)
    log.script_finished("s4.usacloud::s4", "skipped", None, "skipped: known issue")
    nodeid, data = script("s5", command(1, 0.2), status="cancelled")
    log.script_finished(nodeid, "cancelled", data, None)
    nodeid, data = script("s6", command(1, 0.1))
    log.script_finished(nodeid, "passed", data, None)
    return log


def test_counts(log):
    assert log.counts == {"passed": 3, "failed": 2, "skipped": 1, "cancelled": 1, "xfailed": 0, "xpassed": 0}
    assert log.done == 7
    assert set(log.running) == {"s7.usacloud::s7"}
    assert log.commands == 11 and log.commands_run == 9
    assert log.attempts == 11 and log.retries == 2
    assert log.refused == 1
    assert log.token_wait == pytest.approx(4.5)
    assert log.by_class == {"ok": 8, "not-found": 1, "refused": 1, "not-run": 1}


def test_slowest_five_and_failed_lines(log):
    lines = log.summary_lines(ended=T0 + 21)
    at = lines.index("slowest 5 commands:")
    slow = lines[at + 1 : at + 6]
    assert [float(s.split("s", 1)[0]) for s in slow] == [9.0, 7.0, 5.0, 3.0, 2.0]
    assert "s0.usacloud:2" in slow[0]
    assert "failed scripts (2):" in lines
    assert "  s2.usacloud:5 not-found: no server matched" in lines
    assert "  s3.usacloud:2 refused: delete is refused" in lines
    assert "  s2.usacloud:4 zone-all --zone=all reaches every zone" in lines
    # pytest's short summary lists the failures already: not a second time
    quiet = log.summary_lines(ended=T0 + 21, list_failed=False)
    assert not any(line.startswith("failed scripts") or "no server matched" in line for line in quiet)


def test_summary_numbers(log):
    lines = log.summary_lines(ended=T0 + 20, stop_reason="run stopped by x (auth): 401")
    assert lines[0] == "scripts: 3 passed, 2 failed, 1 skipped, 1 cancelled (of 13; 6 not finished)"
    assert lines[1].startswith("commands: 11 in finished scripts, 9 run; by class: ok 8, ")
    assert lines[2] == "retries: 2 | refused: 1 | attempts: 11"
    assert lines[3] == (
        "rate: -- of 2.00/s (11 starts, burst 1) | token wait 4.5s summed over every command, 0.41s mean per command "
        "| 00:20 elapsed"
    )
    assert "stopped: run stopped by x (auth): 401" in lines


def test_status_line(log):
    line = log.status_line(T0 + 21, width=400)
    assert line.startswith("usacloud: 7/13 scripts (54%) | 3 passed 2 failed 1 skipped 1 cancelled | 9 cmds | ")
    assert (
        "| 0.48/s of 2.00/s | token wait 0.41s/cmd | 00:21 elapsed | ETA 00:18 | running 1: s7.usacloud 00:21" in line
    )


def test_status_line_shows_running_scripts_longest_first_as_many_as_fit(tmp_path):
    log = make(tmp_path)
    log.set_total(9)
    for n, name in enumerate(["b", "c", "a", "d"]):
        log.script_started(f"dir/{name}.usacloud::{name}", now=T0 + 10 * n)
    wide = log.status_line(T0 + 65, width=400)
    assert wide.endswith("| running 4: b.usacloud 01:05, c.usacloud 00:55, a.usacloud 00:45, d.usacloud 00:35")
    without = wide[: wide.index(" | running 4")]
    base = len(without) + len(" | running 4: b.usacloud 01:05, c.usacloud 00:55 +2")
    narrow = log.status_line(T0 + 65, width=base)
    assert narrow == without + " | running 4: b.usacloud 01:05, c.usacloud 00:55 +2"


def test_status_line_fits_its_width_dropping_fields_by_priority_never_mid_word(tmp_path):
    log = make(tmp_path)
    log.set_total(13)
    for n in range(5):
        log.script_finished(f"p{n}.usacloud::p{n}", "passed", None, None)
    log.script_finished("f.usacloud::f", "failed", None, None)
    log.script_started("dir/db.usacloud::db", now=T0 + 9)
    log.script_started("dir/web.usacloud::web", now=T0 + 18)
    log.first_start = T0
    log.live_stats({"gw0": {"commands": 41, "attempts": 41, "token_wait": 12.3}})
    full = log.status_line(T0 + 21, width=400)
    assert full == (
        "usacloud: 6/13 scripts (46%) | 5 passed 1 failed 0 skipped 0 cancelled | 41 cmds | 1.90/s of 2.00/s "
        "| token wait 0.30s/cmd | 00:21 elapsed | ETA 00:24 | running 2: db.usacloud 00:12, web.usacloud 00:03"
    )
    for width in range(40, 200):
        line = log.status_line(T0 + 21, width=width)
        assert len(line) <= width, (width, line)
        fields = line.split(" | ")
        for field in fields:  # whole fields of the full line only: never a word cut
            assert (
                field in full.split(" | ")
                or field == "5 passed 1 failed"
                or re.fullmatch(r"running 2(: db\.usacloud 00:12(, web\.usacloud 00:03| \+1))?", field)
            ), (width, field)
        assert "running 2" in line, (width, line)  # the running scripts outlast every field but the head
    at_80 = log.status_line(T0 + 21, width=79)
    assert at_80 == "usacloud: 6/13 scripts (46%) | ETA 00:24 | running 2: db.usacloud 00:12 +1"
    assert log.status_line(T0 + 21, width=20) == "usacloud: 6/13"  # cut between words only
    assert log.status_line(T0 + 21, width=5) == "usacloud:"  # at least the first word, never part of one


def test_status_line_says_collecting_before_collection_ends(tmp_path):
    log = make(tmp_path)
    assert log.status_line(T0 + 1).startswith("usacloud: collecting | ")
    assert "0/0" not in log.status_line(T0 + 1)
    log.set_total(0)
    assert log.status_line(T0 + 1).startswith("usacloud: 0/0 scripts")


def test_status_line_takes_newer_live_counters(log):
    log.live_stats({"gw0": {"commands": 30, "attempts": 33, "tokens": 33, "token_wait": 10.0}})
    log.live_stats({"gw1": {"commands": 11, "attempts": 9, "tokens": 9, "token_wait": 2.3}})
    log.live_stats({"gw0": {"commands": 30, "attempts": 33, "tokens": 33, "token_wait": 10.0}})
    line = log.status_line(T0 + 21)
    assert "| 41 cmds | 1.95/s of 2.00/s | token wait 0.29s/cmd |" in line  # (42 attempts - burst 1) / 21 s


def test_status_line_edges(tmp_path):
    log = make(tmp_path, rate=math.inf)
    log.set_total(0)
    assert log.status_line(T0 + 3725) == (
        "usacloud: 0/0 scripts (0%) | 0 passed 0 failed 0 skipped 0 cancelled | 0 cmds | "
        "0.00/s of unlimited | 1:02:05 elapsed | ETA --:--"
    )
    log.set_total(3)
    for i in range(3):
        log.script_finished(f"a{i}", "passed", None, None)
    assert "3/3 scripts (100%)" in log.status_line(T0 + 1) and "ETA 00:00" in log.status_line(T0 + 1)
    dry = make(tmp_path, dry_run=True)
    dry.set_total(200)
    dry.script_finished("a", "passed", None, None)
    assert "1/200 scripts (0%)" in dry.status_line(T0) and "| dry-run |" in dry.status_line(T0)
    dry.set_total(1000)
    for i in range(998):
        dry.script_finished(f"b{i}", "passed", None, None)
    assert "999/1000 scripts (99%)" in dry.status_line(T0)  # never 100% before the end


def load(path):
    doc = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert validate(doc) is True
    return doc


def test_report_validates(log, tmp_path):
    path = tmp_path / "out" / "report.json"
    log.write_report(path, T0 + 21, interrupted=False, stop_reason=None, usacloud_version="1.22.8")
    doc = load(path)
    assert doc["schema"] == "pytest-usacloud-sandbox/report" and doc["schema_version"] == SCHEMA_VERSION
    run = doc["run"]
    assert run["duration"] == 21 and run["workers"] == 2 and run["rate"] == 2.0 and run["burst"] == 1
    assert run["usacloud_version"] == "1.22.8" and run["interrupted"] is False
    assert run["outcomes"]["passed"] == 3 and run["scripts_total"] == 13 and run["retries"] == 2
    assert run["backend"] == "redis://:***@127.0.0.1:6379/0"
    assert [s["nodeid"].split("::")[0] for s in doc["scripts"]] == [f"s{i}.usacloud" for i in range(7)]
    s0, s4 = doc["scripts"][0], doc["scripts"][4]
    assert s0["outcome"] == "passed" and s0["duration"] == 3 and s0["token_wait"] == 4.5
    assert len(s0["commands"][1]["attempts"]) == 3 and s0["commands"][1]["words"][-1] == "tk1v"
    assert s4["outcome"] == "skipped" and s4["status"] == "skipped" and s4["commands"] == []
    assert s4["message"] == "skipped: known issue"
    assert not list(path.parent.glob(".*tmp"))


def test_masked_options_used_verbatim(log, tmp_path):
    path = tmp_path / "r.json"
    log.write_report(path, T0 + 1, False, None, None)
    assert load(path)["run"]["options"] == OPTIONS
    assert "hunter22" not in path.read_text()


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_report_gets_the_permissions_pytest_gives_the_junit_file(log, tmp_path, umask):
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    old = os.umask(umask)
    try:
        with open(junit, "w") as fh:  # what pytest's --junitxml does
            fh.write("<x/>")
        log.write_report(report, T0 + 1, False, None, None)
    finally:
        os.umask(old)
    assert report.stat().st_mode & 0o777 == junit.stat().st_mode & 0o777 == 0o666 & ~umask
    report.chmod(0o640)  # an existing report keeps its mode, as an existing JUnit file does
    log.write_report(report, T0 + 2, False, None, None)
    assert report.stat().st_mode & 0o777 == 0o640


def test_report_and_summary_strip_terminal_control_sequences(tmp_path):
    log = make(tmp_path)
    cmd = command(1, 1.0, cls="not-found", status="failed")
    cmd.stderr_tail = "\x1b[31mError\x1b[0m: not found\x1b]0;title\x07 \x07bell\r\n"
    cmd.message = "\x1b[1mnot found\x1b[0m"
    nodeid, data = script("s", cmd, status="failed", cls="not-found", line=1, message="\x1b[1mnot found\x1b[0m")
    log.script_finished(nodeid, "failed", data, None)
    path = tmp_path / "r.json"
    log.write_report(path, T0 + 1, False, None, None)
    text = path.read_text()
    assert "\\u001b" not in text and "\\u0007" not in text
    tail = load(path)["scripts"][0]["commands"][0]["stderr_tail"]
    assert tail == "Error: not found \\x07bell\n"
    assert all("\x1b" not in line for line in log.summary_lines(T0 + 1))
    assert "hunter22" not in path.read_text()


def test_interrupted_report_with_no_scripts(tmp_path):
    log = make(tmp_path)
    log.set_total(4)
    path = tmp_path / "deep" / "dir" / "report.json"
    log.write_report(path, T0 + 2, interrupted=True, stop_reason="Ctrl-C or SIGTERM", usacloud_version=None)
    doc = load(path)
    assert doc["scripts"] == []
    assert doc["run"]["interrupted"] is True and doc["run"]["stop_reason"] == "Ctrl-C or SIGTERM"
    assert doc["run"]["scripts_finished"] == 0 and doc["run"]["usacloud_version"] is None


def test_partly_run_scripts_are_listed_with_their_counts(tmp_path):
    log = make(tmp_path, report=False)
    skipped = command(2, status="skipped", cls=None)
    skipped.message = "needs shell expansion: $ID"
    nodeid, data = script("p", command(1, 1.0), skipped, command(3, 1.0))
    log.script_finished(nodeid, "passed", data, None)
    nodeid, data = script("q", command(1, 1.0))
    log.script_finished(nodeid, "passed", data, None)
    lines = log.summary_lines(T0 + 3)
    at = lines.index("partly run (1): passed, but some commands need the shell and were skipped")
    assert lines[at + 1] == "  p.usacloud: 2 of 3 commands ran, 1 skipped"


def test_a_script_whose_path_holds_double_colons_is_counted_and_reported(tmp_path):
    log = make(tmp_path, report=True)
    nodeid = "odd::dir/a::b.usacloud::a::b"
    _, data = script("x", command(1, 1.0, cls="not-found", status="failed"), status="failed", cls="not-found", line=1)
    log.script_finished(nodeid, "failed", data, None)
    assert log.where(nodeid) == "odd::dir/a::b.usacloud"
    assert "  odd::dir/a::b.usacloud:1 not-found: " in log.summary_lines(T0 + 1)
    assert "odd::dir/a::b.usacloud:1  usacloud server list # line 1" in "\n".join(log.summary_lines(T0 + 1))


def test_no_jsonl_without_report_option(tmp_path):
    log = make(tmp_path, report=False)
    log.script_finished("a.usacloud::a", "passed", script("a", command(1, 1.0))[1], None)
    assert not (tmp_path / "run" / rl.SCRIPTS_FILE).exists()


def test_report_is_streamed_and_keeps_finished_scripts(tmp_path):
    log = make(tmp_path)
    for i in range(60):
        nodeid, data = script(f"n{i}", command(1, 0.1), outcome="xfailed" if i == 7 else None)
        log.script_finished(nodeid, "xfailed" if i == 7 else "passed", data, None)
    with open(tmp_path / "run" / rl.SCRIPTS_FILE, "a") as fh:
        fh.write('\n{"path": "torn')  # an interrupt mid-write: the torn line is dropped
    path = tmp_path / "r.json"
    log.write_report(path, T0 + 60, True, None, None)
    doc = load(path)
    assert len(doc["scripts"]) == 60 and doc["scripts"][7]["outcome"] == "xfailed"
    log.script_finished("late.usacloud::late", "passed", None, None)  # reopens after the report
    log.write_report(path, T0 + 61, False, None, None)
    assert len(load(path)["scripts"]) == 61


def test_atomic_write_leaves_no_partial_file(log, tmp_path, monkeypatch):
    path = tmp_path / "out" / "report.json"
    log.write_report(path, T0 + 1, False, None, None)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        log.write_report(path, T0 + 2, False, None, None)
    assert path.read_bytes() == before  # the old report stays whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"]
    fresh = tmp_path / "never" / "report.json"
    with pytest.raises(OSError):
        log.write_report(fresh, T0 + 2, False, None, None)
    assert list(fresh.parent.iterdir()) == []


def test_schema_rejects_drift(log, tmp_path):
    path = tmp_path / "r.json"
    log.write_report(path, T0 + 1, False, None, None)
    doc = json.loads(path.read_text())
    doc["scripts"][0]["commands"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_mask_url_and_clock():
    assert mask_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert mask_url("redis://user:pw@h/0") == "redis://user:***@h/0"
    assert mask_url("file:/tmp/x.json") == "file:/tmp/x.json"
    assert clock(59.9) == "00:59" and clock(3600) == "1:00:00"


def test_the_schema_doc_is_generated_from_the_schema():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "report-schema.md").read_text()
    assert doc == markdown(), "regenerate: python -m pytest_usacloud_sandbox.report.schema > docs/report-schema.md"
    for name in list(SCHEMA["$defs"]["script"]["properties"]) + list(SCHEMA["$defs"]["run"]["properties"]):
        assert f"| `{name}` |" in doc


def test_the_schema_uses_the_one_vocabulary():
    defs = SCHEMA["$defs"]
    assert defs["command"]["properties"]["status"]["enum"] == [str(s) for s in CommandStatus]
    assert defs["command"]["properties"]["cls"]["enum"] == [*(str(c) for c in ResultClass), None]
    assert defs["script"]["properties"]["status"]["enum"] == [str(s) for s in typing.get_args(Verdict)]
    assert defs["script"]["properties"]["outcome"]["enum"] == [str(o) for o in REPORTED]


def test_the_schema_doc_says_what_every_word_means():
    doc = markdown()
    words = doc[doc.index("## Words") :]
    for vocabulary in WORDS:
        for word in vocabulary:
            assert word.doc, f"{vocabulary.__name__}.{word.name} says nothing of what it means"
            assert f"| `{word}` | {word.doc} |" in words


def test_a_record_travels_as_plain_data_and_comes_back_whole():
    # across xdist a record travels as JSON text of its plain data: built-in types only (execnet and
    # json take no enum or dataclass), nothing shared with the worker's record, nothing lost.
    finding = Finding("warning", "x", "w", "m")
    cmd = command(1, 2.0, cls=ResultClass.NOT_FOUND, status=CommandStatus.FAILED, attempts=2, findings=[finding])
    record = ScriptRecord(path="/abs/a.usacloud", nodeid="a.usacloud::a", status=ScriptOutcome.FAILED)
    record.commands = [cmd, command(2)]
    data = plain(record)

    def builtin(value):
        if isinstance(value, dict):
            return all(type(k) is str and builtin(v) for k, v in value.items())
        if isinstance(value, list):
            return all(builtin(v) for v in value)
        return type(value) in (str, int, float, bool, type(None))

    assert builtin(data)
    assert data["status"] == "failed" and data["commands"][0]["attempts"][1]["cls"] == "not-found"
    assert (data["commands_run"], data["commands_failed"]) == (1, 1)
    data["commands"][0]["words"].append("changed")
    data["commands"][0]["findings"][0]["code"] = "changed"
    data["commands"][0]["attempts"][0]["end"] = 0.0
    assert cmd.words[-1] == "tk1v" and finding.code == "x" and cmd.attempts[0].end == T0 + 2.0
    assert from_plain(ScriptRecord, plain(record)) == record.freeze()
    assert from_wire(to_wire(record)) == record
    assert from_wire("{torn") is None and from_wire("[]") is None


def test_a_recorded_record_is_frozen_with_everything_in_it():
    cmd = command(1, 1.0, findings=[Finding("warning", "x", "w", "m")])
    record = ScriptRecord(path="/abs/a.usacloud", nodeid="a.usacloud::a")
    record.commands.append(cmd)
    record.status = ScriptOutcome.FAILED  # while it is being recorded
    assert record.freeze() is record and record.frozen and cmd.frozen and cmd.attempts[0].frozen
    for obj, name, value in ((record, "status", "passed"), (cmd, "status", "ok"), (cmd.attempts[0], "end", 0.0)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, value)
    assert isinstance(record.commands, tuple) and isinstance(cmd.words, tuple) and isinstance(cmd.attempts, tuple)
    with pytest.raises(AttributeError):
        record.commands.append(command(2))
    assert (record.status, cmd.words[-1], record.commands_run) == ("failed", "tk1v", 1)


def test_records_in_flight_are_kept_apart_by_worker_and_queue_for_a_rerun():
    def report(nodeid, worker=None):
        made = pytest.TestReport(nodeid, (nodeid, None, ""), {}, "passed", None, "call")
        if worker is not None:
            made.worker_id = worker  # what xdist gives the reports it receives
        return made

    records = InFlight()
    mine, first, again, other = (ScriptRecord(f"/{n}", "a.usacloud::a", worker=n) for n in ("main", "gw0", "r", "gw1"))
    records.put(mine)
    records.put(first, "gw0")
    records.put(again, "gw0")  # the same script again on gw0 before its first run was logged
    records.put(other, "gw1")  # `--dist each`: the same node id on another worker
    assert records.running("a.usacloud::a") is mine is records.get(report("a.usacloud::a"))
    assert records.get(report("a.usacloud::a", "gw0")) is first and records.get(report("a.usacloud::a", "gw1")) is other
    records.drop(report("a.usacloud::a", "gw0"))
    assert records.get(report("a.usacloud::a", "gw0")) is again and len(records) == 3
    for worker in (None, "gw0", "gw1", "gw1"):  # one drop too many changes nothing
        records.drop(report("a.usacloud::a", worker))
    assert len(records) == 0 and records.running("a.usacloud::a") is None


def test_the_achieved_rate_of_a_run_that_kept_its_bound_never_reads_above_it(tmp_path):
    """3 tokens at once (the burst), then one every 0.5 s at 2/s: 13 starts in 5 s. Over the whole
    span they are 2.6 a second; beyond the burst, 2.00: exactly the bound, never above it."""
    log = make(tmp_path, rate=2.0, burst=3)
    log.set_total(13)
    grants = [T0] * 3 + [T0 + 0.5 * n for n in range(1, 11)]
    log.first_start = T0 - 0.2
    for n, at in enumerate(grants):
        cmd = command(1, 0.1)
        cmd.attempts = [Attempt(at + 0.01, at + 0.1, 0, "ok", 0.0, at)]
        nodeid, data = script(f"s{n}", cmd)
        log.script_finished(nodeid, "passed", data, None)
    rate_line = next(line for line in log.summary_lines(ended=T0 + 9) if line.startswith("rate: "))
    assert rate_line.startswith("rate: 2.00/s of 2.00/s (13 starts in 5.00s from the first to the last, burst 3) | ")
    assert log.run_section(T0 + 9, False, None, None).achieved_rate == pytest.approx(2.0)
    live = log.status_line(T0 + 5, width=400)  # the live line too: 10 beyond the burst in 5.2 s
    assert "| 1.92/s of 2.00/s |" in live


def test_cancelled_scripts_are_listed_with_their_reasons_folded(tmp_path):
    log = make(tmp_path)
    log.set_total(4)
    reason = "cancelled: run stopped by a.usacloud (auth)"
    for n in range(2):
        nodeid, data = script(f"c{n}", status="cancelled", message=reason)
        log.script_finished(nodeid, "cancelled", data, None)
    log.script_finished("x.usacloud::x", "cancelled", None, reason + "; 1 of its commands had started")
    lines = log.summary_lines(ended=T0 + 5, stop_reason="run stopped by a.usacloud::a (auth): 401")
    at = lines.index("stopped: run stopped by a.usacloud::a (auth): 401")
    assert lines[at + 1 : at + 3] == [
        f"CANCELLED [2] {reason}",
        f"CANCELLED [1] {reason}; 1 of its commands had started",
    ]
