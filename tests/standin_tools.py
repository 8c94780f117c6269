"""Helpers for tests that run the stand-in ``usacloud`` (tests/standin/usacloud).

Import as ``from standin_tools import ...``.  Every path here is absolute, so tests generated
with pytester (which run in another directory) can use them too, e.g. by putting
``STANDIN_DIR`` first on PATH through ``standin_env()``; ``TESTS_DIR`` can be inserted into
``sys.path`` of a pytester-made conftest to import this module there.

The stand-in's behaviour and environment variables are documented in its own docstring.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
STANDIN_DIR = TESTS_DIR / "standin"
STANDIN_BIN = STANDIN_DIR / "usacloud"
#: The stand-in's program (STANDIN_BIN is its launcher: ``python3 -S`` on this file's cached bytecode).
STANDIN_PROGRAM = STANDIN_DIR / "usacloud_standin.py"
#: Directory of the interpreter running the tests.  ``standin_env`` puts it right after
#: STANDIN_DIR on PATH so that the stand-in's ``#!/usr/bin/env -S python3 -S`` finds a real
#: interpreter instead of a slow version-manager shim (pyenv's costs ~0.25 s a call).
PYTHON_DIR = Path(os.path.realpath(sys.executable)).parent

#: argv prefix that starts the stand-in (for subprocess.Popen) with this interpreter, whatever PATH
#: says: the same launcher, program and "prog" in the log as ``STANDIN_BIN`` run through its shebang.
STANDIN_CMD = [sys.executable, "-S", str(STANDIN_BIN)]

SANDBOX_API = "https://secure.sakura.ad.jp/cloud/zone/tk1v/api/cloud/1.1"
#: A service principal's private key as SAKURA_PRIVATE_KEY carries it (a made-up PEM: the tests look
#: for its lines in every output).
FAKE_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDk1nOtAReAlKeY0\n"
    "q2J9sP4wXvT7mZcL8uRfB3nHy6dGk1oVaE5tWxQ0iUjNbC4rYsMzF2lKe7pDh9Gw\n"
    "-----END PRIVATE KEY-----\n"
)
FAKE_PEM_LINES = tuple(line for line in FAKE_PEM.splitlines() if "PRIVATE KEY" not in line)
#: usacloud 1.22.8's own output (fake mode), its secret values renamed: another team's database
#: (`database list -o yaml`), a monitor with an SNMP community and a Slack webhook
#: (`simple-monitor create ... -o yaml`) and an FTP password in a table (`archive ftp-open`).
REAL_DATABASE_YAML = (
    "- Availability: available\n"
    "  BackupSetting: null\n"
    "  Backupv2Setting: null\n"
    "  Class: database\n"
    "  CommonSetting:\n"
    "    DefaultUser: teamb\n"
    "    ReplicaPassword: TeamB-Rep-SECRET-1177\n"
    '    ReplicaUser: ""\n'
    "    ServicePort: 0\n"
    "    SourceNetwork: null\n"
    "    UserPassword: TeamB-DB-SECRET-8842\n"
    "    WebUI: false\n"
    "  Conf:\n"
    "    DatabaseName: postgres\n"
    '    DatabaseRevision: "1"\n'
    '    DatabaseVersion: "1"\n'
    '    DefaultUser: ""\n'
    '    UserPassword: ""\n'
    '  CreatedAt: "2026-12-07T18:31:39.32309052Z"\n'
    "  DefaultRoute: 192.168.0.1\n"
    '  Description: ""\n'
    "  Disk: null\n"
    "  ID: 100000000011\n"
    "  IPAddresses:\n"
    "  - 192.168.0.11\n"
    "  IconID: 0\n"
    '  InstanceHostInfoURL: ""\n'
    "  InstanceHostName: sac-tk1v-svXXX\n"
    "  InstanceStatus: up\n"
    '  InstanceStatusChangedAt: "2026-12-07T18:31:39.399654499Z"\n'
    "  InterfaceSettings: []\n"
    "  Interfaces: []\n"
    '  ModifiedAt: "0001-01-01T00:00:00Z"\n'
    "  MonitoringSuite:\n"
    "    Enabled: false\n"
    "  Name: team-b-db\n"
    "  NetworkMaskLen: 24\n"
    "  PlanID: 10\n"
    "  ReplicationSetting: null\n"
    '  SettingsHash: ""\n'
    "  SwitchID: 100000000005\n"
    "  Tags: []\n"
    "  Zone: tk1v\n"
    "  ZoneID: 0\n"
    "\n"
)
REAL_MONITOR_YAML = (
    "- Availability: available\n"
    "  Class: simplemon\n"
    '  CreatedAt: "2026-12-07T18:32:57.867014494Z"\n'
    "  DelayLoop: 60\n"
    '  Description: ""\n'
    "  Enabled: true\n"
    "  HealthCheck:\n"
    '    BasicAuthPassword: ""\n'
    '    BasicAuthUsername: ""\n'
    "    Community: SnmpCommunitySECRET\n"
    '    ContainsString: ""\n'
    '    ExpectedData: ""\n'
    '    FTPS: ""\n'
    "    HTTP2: false\n"
    '    Host: ""\n'
    "    OID: 1.3.6.1.2.1.1.3.0\n"
    '    Path: ""\n'
    "    Port: 0\n"
    "    Protocol: snmp\n"
    '    QName: ""\n'
    "    RemainingDays: 0\n"
    "    SNI: false\n"
    "    SNMPVersion: 2c\n"
    "    Status: 0\n"
    "    VerifySNI: false\n"
    "  ID: 100000000014\n"
    "  IconID: 0\n"
    "  MaxCheckAttempts: 3\n"
    '  ModifiedAt: "0001-01-01T00:00:00Z"\n'
    "  MonitoringSuiteLog: null\n"
    "  Name: 192.0.2.1\n"
    "  NotifyEmailEnabled: false\n"
    "  NotifyEmailHTML: false\n"
    "  NotifyInterval: 7200\n"
    "  NotifySlackEnabled: true\n"
    "  RetryInterval: 10\n"
    "  SettingsHash: settingshash\n"
    "  SlackWebhooksURL: https://hooks.slack.com/services/T0/B0/xyzWEBHOOKsecret123\n"
    "  Tags: []\n"
    "  Target: 192.0.2.1\n"
    "  Timeout: 0\n"
    "\n"
)
REAL_FTP_TABLE = (
    "+------+--------------+-------------------------+-----------+---------------------+----------------------------+\n"
    "| Zone |      ID      |        HostName         | IPAddress |        User         |          Password          |\n"
    "+------+--------------+-------------------------+-----------+---------------------+----------------------------+\n"
    "| tk1v | 113101599865 | sac-tk1v-ftp.example.jp | 192.0.2.1 | archive113101599865 | FtpPassword-SECRET-4242xyz |\n"
    "+------+--------------+-------------------------+-----------+---------------------+----------------------------+\n"
)
#: The project's facts about the real usacloud (transcripts, command tree, corpus): ``../shared``
#: beside the repository. Absent in a user's clone, where the tests that need it skip.
SHARED_DIR = TESTS_DIR.parent.parent / "shared"


def shared_file(name: str) -> Path:
    """A file of ``../shared``, or a skip saying that the directory is absent."""
    import pytest

    path = SHARED_DIR / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the project's usacloud facts live beside the repository, not in it)")
    return path


def api_error(status: str, code: str, message: str, serial: str = "standin0000") -> str:
    """usacloud's text for an API error with a JSON body (no blank-line frame)."""
    return (
        f'Error in response: &iaas.APIErrorResponse{{IsFatal:true, Serial:"{serial}", Status:"{status}", '
        f'ErrorCode:"{code}", ErrorMessage:"{message}"}}'
    )


# stderr texts in the real forms (see shared/usacloud-facts.md).  The ErrorCode strings for
# 401/403/429 are not confirmed by the facts; the HTTP status is only inside Status:"...".
AUTH_401 = api_error("401 Unauthorized", "unauthorized", "invalid access token")
FORBIDDEN_403 = api_error("403 Forbidden", "forbidden", "permission denied")
CONFLICT_409 = api_error("409 Conflict", "still_creating", "resource is still being created")
LIMIT_409 = api_error("409 Conflict", "limit_count_in_zone", "resource count limit in zone")
RATE_429 = api_error("429 Too Many Requests", "too_many_requests", "too many requests")
UNAVAILABLE_503 = api_error("503 Service Unavailable", "busy", "service is busy")


def giving_up(url: str, attempts: int = 11, method: str = "GET") -> str:
    """usacloud's text when a 503/423 outlasts its own retries (``SAKURACLOUD_RETRY_MAX``, 10 by
    default: 11 attempts); a Find's conditions are the URL's query, raw JSON (seen on the real 1.22.8)."""
    return f'{method} {url}?{{"Count":0,"From":0}} giving up after {attempts} attempt(s)'


def unreachable(url: str, error: str = "connect: connection refused") -> str:
    """usacloud's text when the API cannot be reached (exit 1, after its silent retries; seen on the
    real 1.22.8): Go's error for the request, the Find's conditions quoted in the URL."""
    host = url.split("/")[2]
    return f'Get "{url}?{{\\"Count\\":0,\\"From\\":0}}": dial tcp {host}: {error}'


#: 503/423 after usacloud's own retries
GIVING_UP_503 = giving_up(f"{SANDBOX_API}/server")
NON_JSON_502 = "error in response: <html><body>502 Bad Gateway</body></html>"
CONFIRM_NO_TTY = "the confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option"


#: The real usacloud 1.22.8's panic in fake mode when a process other than the one that created the
#: fake store connects a server to the shared segment (transcript ss-server-shared, first frames), exit 2.
FAKE_SHARED_SEGMENT_PANIC = (
    "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0xa0b8cf]\n"
    "\n"
    "goroutine 20 [running]:\n"
    "github.com/sacloud/iaas-api-go/fake.(*InterfaceOp).ConnectToSharedSegment(0x1553e411b18, {0x1c5fa78, "
    "0x1553e6ba820}, {0x1553e404029, 0x4}, 0x174876e80b)\n"
    "\t$GOMODCACHE/github.com/sacloud/iaas-api-go@v1.29.2/fake/ops_interface.go:168 +0x6f\n"
    "github.com/sacloud/iaas-api-go/fake.(*ServerOp).Create(0x1553e70dea0, {0x1c5fa78, 0x1553e6ba820}, "
    "{0x1553e404029, 0x4}, 0x1553e6bbba0)\n"
    "\t$GOMODCACHE/github.com/sacloud/iaas-api-go@v1.29.2/fake/ops_server.go:87 +0x54e\n"
)


def fake_panic_rule(match, **extra) -> dict:
    """A STANDIN_RULES rule that answers like the real fake driver's shared-segment panic."""
    return {"match": match, "stderr": FAKE_SHARED_SEGMENT_PANIC, "raw": True, "exit": 2, **extra}


def timeout_error(resource: str = "server", command: str = "boot") -> str:
    return f"command[{resource}/{command}] timed out: context deadline exceeded"


def framed(text: str) -> str:
    """How usacloud prints its own errors on stderr: a blank line, then the error."""
    return "\n" + text + "\n"


def read_events(path) -> list[dict]:
    """All log lines (start, spawn and end events) of a STANDIN_LOG file, in file order.

    A missing file gives []; a line cut short (a writer killed mid-write) is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def read_log(path) -> list[dict]:
    """The "end" events only: one per finished stand-in call."""
    return [e for e in read_events(path) if e.get("event") == "end"]


def unfinished_pids(path) -> list[int]:
    """pids that logged "start" but no "end" (killed mid-way, or still running)."""
    events = read_events(path)
    ended = {e["pid"] for e in events if e.get("event") == "end"}
    return [e["pid"] for e in events if e.get("event") == "start" and e["pid"] not in ended]


def child_pids(path) -> list[int]:
    """pids of the grandchild ``sleep`` processes (STANDIN_SPAWN_CHILD=1)."""
    return [e["child_pid"] for e in read_events(path) if e.get("event") == "spawn"]


def untagged(argv: list[str]) -> list[str]:
    """``argv`` without the tags the plugin adds to a create (``--tags usacloud-run=...`` and the like)."""
    from pytest_usacloud_sandbox.cleanup.runid import SCRIPT_TAG_PREFIX, TAG_PREFIX

    out, i = [], 0
    while i < len(argv):
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if argv[i] in ("--tags", "--disk-tags") and value.startswith((TAG_PREFIX, SCRIPT_TAG_PREFIX)):
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def write_rules(path, rules: list[dict]) -> Path:
    """Write a STANDIN_RULES file (and reset its ``times`` counters)."""
    path = Path(path)
    path.write_text(json.dumps(rules, ensure_ascii=False, indent=2), encoding="utf-8")
    try:
        os.unlink(str(path) + ".count")
    except FileNotFoundError:
        pass
    return path


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # the state follows the ")" that closes the command name
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] in (b"Z", b"X")


def pids_alive(pids) -> list[int]:
    """The pids among ``pids`` that still run (zombies count as dead)."""
    alive = []
    for pid in pids:
        if not pid:
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass
        if not _is_zombie(pid):
            alive.append(pid)
    return alive


def wait_until(condition, timeout: float = 60, what: str = "the condition", interval: float = 0.05):
    """Poll ``condition()`` until it returns something truthy, and return that; fail after ``timeout`` s.

    For waiting on an event another process makes visible (a log line, a pid file): the test goes on
    as soon as it happened, however loaded the machine, instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:g} s"
        time.sleep(interval)


def unread_bytes(fd: int) -> int:
    """Bytes waiting to be read on ``fd`` (a pipe's read end, a socket): how far its reader is behind."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]


def wait_gone(pids, timeout: float = 10) -> list[int]:
    """Wait until none of ``pids`` runs any more (a killed process needs a moment to exit); returns the
    pids still running after ``timeout`` s, for the caller's assertion (``== []``)."""
    deadline = time.monotonic() + timeout
    while (alive := pids_alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


_CLEARED_PREFIXES = ("SAKURACLOUD_", "SAKURA_", "USACLOUD_", "STANDIN_")


def standin_env(tmp_path, **overrides) -> dict:
    """An environment for running the stand-in.

    Starts from os.environ without any SAKURACLOUD_* / SAKURA_* / USACLOUD_* / STANDIN_*
    variable, then sets PATH = STANDIN_DIR : PYTHON_DIR : old PATH,
    STANDIN_LOG = tmp_path/"usacloud.jsonl", STANDIN_STATE = tmp_path/"usacloud-state.json"
    and USACLOUD_NO_VERSION_CHECK=1.  Keyword overrides are applied last; a value of None
    removes the variable (e.g. ``STANDIN_STATE=None`` for a process-local store), other values
    are turned into strings (``STANDIN_LATENCY=0.2``).
    """
    tmp_path = Path(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES)}
    env["PATH"] = os.pathsep.join([str(STANDIN_DIR), str(PYTHON_DIR), env.get("PATH", "")])
    env["STANDIN_LOG"] = str(tmp_path / "usacloud.jsonl")
    env["STANDIN_STATE"] = str(tmp_path / "usacloud-state.json")
    env["USACLOUD_NO_VERSION_CHECK"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def stored(tmp_path) -> dict[str, list[dict]]:
    """The stand-in's persistent store (``usacloud-state.json`` of :func:`standin_env`), by resource."""
    path = Path(tmp_path) / "usacloud-state.json"
    return json.loads(path.read_text())["resources"] if path.exists() else {}


def make_outside(tmp_path, argv: list[str]) -> None:
    """Create something outside a run (another run's, another team's) in tk1v, straight with the stand-in."""
    env = standin_env(tmp_path, SAKURACLOUD_ZONE="tk1v", SAKURACLOUD_ZONES="tk1v")
    assert run_standin(argv, env).returncode == 0


def run_standin(args, env, *, input=None, timeout=30, via_path=False, **kwargs) -> subprocess.CompletedProcess:
    """Run the stand-in once (text mode, captured output, stdin from ``input`` or /dev/null).

    By default it is started with ``STANDIN_CMD`` (this interpreter).  ``via_path=True`` runs
    ``usacloud`` found on ``env["PATH"]`` through its shebang instead, as the plugin does.
    """
    if isinstance(args, str):
        args = args.split()
    if via_path:
        found = shutil.which("usacloud", path=env.get("PATH"))
        if found is None:
            raise FileNotFoundError("usacloud is not on env['PATH']")
        cmd = [found]
    else:
        cmd = list(STANDIN_CMD)
    return subprocess.run(
        cmd + [str(a) for a in args],
        env=env,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
