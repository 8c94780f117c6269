#!/usr/bin/env python3
"""Stand-in for the `usacloud` CLI (v1.22.8) used by the pytest-usacloud-sandbox test suite.

Run as ``tests/standin/usacloud`` (its launcher); ``usacloud`` below means that command.

It mimics the *contract* of the real binary (argument parsing, exit codes, error texts, output
forms, a tiny resource store) without ever touching the network.  Stdlib only; started thousands
of times, so it keeps its imports small.

Command line
------------
``usacloud [globals] [iaas] <resource> <sub> [flags] [args]`` -- flags may appear anywhere
(pflag "interspersed" parsing), ``--`` ends the flags.  The command tree (resources, their
aliases, subcommands, flags, root flags, confirmation, required flags, allowed values) is the
package's own table, ``pytest_usacloud_sandbox/usacloud/_command_data.py`` in this repository
(generated from usacloud 1.22.8's source by tools/gen_commands.py); the stand-in keeps no copy.

* Flag values as pflag reads them: an int flag takes Go's syntax, else ``Error: invalid argument
  "abc" for "--cpu" flag: strconv.ParseInt: parsing "abc": invalid syntax``, exit 1.
* Unknown command at the root: ``Error: unknown command "foo" for "usacloud"`` +
  ``Run 'usacloud --help' for usage.``, exit 1.  Unknown flag: ``Error: unknown flag: --x``,
  exit 1 (so ``--zone`` on a global resource fails like the real one).  These cobra errors are
  printed without the blank-line frame.
* Unknown subcommand of a known resource (``usacloud server foo``), a bare resource, ``iaas``,
  ``help``, ``-h/--help``: help text on stdout, exit 0.
* ``version`` / ``-v`` prints ``1.22.8``.
* usacloud's own errors go to stderr as: a blank line, then the error; exit 1.
* Zones: ``--zone X`` / ``--zone=X``, else env SAKURACLOUD_ZONE, else SAKURA_ZONE.  Permitted
  zones: ``--zones a,b`` else SAKURACLOUD_ZONES, else SAKURA_ZONES, else
  tk1a,tk1b,is1a,is1b,is1c,tk1v.  Errors: ``validation error:\\n\\t--zone: required`` and
  ``validation error:\\n\\t--zone: oneof=all <permitted...> all``.  With ``--parameters`` the zone
  from the environment is dropped (the JSON's "Zone" or ``--zone`` must give it).  ``--zone=all`` lists / searches /
  creates in every permitted zone.
* Output: ``-o/--output-type`` table|json|yaml (else ``--output-type: oneof=table json yaml``),
  default from SAKURACLOUD_DEFAULT_OUTPUT_TYPE (a bad value: message on stderr, exit 0, nothing
  done -- like the real one), ``-q`` one ID per line, ``--format`` (only ``{{.Field}}`` /
  ``{{.Zone.Name}}`` substitutions), ``--query`` forces JSON (a small JMESPath subset:
  ``[].ID``, ``[*].Name``, ``[0]``, ``[0].Zone.Name``, ``length(@)``; jq driver: ``.[].ID``,
  ``.[0]``, ``length``; anything else prints the unfiltered JSON).  JSON is a 4-space indented
  array with Go field names; IDs are strings of 12 digits.  An empty result prints nothing;
  delete / power / wait commands print nothing.
* Confirmation: confirming subcommands need ``-y/--assumeyes`` unless stdin and
  stdout are both terminals, else ``the confirm dialog cannot be used without the terminal.
  Please use --assumeyes(-y) option``, exit 1.  Commands with ID|NAME|TAG arguments resolve
  their targets (an "API call") before asking, as the real one does.
* Targets ``ID|NAME|TAG``: IDs and tags match exactly, names by substring unless
  ``--argument-match-mode exact`` (or SAKURACLOUD_ARGUMENT_MATCH_MODE=exact).  Errors:
  ``target resource not found: query=["x"]``, ``in this operation, only a single target is
  allowed``, ``ID or Name or Tags arguments are required``.
* Validation, as usacloud prints it (``\\nvalidation error:\\n\\t--name: required\\n``, one tab-indented
  line per problem: the zone, then the output flags, then the subcommand's flags in table order):
  a required flag without a default that neither a flag nor ``--parameters`` gives, and a value
  outside a flag's allowed values (``--os-type: oneof=almalinux ...``).  It comes before the
  target lookup and the confirmation.
* ``--profile`` / SAKURACLOUD_PROFILE / SAKURA_PROFILE / USACLOUD_PROFILE naming a profile other
  than ``default`` or one listed in STANDIN_PROFILES (comma list): a message on stderr and exit 0
  without doing anything (the real one also exits 0; the message text here is the stand-in's).
  A ``--parameters`` value that is neither a readable file nor JSON: Go's decoder error on
  stderr (``invalid character 'b' looking for beginning of object key string``), exit 0.
* ``--process-timeout-sec`` / SAKURACLOUD_PROCESS_TIMEOUT_SEC: when the injected sleeps would
  exceed it: ``command[<resource>/<sub>] timed out: context deadline exceeded``, exit 1.
* Read-only catalogue data exists without any store: zone, region, server-plan, disk-plan,
  internet-plan and two public archives per zone (so ``archive list`` is never empty).
* ``ssh``/``vnc``/``rdp``/``update-self``/``self id`` fail with a stand-in error (exit 1).

State
-----
* Default: no persistence, every process starts with an empty store.
* STANDIN_STATE=<path>: a JSON store shared by all processes, read-modify-written under an
  exclusive ``fcntl.flock`` on ``<path>.lock`` and replaced atomically.
* SAKURACLOUD_FAKE_MODE (or SAKURA_FAKE_MODE, or ``--fake``) non-empty (even "0") together with
  SAKURACLOUD_FAKE_STORE_PATH (or SAKURA_FAKE_STORE_PATH, or ``--fake-store``): that file is the
  store *instead of* STANDIN_STATE, with the real fake driver's faults: no lock, the whole file is
  rewritten in place (concurrent writers lose updates and duplicate IDs), and a truncated or
  invalid file makes the process print a Go panic on stderr and exit 2.  An empty (0-byte) or
  missing file is an empty store.  Fake mode without a store path: empty store per process.
* Store format: ``{"next_id": N, "resources": {"server": [record, ...], ...}}``.

Credentials
-----------
STANDIN_REQUIRE_TOKEN=<tok>: the access token (``--token``, else SAKURACLOUD_ACCESS_TOKEN, else
SAKURA_ACCESS_TOKEN) must equal <tok> for every command that would call the API, else
``Error in response: &iaas.APIErrorResponse{IsFatal:true, Serial:"...", Status:"401
Unauthorized", ErrorCode:"unauthorized", ErrorMessage:"..."}``, exit 1.  Unset: anything goes.
Not checked in fake mode (the fake driver makes no API call), nor for config/version/help/
--generate-skeleton/--example.  Commands with ID|NAME|TAG arguments check it before asking for
confirmation (they list resources first); create and other argument-less commands after.

Injected behaviour (env)
------------------------
STANDIN_LATENCY=<seconds float>   slept on every call (after parsing, before rules/execution).
STANDIN_LATENCY_JITTER=<seconds>  plus a uniform random extra in [0, jitter].
STANDIN_RULES=<path>              JSON list of rules; the first matching one wins:
    {"match": "server list",   substring of " ".join(argv[1:]); a list = all must occur;
                               "" or missing matches every call
     "exit": 1,                default 1 when "stderr" is non-empty, else 0
     "stderr": "...",          printed framed as an usacloud error ("\\n" + text + "\\n")
     "raw": false,             true: print "stderr" exactly as given
     "stdout": "...",          printed exactly as given
     "sleep": 0.0,             seconds, before anything is printed (SIGTERM interrupts it)
     "until": "<path>",        the sleep ends early once this path exists (a test's go-ahead)
     "until_count": N,         with "until" a directory: the sleep ends once it holds N entries
     "touch": "<path>",        created when the rule applies, before the sleep ("{pid}" in it is
                               this process's pid): with "until" in another rule, one call waits
                               until another (or N others) has started
     "times": N,               only the first N matching calls use the rule (a counter per
                               rule index in "<rules path>.count", updated under flock);
                               later calls fall through to the next rules / normal behaviour
     "signal": "SEGV",         after printing stdout/stderr, kill itself with that signal
                               (name with or without SIG, or a number); no "end" log line,
                               and a STANDIN_SPAWN_CHILD grandchild is left running
     "panic": true,            print a Go panic trace (message = "stderr" if given) and exit 2
     "passthrough": false,     true: apply sleep/stdout/stderr (stderr raw), then run normally
     "hang": false}            true: run normally, then hang if it succeeded (see STANDIN_FAKE_HANG)
    Ready-made stderr texts for 401/403/409/429/503 are in tests/standin_tools.py.
STANDIN_LOG=<path>                JSONL log, one line per event, each appended with a single
    os.write on an O_APPEND descriptor (lines over 4000 bytes also take an flock):
    {"event": "start", "argv": [...], "pid", "pgid", "ppid", "start"}   first thing done
    {"event": "spawn", "pid", "child_pid"}                              STANDIN_SPAWN_CHILD=1
    {"event": "end", "argv": [...argv[1:]], "prog": argv[0], "pid", "pgid", "ppid",
     "start", "end" (time.time()), "exit", "cwd", "zone_env" (SAKURACLOUD_ZONE),
     "zones_env" (SAKURACLOUD_ZONES), "sakura_zone_env" (SAKURA_ZONE), "sakura_zones_env",
     "fake_mode" (SAKURACLOUD_FAKE_MODE), "fake_store" (SAKURACLOUD_FAKE_STORE_PATH),
     "store" (store file actually used or null), "resource", "command" (canonical names or
     null), "zone" (effective zone or null), "rule" (index of the rule applied or null),
     "child_pid" (or null), "stdout_bytes", "stderr_bytes", "seeded" (this call seeded its fake
     store), "auth" (null, or the credentials the command would use: {"token", "secret",
     "profile", "profile_file"})}
    A process killed by a signal leaves a "start" line without an "end" line.
STANDIN_IGNORE_TERM=1             ignore SIGTERM (test TERM-then-KILL escalation); otherwise
                                  SIGTERM, SIGINT and SIGPIPE have their default (fatal) action.
STANDIN_SPAWN_CHILD=1             start a grandchild ``sleep`` (same process group, SIGTERM at its
                                  default action) and log its pid; it lives STANDIN_CHILD_SLEEP
                                  seconds (default 60) and is killed and reaped when the
                                  stand-in exits normally -- it survives only if the stand-in
                                  itself is killed, unless the whole group is.
STANDIN_PROFILES=<a,b>            extra profile names that "exist" (``default`` always does).
                                  A profile also exists when its file does:
                                  ``<dir>/.usacloud/<name>/config.json``, <dir> being
                                  SAKURA_PROFILE_DIR, SAKURACLOUD_PROFILE_DIR, USACLOUD_PROFILE_DIR
                                  or HOME (the first set); its AccessToken/AccessTokenSecret are
                                  used when neither the flags nor the environment give one.

Fake-mode faults of the real usacloud (facts; transcript findings 33, 34, 36)
------------------------------------------------------------------------
* ``rest`` ignores fake mode: it would send its request to the real API with whatever credentials it
  has. The stand-in logs that request as ``{"event": "network", "pid", "argv", "url", "method",
  "fake_mode", "token", "secret"}`` (the credentials it would have sent), checks
  STANDIN_REQUIRE_TOKEN even in fake mode, and answers ``{"is_ok": true}``.
STANDIN_FAKE_HANG=<fraction>      in fake mode, each changing command (create, update, delete,
                                  power, other operations, wait) that succeeded hangs with this
                                  probability (1: every one, like GOMAXPROCS=1) *after* doing its
                                  work: its store is written and its output printed and flushed,
                                  then it logs ``{"event": "hang", "pid", "argv"}`` and sleeps until
                                  killed (no "end" line). A rule with ``"hang": true`` does the same
                                  for the calls it matches (it runs them normally first).
STANDIN_SEED_COST=<cpu seconds>   the first use of a fake store path (no file, or an empty one)
                                  seeds it with the fake catalogue, as the real one does (~7 s of
                                  CPU there): the stand-in burns this much CPU time (default 0),
                                  writes the seeded store (a "catalogue" entry) whatever the command,
                                  and logs ``"seeded": true`` on its end line.
Any other environment variable is ignored.  The stand-in never touches the network.

Start-up cost
-------------
Imports are limited to json/os/signal/sys/time (fcntl and re only when needed).  Most of a call's
cost is the interpreter itself: site-packages ``.pth`` hooks (~85 ms on this project's machine)
and compiling this file (~40 ms).  ``usacloud`` beside this file is the launcher the suite runs:
``python3 -S`` (no site) on this program's bytecode, cached per user in the temp directory, about
50 ms a call in all.  A pyenv shim found first on PATH adds ~0.25 s more: ``standin_env`` in
tests/standin_tools.py puts the real interpreter right after this directory on PATH.
"""

import json
import os
import signal
import sys
import time

VERSION = "1.22.8"
DEFAULT_ZONES = ["tk1a", "tk1b", "is1a", "is1b", "is1c", "tk1v"]
ZONE_INFO = {
    "tk1a": ("21001", "Tokyo 1", "tk1"),
    "tk1b": ("21002", "Tokyo 2", "tk1"),
    "is1a": ("31001", "Ishikari 1", "is1"),
    "is1b": ("31002", "Ishikari 2", "is1"),
    "is1c": ("31003", "Ishikari 3", "is1"),
    "tk1v": ("29001", "Sandbox", "tk1"),
}
REGIONS = {"is1": ("310", "Ishikari"), "tk1": ("210", "Tokyo")}
ID_BASE = 113000000000
CONFIRM_MSG = "the confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option"

SKIP_EXTRA = {
    "name",
    "description",
    "tags",
    "icon-id",
    "no-wait",
    "boot-after-create",
    "fail-if-not-found",
    "force",
    "force-shutdown",
    "with-disks",
    "zone",
    "wait-for-release",
    "wait-for-release-timeout",
    "wait-for-release-tick",
}
ACRONYMS = {
    "id": "ID",
    "ids": "IDs",
    "ip": "IP",
    "cpu": "CPU",
    "gpu": "GPU",
    "dns": "DNS",
    "url": "URL",
    "ssh": "SSH",
    "nfs": "NFS",
    "sim": "SIM",
    "vrid": "VRID",
    "ipv6": "IPv6",
    "dhcp": "DHCP",
    "http2": "HTTP2",
    "sni": "SNI",
    "ftps": "FTPS",
    "oid": "OID",
    "os": "OS",
    "mb": "MB",
    "kbps": "Kbps",
    "uuid": "UUID",
    "iccid": "ICCID",
    "vpn": "VPN",
    "nat": "NAT",
    "ui": "UI",
    "pw": "PW",
    "kms": "KMS",
    "vip": "VIP",
    "ipaddress": "IPAddress",
    "ipaddresses": "IPAddresses",
}


class Exit(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


class Ctx:
    """Everything known about this call (also feeds the end log line)."""

    def __init__(self, argv):
        self.argv = argv
        self.env = os.environ
        self.out_bytes = 0
        self.err_bytes = 0
        self.resource = None
        self.command = None
        self.zone = None
        self.rule = None
        self.store_path = None
        self.child_pid = None
        self.deadline = None
        self.hang = False
        self.seeded = False
        self.auth = None


CTX = None


# ----------------------------------------------------------------------------- output helpers
def out(text):
    data = text.encode("utf-8", "surrogateescape")
    CTX.out_bytes += len(data)
    sys.stdout.buffer.write(data)


def err_raw(text):
    data = text.encode("utf-8", "surrogateescape")
    CTX.err_bytes += len(data)
    sys.stderr.buffer.write(data)
    sys.stderr.buffer.flush()


def fail(msg, code=1):
    """usacloud's own error frame: a blank line, then the error."""
    err_raw("\n" + msg + "\n")
    raise Exit(code)


def cobra_fail(msg, usage_hint=False):
    text = "Error: " + msg + "\n"
    if usage_hint:
        text += "Run 'usacloud --help' for usage.\n"
    err_raw(text)
    raise Exit(1)


def envget(*names):
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    return ""


def api_error(status, code, message):
    serial = os.urandom(16).hex()
    return (
        f'Error in response: &iaas.APIErrorResponse{{IsFatal:true, Serial:"{serial}", Status:"{status}", '
        f'ErrorCode:"{code}", ErrorMessage:"{message}"}}'
    )


def go_panic(message):
    err_raw(
        f"panic: {message}\n\ngoroutine 1 [running]:\n"
        "github.com/sacloud/iaas-api-go/fake.(*JSONFileStore).load(0xc0001a2000)\n"
        "\t/go/pkg/mod/github.com/sacloud/iaas-api-go/fake/store_json.go:214 +0x1c5\n"
        "github.com/sacloud/usacloud/pkg/commands/root.Execute()\n"
        "\t/go/src/github.com/sacloud/usacloud/pkg/commands/root/command.go:71 +0x3d\n"
        "main.main()\n\t/go/src/github.com/sacloud/usacloud/main.go:24 +0x17\n"
    )
    raise Exit(2)


# ----------------------------------------------------------------------------- logging
def log_line(obj):
    path = os.environ.get("STANDIN_LOG")
    if not path:
        return
    data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if len(data) > 4000:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- sleeping
def sleep_for(seconds, until=None, count=None):
    """Sleep ``seconds`` (cut at the process timeout); with ``until``, end early once that path
    exists (with ``count``: once that directory holds ``count`` entries)."""
    if seconds <= 0:
        return
    timed_out = CTX.deadline is not None and time.time() + seconds > CTX.deadline
    if timed_out:
        seconds = max(0.0, CTX.deadline - time.time())

    def arrived():
        if count is None:
            return os.path.exists(until)
        try:
            return len(os.listdir(until)) >= int(count)
        except OSError:
            return False

    if until is None:
        time.sleep(seconds)
    else:
        end = time.monotonic() + seconds
        while not arrived() and (left := end - time.monotonic()) > 0:
            time.sleep(min(0.02, left))
    if timed_out and (until is None or not arrived()):
        fail(f"command[{CTX.resource}/{CTX.command}] timed out: context deadline exceeded")


def latency():
    try:
        base = float(os.environ.get("STANDIN_LATENCY") or 0)
        jitter = float(os.environ.get("STANDIN_LATENCY_JITTER") or 0)
    except ValueError:
        return
    if jitter > 0:
        base += jitter * int.from_bytes(os.urandom(4), "big") / 0xFFFFFFFF
    sleep_for(base)


# ----------------------------------------------------------------------------- rules
def rule_matches(rule, joined):
    m = rule.get("match", "")
    if isinstance(m, list):
        return all(s in joined for s in m)
    return m in joined


def take_rule_slot(rules_path, index, times):
    """Count one use of rule `index`; True while it is within its `times`."""
    import fcntl

    fd = os.open(rules_path + ".count", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            raw += chunk
        try:
            counts = json.loads(raw.decode() or "{}")
        except ValueError:
            counts = {}
        used = int(counts.get(str(index), 0))
        if used >= times:
            return False
        counts[str(index)] = used + 1
        data = json.dumps(counts).encode()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, data)
        return True
    finally:
        os.close(fd)


def apply_rules(argv):
    path = os.environ.get("STANDIN_RULES")
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as f:
            rules = json.load(f)
    except FileNotFoundError:
        return
    joined = " ".join(argv[1:])
    for index, rule in enumerate(rules):
        if not rule_matches(rule, joined):
            continue
        if rule.get("times") is not None and not take_rule_slot(path, index, int(rule["times"])):
            continue
        CTX.rule = index
        if rule.get("touch"):
            os.close(os.open(rule["touch"].replace("{pid}", str(os.getpid())), os.O_WRONLY | os.O_CREAT, 0o644))
        sleep_for(float(rule.get("sleep") or 0), rule.get("until"), rule.get("until_count"))
        stdout = rule.get("stdout") or ""
        stderr = rule.get("stderr") or ""
        if rule.get("panic"):
            if stdout:
                out(stdout)
                sys.stdout.flush()
            go_panic(
                stderr
                or "runtime error: invalid memory address or nil pointer dereference"
                "\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x10c5d3a]"
            )
        if stdout:
            out(stdout)
            sys.stdout.flush()
        if stderr:
            if rule.get("raw") or rule.get("passthrough"):
                err_raw(stderr)
            else:
                err_raw("\n" + stderr + "\n")
        sig = rule.get("signal")
        if sig:
            if isinstance(sig, int) or str(sig).isdigit():
                signum = int(sig)
            else:
                name = str(sig).upper()
                signum = getattr(signal, name if name.startswith("SIG") else "SIG" + name)
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signum, signal.SIG_DFL)  # the grandchild survives, as after a crash
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the signal is delivered before this ends
        if rule.get("hang"):
            CTX.hang = True
            return
        if rule.get("passthrough"):
            return
        code = rule.get("exit")
        if code is None:
            code = 1 if stderr else 0
        raise Exit(int(code))


# ----------------------------------------------------------------------------- grandchild
def spawn_child():
    secs = os.environ.get("STANDIN_CHILD_SLEEP") or "60"
    pid = os.posix_spawnp("sleep", ["sleep", secs], dict(os.environ), setsigdef=(signal.SIGTERM, signal.SIGINT))
    CTX.child_pid = pid
    log_line({"event": "spawn", "pid": os.getpid(), "child_pid": pid})


def kill_child():
    pid = CTX.child_pid if CTX else None
    if not pid:
        return
    CTX.child_pid = None
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
    CTX.child_pid = pid  # keep it for the log line


# ----------------------------------------------------------------------------- command table
# The command tree is the package's own table, pytest_usacloud_sandbox/usacloud/_command_data.py
# (generated from usacloud's source by tools/gen_commands.py), read from this file's repository.
# The stand-in adds only what the table does not say: kind and selector codes below.
STD_FLAGS = {
    "zone",
    "output-type",
    "quiet",
    "format",
    "query",
    "query-driver",
    "parameters",
    "generate-skeleton",
    "example",
    "assumeyes",
}
# kind: r read, w wait, c create, u update, d delete, p power, o op, x connect, l local, q rest request
KIND_CODES = {
    "read": "r",
    "wait": "w",
    "create": "c",
    "update": "u",
    "delete": "d",
    "power": "p",
    "op": "o",
    "disruptive": "o",
    "connect": "x",
    "local-read": "l",
    "local-write": "l",
    "request": "q",
}
SEL_CODES = {"none": "-", "single": "s", "multi": "m", "other": "-"}
_DATA = []  # the loaded table module, once


def command_data():
    """The package's command table (its module namespace as a dict), loaded once per process.

    Compiling the 4,000-line table costs about 0.5 s, and Python may not cache bytecode here
    (PYTHONDONTWRITEBYTECODE), so the compiled code is kept in a per-user temp cache keyed by the
    file's size and mtime; loading it then takes about a millisecond."""
    if not _DATA:
        import marshal

        # co_filename is this script's path even when it runs from a precompiled .pyc elsewhere
        here = os.path.dirname(os.path.realpath(command_data.__code__.co_filename))
        path = os.path.join(here, "..", "..", "pytest_usacloud_sandbox", "usacloud", "_command_data.py")
        st = os.stat(path)
        tag = sys.implementation.cache_tag
        cache_dir = os.path.join(os.environ.get("TMPDIR") or "/tmp", f"standin-usacloud-{os.getuid()}")
        cached = os.path.join(cache_dir, f"command-data-{st.st_size}-{st.st_mtime_ns}-{tag}.marshal")
        try:
            with open(cached, "rb") as f:
                code = marshal.loads(f.read())
        except (OSError, ValueError, EOFError, TypeError):
            with open(path, "rb") as f:
                code = compile(f.read(), path, "exec")
            try:
                os.makedirs(cache_dir, exist_ok=True)
                tmp = f"{cached}.{os.getpid()}.tmp"
                with open(tmp, "wb") as f:
                    f.write(marshal.dumps(code))
                os.replace(tmp, cached)
            except OSError:
                pass
        namespace = {"__name__": "_standin_command_data", "__file__": path}
        exec(code, namespace)
        _DATA.append(type("CommandData", (), namespace))
    return _DATA[0]


class Flag:
    """One flag of the table: (name, short, aliases, value, required, field, options, validate, go_type)."""

    def __init__(self, row):
        name, short, aliases, value, required, field, options, self.validate, self.go_type = row
        self.name = name[2:]
        self.short = short[1:] if short else ""
        self.aliases = [a[2:] for a in aliases]
        self.is_bool = value == "bool"
        self.value = value
        self.required = required
        self.field = field
        self.options = options


class Sub:
    def __init__(self, d, zoned):
        self.name = d["name"]
        self.aliases = list(d["aliases"])
        self.confirm = d["confirm"]
        self.kind = KIND_CODES[d["kind"]]
        self.sel = SEL_CODES[d["selector"]]
        self.all_flags = [Flag(r) for r in d["flags"]]
        names = {f.name for f in self.all_flags}
        self.std = (
            ("Z" if zoned and "zone" in names else "")
            + ("O" if "output-type" in names else "q" if "query" in names else "")
            + ("I" if "parameters" in names else "")
        )
        # the subcommand's own flags (long name -> (short, is_bool, required)); zone is its own on
        # a global resource (rest, config)
        self.flags = {}
        self.flag_aliases = {}
        for f in self.all_flags:
            if f.name in STD_FLAGS and not (f.name == "zone" and not zoned):
                continue
            self.flags[f.name] = (f.short, f.is_bool, f.required)
            for a in f.aliases:
                self.flag_aliases[a] = f.name

    def flag(self, name):
        return next((f for f in self.all_flags if f.name == name), None)


class Resource:
    def __init__(self, d):
        self.name = d["name"]
        self.zoned = d["scope"] == "zoned"
        self.is_global = d["scope"] == "global"
        self.aliases = list(d["aliases"])
        self.default = d["default"]
        self.iaas = d["location"] == "iaas"
        self.subs = [Sub(s, self.zoned) for s in d["subcommands"]]

    def find_sub(self, word):
        for s in self.subs:
            if s.name == word or word in s.aliases:
                return s
        return None

    @property
    def powered(self):
        return any(s.name == "boot" for s in self.subs)


def find_resource(word, iaas_only=False):
    for d in command_data().RESOURCES:
        if d["name"] == word or word in d["aliases"]:
            if iaas_only and d["location"] != "iaas":
                return None
            return Resource(d)
    return None


def all_resources():
    return [d["name"] for d in command_data().RESOURCES]


# ----------------------------------------------------------------------------- flag parsing
class ParseError(Exception):
    def __init__(self, msg, usage_hint=False):
        Exception.__init__(self, msg)
        self.msg = msg
        self.usage_hint = usage_hint


# While cobra looks for the command, a flag it does not know as a switch takes the next word as
# its value: the root's switches (from the table) and the shared ones (-y, -q, skeleton, example).
SHARED_SWITCHES = ("assumeyes", "quiet", "generate-skeleton", "skeleton", "example")


def known_switches():
    """(long names, short letters) of the switches cobra knows before the subcommand."""
    longs = {name for name, (_s, is_bool, _v) in global_flags().items() if is_bool} | set(SHARED_SWITCHES)
    shorts = {short for short, is_bool, _v in global_flags().values() if is_bool and short} | {"y", "q"}
    return longs, shorts


def root_commands():
    return tuple(c["name"] for c in command_data().ROOT_COMMANDS)


class Path:
    def __init__(self):
        self.kind = "root"  # root|iaas|unknown|version|completion|update-self|help|resource
        self.word = None  # the unknown word
        self.res = None
        self.sub = None
        self.indices = set()  # argv indices that are command words
        self.rest = []  # words after `help`


def find_path(args):
    """cobra's Find: walk the non-flag words (unknown flags are assumed to take a value)."""
    words = []
    switches, short_switches = known_switches()
    i, n = 0, len(args)
    while i < n:
        t = args[i]
        if t == "--":
            words.extend((j, args[j]) for j in range(i + 1, n))
            break
        if t.startswith("--"):
            if "=" not in t and t[2:] not in switches:
                i += 1
        elif t.startswith("-") and len(t) > 1:
            if len(t) == 2 and t[1] not in short_switches:
                i += 1
        else:
            words.append((i, t))
        i += 1
    p = Path()
    k = 0
    if not words:
        return p
    idx, w = words[0]
    iaas = False
    if w == "iaas":
        p.indices.add(idx)
        iaas = True
        k = 1
        if len(words) == 1:
            p.kind = "iaas"
            return p
        idx, w = words[1]
    elif w in root_commands():
        p.kind = w
        p.indices.add(idx)
        p.rest = [x for _, x in words[1:]]
        return p
    res = find_resource(w, iaas_only=iaas)
    if res is None:
        if iaas:
            p.kind = "iaas"  # non-root command with subcommands: help, exit 0
            return p
        p.kind = "unknown"
        p.word = w
        return p
    p.kind = "resource"
    p.res = res
    p.indices.add(idx)
    k += 1
    if k < len(words):
        idx, w = words[k]
        sub = res.find_sub(w)
        if sub is not None:
            p.sub = sub
            p.indices.add(idx)
            return p
        if res.default:
            p.sub = res.find_sub(res.default)
            return p
        p.word = w
        return p
    if res.default:
        p.sub = res.find_sub(res.default)
    return p


class Flags:
    def __init__(self):
        self.values = {}
        self.bools = set()

    def add(self, name, value):
        self.values.setdefault(name, []).append(value)

    def get(self, name, default=None):
        v = self.values.get(name)
        return v[-1] if v else default

    def has(self, name):
        return name in self.values

    def true(self, name):
        v = self.values.get(name)
        return bool(v) and v[-1] == "true"

    def slice(self, name):
        out_ = []
        for v in self.values.get(name, []):
            out_.extend(x.strip() for x in v.split(",") if x.strip())
        return out_


def global_flags():
    """The root's (persistent) flags from the table: long name -> (short, is_bool, value type)."""
    return {row[0][2:]: ((row[1] or "")[1:], row[3] == "bool", row[3]) for row in command_data().GLOBAL_FLAGS}


def build_spec(path):
    """Flags pflag knows for ``path``: long name -> (short, is_bool, value type); aliases; shorts."""
    spec = global_flags()
    aliases = {}
    sub = path.sub if path.kind == "resource" else None
    if sub is not None:
        for f in sub.all_flags:
            spec[f.name] = (f.short, f.is_bool, f.value)
            for a in f.aliases:
                aliases[a] = f.name
    shorts = {}
    for name, (short, _b, _v) in spec.items():
        if short:
            shorts[short] = name
    return spec, aliases, shorts


GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def flag_title(name, spec):
    """How pflag names a flag in "invalid argument" errors: "-q, --quiet" or "--cpu"."""
    short = spec[name][0]
    return f"-{short}, --{name}" if short else f"--{name}"


def go_bool(value, name, spec):
    if value in GO_TRUE:
        return "true"
    if value in GO_FALSE:
        return "false"
    raise ParseError(
        f'invalid argument "{value}" for "{flag_title(name, spec)}" flag: '
        f'strconv.ParseBool: parsing "{value}": invalid syntax'
    )


def go_int(text):
    """strconv.ParseInt(text, 0, 64): the int, or None when Go's syntax refuses it."""
    import re

    if not re.fullmatch(
        r"[+-]?(0[xX](_?[0-9a-fA-F])+|0[bB](_?[01])+|0[oO](_?[0-7])+|0(_?[0-7])*|[1-9](_?[0-9])*)", text
    ):
        return None
    body = text.replace("_", "")
    try:
        return int(body, 0)
    except ValueError:
        return int(body, 8)  # a leading 0: octal


def checked_value(name, value, spec):
    """A value pflag accepts for flag ``name`` (ints are parsed when set), else a ParseError."""
    if spec[name][2] == "int":
        number = go_int(value)
        why = "invalid syntax" if number is None else "value out of range" if not -(2**63) <= number < 2**63 else ""
        if why:
            raise ParseError(
                f'invalid argument "{value}" for "{flag_title(name, spec)}" flag: '
                f'strconv.ParseInt: parsing "{value}": {why}'
            )
    return value


def parse_flags(args, path):
    spec, aliases, shorts = build_spec(path)
    fl = Flags()
    pos = []
    i, n = 0, len(args)
    while i < n:
        if i in path.indices:
            i += 1
            continue
        t = args[i]
        if t == "--":
            pos.extend(args[j] for j in range(i + 1, n) if j not in path.indices)
            break
        if t.startswith("--") and len(t) > 2:
            written, eq, val = t[2:].partition("=")
            name = aliases.get(written, written)
            if name not in spec:
                raise ParseError("unknown flag: --" + written)
            if spec[name][1]:
                val = go_bool(val, name, spec) if eq else "true"
            elif not eq:
                if i + 1 >= n:
                    raise ParseError("flag needs an argument: --" + written)
                i += 1
                val = args[i]
            fl.add(name, checked_value(name, val, spec))
        elif t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                c = t[j]
                if c not in shorts:
                    raise ParseError(f"unknown shorthand flag: '{c}' in {t}")
                name = shorts[c]
                if spec[name][1]:
                    if j + 1 < len(t) and t[j + 1] == "=":
                        fl.add(name, go_bool(t[j + 2 :], name, spec))
                        break
                    fl.add(name, "true")
                    j += 1
                    continue
                rest = t[j + 1 :]
                if rest.startswith("="):
                    rest = rest[1:]
                if not rest and j + 1 == len(t):
                    if i + 1 >= n:
                        raise ParseError(f"flag needs an argument: '{c}' in -{c}")
                    i += 1
                    rest = args[i]
                fl.add(name, checked_value(name, rest, spec))
                break
        else:
            pos.append(t)
        i += 1
    return fl, pos


# ----------------------------------------------------------------------------- help texts
def help_root():
    lines = [
        "CLI to manage to resources on the SAKURA Cloud",
        "",
        "Usage:",
        "  usacloud [global options] <command> <sub-command> [options] [arguments]",
        "",
        "Available Commands:",
    ]
    for name in ("completion", "config", "help", "iaas", "rest", "update-self", "version", "web-accelerator"):
        lines.append("  " + name)
    lines += (
        ["", "Flags:"]
        + ["      --" + f for f in global_flags()]
        + ["", 'Use "usacloud [command] --help" for more information about a command.']
    )
    return "\n".join(lines) + "\n"


def help_iaas():
    names = [d["name"] for d in command_data().RESOURCES if d["location"] == "iaas"]
    return (
        "Usage:\n  usacloud iaas [command]\n\nAvailable Commands:\n"
        + "".join(f"  {n}\n" for n in names)
        + '\nUse "usacloud iaas [command] --help" for more information about a command.\n'
    )


def help_resource(res):
    head = f"Usage:\n  usacloud {res.name} [command]\n"
    if res.aliases:
        head += "\nAliases:\n  {}\n".format(", ".join([res.name, *res.aliases]))
    return (
        head
        + "\nAvailable Commands:\n"
        + "".join(f"  {s.name}\n" for s in res.subs)
        + f'\nUse "usacloud {res.name} [command] --help" for more information about a command.\n'
    )


def help_sub(res, sub):
    spec, _a, _s = build_spec(Path_for(res, sub))
    lines = [
        "Usage:",
        "  usacloud {} {} [flags]{}".format(res.name, sub.name, "" if sub.sel == "-" else " { ID | NAME | TAG }..."),
        "",
    ]
    if sub.aliases:
        lines += ["Aliases:", "  " + ", ".join([sub.name, *sub.aliases]), ""]
    lines.append("Flags:")
    for name, (short, _b, _v) in spec.items():
        req = " (*required)" if sub.flags.get(name, ("", False, False))[2] else ""
        lines.append((f"  -{short}, --{name}{req}") if short else (f"      --{name}{req}"))
    return "\n".join(lines) + "\n"


def Path_for(res, sub):
    p = Path()
    p.kind, p.res, p.sub = "resource", res, sub
    return p


def print_help_for(words):
    if not words:
        out(help_root())
        return
    i = 0
    iaas = words[0] == "iaas"
    if iaas:
        i = 1
        if len(words) == 1:
            out(help_iaas())
            return
    res = find_resource(words[i], iaas_only=iaas)
    if res is None:
        out(help_root())
        return
    sub = res.find_sub(words[i + 1]) if len(words) > i + 1 else None
    out(help_sub(res, sub) if sub else help_resource(res))


# ----------------------------------------------------------------------------- data
def now_iso():
    t = time.time() + 9 * 3600
    return time.strftime("%Y-%m-%dT%H:%M:%S+09:00", time.gmtime(t))


def zone_obj(zone):
    zid, disp, region = ZONE_INFO.get(zone, ("0", zone, "tk1"))
    rid, rname = REGIONS[region]
    return {"ID": zid, "Name": zone, "DisplayName": disp, "Region": {"ID": rid, "Name": rname}}


def catalog(rname, zone):
    fixed = "2024-01-01T00:00:00+09:00"
    if rname == "zone":
        return [
            {
                "ID": ZONE_INFO[z][0],
                "Name": z,
                "Description": ZONE_INFO[z][1],
                "DisplayOrder": k + 1,
                "IsDummy": z == "tk1v",
                "Region": zone_obj(z)["Region"],
            }
            for k, z in enumerate(DEFAULT_ZONES)
        ]
    if rname == "region":
        return [{"ID": rid, "Name": rn, "Description": rn, "NameServers": []} for rid, rn in REGIONS.values()]
    if zone is None:
        return []
    zo = zone_obj(zone)
    if rname == "server-plan":
        return [
            {
                "ID": f"1000{c:02d}{m:03d}",
                "Name": f"Plan/{c}Core-{m}GB",
                "CPU": c,
                "MemoryMB": m * 1024,
                "GPU": 0,
                "CPUModel": "uncategorized",
                "Commitment": "standard",
                "Generation": 200,
                "Availability": "available",
                "Zone": zo,
            }
            for c, m in ((1, 1), (2, 4), (4, 8))
        ]
    if rname == "disk-plan":
        return [
            {"ID": "4", "Name": "SSD Plan", "StorageClass": "iscsi1204", "Availability": "available", "Zone": zo},
            {"ID": "2", "Name": "HDD Plan", "StorageClass": "iscsi1204", "Availability": "available", "Zone": zo},
        ]
    if rname == "internet-plan":
        return [
            {"ID": str(b), "Name": f"{b}Mbps shared", "BandWidthMbps": b, "Availability": "available", "Zone": zo}
            for b in (100, 250, 500, 1000)
        ]
    if rname == "archive":
        zi = DEFAULT_ZONES.index(zone) if zone in DEFAULT_ZONES else 9
        return [
            {
                "ID": str(112900000000 + zi * 10 + k),
                "Name": name,
                "Description": "",
                "Tags": tags,
                "Availability": "available",
                "Scope": "shared",
                "SizeMB": 20480,
                "Zone": zo,
                "CreatedAt": fixed,
                "ModifiedAt": fixed,
            }
            for k, (name, tags) in enumerate(
                (
                    (
                        "Ubuntu Server 24.04.1 LTS 64bit",
                        ["@size-extendable", "cloud-init", "distro-ubuntu", "distro-ver-24.04.1", "os-linux"],
                    ),
                    ("Rocky Linux 9.4 64bit", ["@size-extendable", "distro-rocky", "distro-ver-9.4", "os-linux"]),
                )
            )
        ]
    return []


class Store:
    def __init__(self, path, locked):
        self.path = path
        self.locked = locked
        self.lockfd = None
        self.data = None

    def open(self, write):
        if self.path and self.locked:
            import fcntl

            self.lockfd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self.lockfd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        self.data = self.load()
        return self

    def close(self):
        if self.lockfd is not None:
            os.close(self.lockfd)
            self.lockfd = None

    def load(self):
        empty = {"next_id": 0, "resources": {}}
        if not self.path:
            return empty
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return empty
        if not raw.strip():
            return empty
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            msg = str(e)
            if "Expecting" in msg and getattr(e, "pos", 0) >= len(raw.rstrip()) - 1:
                go_panic("unexpected end of JSON input")
            if "Unterminated" in msg:
                go_panic("unexpected end of JSON input")
            ch = raw[getattr(e, "pos", 0) : getattr(e, "pos", 0) + 1].decode("latin-1") or "?"
            go_panic(f"invalid character '{ch}' looking for beginning of value")
        if not isinstance(data, dict) or not isinstance(data.get("resources", {}), dict):
            go_panic(f"json: cannot unmarshal {type(data).__name__} into Go value of type fake.store")
        data.setdefault("resources", {})
        data.setdefault("next_id", 0)
        return data

    def save(self):
        if not self.path:
            return
        raw = json.dumps(self.data, indent=2, ensure_ascii=False).encode("utf-8")
        if self.locked:
            tmp = f"{self.path}.tmp.{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(raw)
            os.replace(tmp, self.path)
        else:
            with open(self.path, "wb") as f:  # like the real fake store: in place, no lock
                f.write(raw)

    def records(self, rname):
        return self.data["resources"].setdefault(rname, [])

    def new_id(self):
        self.data["next_id"] = int(self.data.get("next_id", 0)) + 1
        return str(ID_BASE + self.data["next_id"])


def rec_zone(rec):
    z = rec.get("Zone")
    return z.get("Name") if isinstance(z, dict) else z


def pool(store, res, zones):
    recs = []
    for z in zones:
        cat = catalog(res.name, z)
        mine = [r for r in store.records(res.name) if z is None or rec_zone(r) == z]
        recs.extend(cat + mine)
    return recs


def go_quote_list(items):
    return "[" + " ".join(json.dumps(a, ensure_ascii=False) for a in items) + "]"


def resolve_targets(store, res, zones, args, single, exact):
    if not args:
        fail("ID or Name or Tags arguments are required")
    found = []
    seen = set()
    candidates = pool(store, res, zones)
    for a in args:
        for rec in candidates:
            name = str(rec.get("Name", ""))
            hit = rec.get("ID") == a or a in (rec.get("Tags") or []) or (name == a if exact else a in name)
            key = (rec.get("ID"), rec_zone(rec))
            if hit and key not in seen:
                seen.add(key)
                found.append(rec)
    if not found:
        fail("target resource not found: query=" + go_quote_list(args))
    if single and len(found) > 1:
        fail("in this operation, only a single target is allowed: query=" + go_quote_list(args))
    return found


def pascal(name):
    if name == "memory":
        return "MemoryMB"
    if name in ("size", "size-gb"):
        return "SizeMB"
    return "".join(ACRONYMS.get(p, p[:1].upper() + p[1:]) for p in name.split("-") if p)


def extras(sub, fl, params):
    ext = {}
    for name, (_short, is_bool, _req) in sub.flags.items():
        if name in SKIP_EXTRA or not fl.has(name):
            continue
        key = pascal(name)
        if is_bool:
            ext[key] = fl.true(name)
            continue
        val = fl.get(name)
        if key in ("MemoryMB", "SizeMB") and val.isdigit():
            ext[key] = int(val) * 1024
        elif val.isdigit() and not key.endswith("ID") and not key.endswith("IDs"):
            ext[key] = int(val)
        else:
            ext[key] = val
    for k, v in params.items():
        if k not in ("Name", "Description", "Tags", "IconID", "Zone") and k not in ext:
            ext[k] = v
    return ext


def new_record(store, res, sub, fl, params, zone):
    name = fl.get("name") or params.get("Name") or fl.get("target") or ""
    tags = sorted(fl.slice("tags") if fl.has("tags") else list(params.get("Tags") or []))  # stored sorted
    rec = {
        "ID": store.new_id(),
        "Name": name,
        "Description": fl.get("description") or params.get("Description") or "",
        "Tags": tags,
        "Availability": "available",
    }
    icon = fl.get("icon-id") or params.get("IconID")
    if icon:
        rec["IconID"] = icon
    if res.name in ("archive", "cdrom", "icon", "note"):
        rec["Scope"] = "user"
    if res.name == "disk":
        rec["SizeMB"] = 20480
    if res.name == "server":
        rec.update({"CPU": 1, "MemoryMB": 1024})
    rec.update(extras(sub, fl, params))
    if res.powered:
        if "boot-after-create" in sub.flags:
            rec["InstanceStatus"] = "up" if fl.true("boot-after-create") else "down"
        else:
            rec["InstanceStatus"] = "up"
    if zone is not None:
        rec["Zone"] = zone_obj(zone)
    rec["CreatedAt"] = rec["ModifiedAt"] = now_iso()
    return rec


def server_disks(store, fl, params, server, zone):
    """The disks a `server create` connects: new ones (any --disk-* flag but --disk-id, or a --parameters
    `Disks` entry without an ID) are made with their own tags only, not the server's (tg-disk-list-tag)."""
    specs = []
    disk_flags = [n for n in fl.values if n.startswith("disk-") and n not in ("disk-id", "disk-ids")]
    if fl.get("disk-id"):
        specs.append({"ID": fl.get("disk-id")})
    elif disk_flags:
        specs.append({"Name": fl.get("disk-name"), "Tags": fl.slice("disk-tags"), "SizeGB": fl.get("disk-size")})
    specs += [{"ID": i} for i in fl.slice("disk-ids")]
    specs += [d for d in params.get("Disks") or () if isinstance(d, dict)]
    connected = []
    for spec in specs:
        if spec.get("ID"):
            connected.append({"ID": str(spec["ID"]), "Name": ""})
            continue
        size = int(spec.get("SizeGB") or 20)
        disk = {
            "ID": store.new_id(),
            "Name": spec.get("Name") or server["Name"],
            "Description": "",
            "Tags": sorted(spec.get("Tags") or []),
            "Availability": "available",
            "SizeMB": size * 1024,
            "ServerID": server["ID"],
            "CreatedAt": now_iso(),
            "ModifiedAt": now_iso(),
        }
        if zone is not None:
            disk["Zone"] = zone_obj(zone)
        store.records("disk").append(disk)
        connected.append({"ID": disk["ID"], "Name": disk["Name"]})
    return connected


# ----------------------------------------------------------------------------- output
def pretty(obj):
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"


class Unsupported(Exception):
    pass


def query_jmespath(expr, data):
    import re

    expr = expr.strip()
    if expr in ("", "@"):
        return data
    if expr.replace(" ", "") == "length(@)":
        return len(data)
    toks = re.findall(r"\[\*?\]|\[-?\d+\]|\.?[A-Za-z_][A-Za-z0-9_]*", expr)
    if "".join(toks) != expr:
        raise Unsupported(expr)
    cur, projected = data, False
    for t in toks:
        if t in ("[]", "[*]"):
            if not isinstance(cur, list):
                return None
            if projected:
                flat = []
                for x in cur:
                    flat.extend(x if isinstance(x, list) else [x])
                cur = flat
            projected = True
        elif t.startswith("["):
            k = int(t[1:-1])
            if projected:
                cur = [x[k] for x in cur if isinstance(x, list) and -len(x) <= k < len(x)]
            else:
                cur = cur[k] if isinstance(cur, list) and -len(cur) <= k < len(cur) else None
        else:
            f = t.lstrip(".")
            if projected:
                cur = [x.get(f) for x in cur if isinstance(x, dict) and x.get(f) is not None]
            else:
                cur = cur.get(f) if isinstance(cur, dict) else None
    return cur


def query_jq(expr, data):
    """Returns the list of jq outputs."""
    import re

    expr = expr.strip()
    if expr in ("", "."):
        return [data]
    if expr == "length":
        return [len(data)]
    toks = re.findall(r"\.\[\]|\.?\[-?\d+\]|\.[A-Za-z_][A-Za-z0-9_]*", expr)
    if "".join(toks) != expr:
        raise Unsupported(expr)
    streams = [data]
    for t in toks:
        nxt = []
        for cur in streams:
            if t == ".[]":
                nxt.extend(cur if isinstance(cur, list) else [])
            elif "[" in t:
                k = int(t[t.index("[") + 1 : -1])
                nxt.append(cur[k] if isinstance(cur, list) and -len(cur) <= k < len(cur) else None)
            else:
                nxt.append(cur.get(t[1:]) if isinstance(cur, dict) else None)
        streams = nxt
    return streams


def yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[]"
    if isinstance(v, dict):
        return "{}"
    s = str(v)
    plain = (
        s
        and s.strip() == s
        and s[0] not in "-?:,[]{}#&*!|>'\"%@`"
        and ": " not in s
        and " #" not in s
        and "\n" not in s
        and s.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~", "y", "n")
        and not s[0].isdigit()
        and not s.replace(".", "", 1).lstrip("+-").isdigit()
    )
    return s if plain else json.dumps(s, ensure_ascii=False)


def yaml_lines(v, ind):
    pad = " " * ind
    lines = []
    if isinstance(v, list):
        for item in v:
            if isinstance(item, (dict, list)) and item:
                sub = yaml_lines(item, ind + 2)
                sub[0] = pad + "- " + sub[0].lstrip()
                lines.extend(sub)
            else:
                lines.append(pad + "- " + yaml_scalar(item))
    elif isinstance(v, dict):
        for k in sorted(v):
            val = v[k]
            if isinstance(val, dict) and val:
                lines.append(pad + k + ":")
                lines.extend(yaml_lines(val, ind + 2))
            elif isinstance(val, list) and val:
                lines.append(pad + k + ":")
                lines.extend(yaml_lines(val, ind))
            else:
                lines.append(pad + k + ": " + yaml_scalar(val))
    else:
        lines.append(pad + yaml_scalar(v))
    return lines


def table(recs):
    cols = []
    if any("Zone" in r for r in recs):
        cols.append("Zone")
    cols += ["ID", "Name"]
    if any("InstanceStatus" in r for r in recs):
        cols.append("InstanceStatus")
    cols += ["Tags", "Description"]

    def cell(r, c):
        v = r.get(c)
        if c == "Zone":
            return rec_zone(r) or ""
        if isinstance(v, list):
            return ",".join(str(x) for x in v)
        return "" if v is None else str(v)

    rows = [[cell(r, c) for c in cols] for r in recs]
    widths = [max([len(c)] + [len(row[k]) for row in rows]) for k, c in enumerate(cols)]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(vals):
        return "|" + "|".join(" " + v.ljust(w) + " " for v, w in zip(vals, widths, strict=True)) + "|\n"

    return sep + line(cols) + sep + "".join(line(r) for r in rows) + sep


def render_template(tmpl, rec):
    import re

    def repl(m):
        cur = rec
        for part in m.group(1).split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            return "<no value>"
        if isinstance(cur, list):
            return "[" + " ".join(str(x) for x in cur) + "]"
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return re.sub(r"\{\{-?\s*\.([A-Za-z0-9_.]+)\s*-?\}\}", repl, tmpl)


def print_records(recs, sub, fl):
    if not recs:
        return
    if "O" not in sub.std and "q" not in sub.std:
        return
    if fl.true("quiet"):
        out("".join(str(r.get("ID", "")) + "\n" for r in recs))
        return
    fmt = file_or_text(fl.get("format"))
    if fmt:
        out("".join(render_template(fmt, r) + "\n" for r in recs))
        return
    q = file_or_text(fl.get("query"))
    if q:
        driver = (
            fl.get("query-driver")
            or envget("SAKURACLOUD_DEFAULT_QUERY_DRIVER", "SAKURA_DEFAULT_QUERY_DRIVER")
            or "jmespath"
        )
        try:
            if driver == "jq":
                out("".join(pretty(x) for x in query_jq(q, recs)))
            else:
                out(pretty(query_jmespath(q, recs)))
        except Unsupported:
            out(pretty(recs))
        return
    ot = fl.get("output-type") or envget("SAKURACLOUD_DEFAULT_OUTPUT_TYPE", "SAKURA_DEFAULT_OUTPUT_TYPE") or "table"
    if ot == "json":
        out(pretty(recs))
    elif ot == "yaml":
        out("\n".join(yaml_lines(recs, 0)) + "\n")
    else:
        out(table(recs))


def file_or_text(value):
    """--format / --query: a readable file's content, else the value itself (as usacloud reads them)."""
    if value and os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            return f.read()
    return value


# ----------------------------------------------------------------------------- credentials, fake-mode faults
def profile_file(name):
    base = envget("SAKURA_PROFILE_DIR", "SAKURACLOUD_PROFILE_DIR", "USACLOUD_PROFILE_DIR") or os.path.expanduser("~")
    path = os.path.join(base, ".usacloud", name, "config.json")
    return path if os.path.isfile(path) else None


def credentials(fl):
    """The token a command would send: flags, then the environment, then the profile's file."""
    if CTX.auth is None:
        profile = fl.get("profile") or envget("SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE") or "default"
        path = profile_file(profile)
        data = {}
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                data = {}
        CTX.auth = {
            "token": fl.get("token")
            or envget("SAKURACLOUD_ACCESS_TOKEN", "SAKURA_ACCESS_TOKEN")
            or str(data.get("AccessToken") or ""),
            "secret": fl.get("secret")
            or envget("SAKURACLOUD_ACCESS_TOKEN_SECRET", "SAKURA_ACCESS_TOKEN_SECRET")
            or str(data.get("AccessTokenSecret") or ""),
            "profile": profile,
            "profile_file": path,
        }
    return CTX.auth["token"]


def seed_store(path):
    """The first use of a fake store path seeds it with the catalogue (slow in the real one)."""
    try:
        if os.path.getsize(path) > 0:
            return
    except OSError:
        pass
    try:
        cost = float(os.environ.get("STANDIN_SEED_COST") or 0)
    except ValueError:
        cost = 0.0
    t0 = time.process_time()
    n = 0
    while time.process_time() - t0 < cost:
        n = (n * 31 + 7) % 1000003  # CPU, like the real seeding
    seeded = {"next_id": 0, "resources": {}, "catalogue": {"zones": sorted(ZONE_INFO), "seeded_by": os.getpid()}}
    with open(path, "wb") as f:
        f.write(json.dumps(seeded, indent=2).encode("utf-8"))
    CTX.seeded = True


def maybe_hang(fake, sub):
    """STANDIN_FAKE_HANG: a changing command in fake mode may hang after its work (decided here)."""
    if not fake or sub.kind not in ("c", "u", "d", "p", "o", "w"):
        return
    try:
        fraction = float(os.environ.get("STANDIN_FAKE_HANG") or 0)
    except ValueError:
        return
    if fraction > 0 and int.from_bytes(os.urandom(4), "big") / 0xFFFFFFFF < fraction:
        CTX.hang = True


def hang():
    """After the work and the output: never end (until a signal kills us), like the real race."""
    sys.stdout.flush()
    sys.stderr.flush()
    kill_child()
    log_line({"event": "hang", "pid": os.getpid(), "argv": sys.argv[1:]})
    while True:
        time.sleep(3600)


# ----------------------------------------------------------------------------- execution
def check_token(fl, fake):
    need = os.environ.get("STANDIN_REQUIRE_TOKEN")
    if not need or fake:
        return
    tok = credentials(fl)
    if tok != need:
        fail(api_error("401 Unauthorized", "unauthorized", "the access token is invalid or expired (standin)"))


def confirm(sub, fl, ids):
    if not sub.confirm or fl.true("assumeyes"):
        return True
    if not (os.isatty(0) and os.isatty(1)):
        fail(CONFIRM_MSG)
    id_lines = "".join(f"\t{i},\n" for i in ids)
    out(f"\nTarget resource IDs => [\n{id_lines}]\nAre you sure you want to {sub.name}?(y/n) [n]: ")
    sys.stdout.flush()
    ans = sys.stdin.readline().strip().lower()
    return ans in ("y", "yes")


def go_json_error(text, e):
    """Go's encoding/json wording for the decoder errors a script is likely to make."""
    at = text[e.pos : e.pos + 1] if e.pos < len(text) else ""
    if not at.strip():
        return "unexpected end of JSON input"
    if e.msg.startswith("Expecting property name"):
        return f"invalid character {at!r} looking for beginning of object key string"
    if e.msg.startswith("Expecting value"):
        return f"invalid character {at!r} looking for beginning of value"
    return f"invalid character {at!r} after object key:value pair"


def load_parameters(fl):
    """--parameters: a readable file's content, else the text itself (usacloud's BytesFromPathOrContent).
    A decoder error is printed bare on stderr and usacloud exits 0 without doing anything."""
    raw = fl.get("parameters")
    if not raw:
        return {}
    text = raw
    if os.path.isfile(raw):
        with open(raw, encoding="utf-8") as f:
            text = f.read()
    try:
        params = json.loads(text)
    except ValueError as e:
        err_raw(go_json_error(text, e) + "\n")
        raise Exit(0) from None
    if params is None:
        return {}
    if not isinstance(params, dict):
        err_raw(f"json: cannot unmarshal {type(params).__name__} into Go value\n")
        raise Exit(0)
    return params


def param_value(params, field):
    """The value of ``field`` ("Disk.SizeGB") in --parameters JSON; keys match case-insensitively, as in Go."""
    node = params
    for part in field.split("."):
        if not isinstance(node, dict):
            return None
        node = next((v for k, v in node.items() if k.lower() == part.lower()), None)
    return node


def not_allowed(f, values):
    """Whether some of ``values`` are outside the flag's closed set (ints compare as numbers)."""
    if f.value == "int":
        allowed = {go_int(o) for o in f.options}
        return any(go_int(v) not in allowed for v in values)
    return any(v not in f.options for v in values)


def validation_errors(sub, fl, params):
    """usacloud's validation, one line per problem: the zone first, then the output flags, then the
    subcommand's own flags (required, allowed values) in table order."""
    errors = []
    zone = None
    if "Z" in sub.std:
        # --parameters replaces the parameters, the zone taken from the environment included
        env_zone = "" if fl.has("parameters") else envget("SAKURACLOUD_ZONE", "SAKURA_ZONE")
        zone = fl.get("zone") or param_value(params, "Zone") or env_zone
        zones_ok = permitted_zones(fl)
        if not zone:
            errors.append("--zone: required")
        elif zone != "all" and zone not in zones_ok:
            errors.append("--zone: oneof=all " + " ".join([*zones_ok, "all"]))
        CTX.zone = zone
    first = ("output-type", "query-driver")
    ordered = [f for n in first for f in sub.all_flags if f.name == n]
    ordered += [f for f in sub.all_flags if f.name not in first and f.name != "zone"]
    for f in ordered:
        values = fl.slice(f.name) if f.value == "strings" else [v for v in [fl.get(f.name)] if v]
        if f.required and not values and param_value(params, f.field) in (None, "", 0, False, [], {}):
            errors.append(f"--{f.name}: required")
        elif f.options and values and not_allowed(f, values):
            errors.append(f"--{f.name}: oneof=" + " ".join(f.options))
        elif "tags" in (f.validate or "").split(",") and values:
            errors += tag_errors(f.name, values)
    if match_mode(fl) not in ("partial", "exact"):
        errors.append("--argument-match-mode: oneof=partial exact")
    return zone, errors


def tag_errors(name, tags):
    """usacloud's `tags` validator: at most 10 tags of at most 32 characters (transcripts tg-create-*)."""
    if len(tags) > 10:
        return [f"--{name}: max=10"]
    return [f"--{name}[{i}]: max=32" for i, t in enumerate(tags) if len(t) > 32]


def match_mode(fl):
    return (
        fl.get("argument-match-mode")
        or envget("SAKURACLOUD_ARGUMENT_MATCH_MODE", "SAKURA_ARGUMENT_MATCH_MODE")
        or "partial"
    )


def permitted_zones(fl):
    if fl.has("zones"):
        zs = fl.slice("zones")
    else:
        raw = envget("SAKURACLOUD_ZONES", "SAKURA_ZONES")
        zs = [z.strip() for z in raw.split(",") if z.strip()] if raw else []
    return zs or list(DEFAULT_ZONES)


def run_local(res, sub, fl, args):
    profiles = ["default"] + [p for p in (os.environ.get("STANDIN_PROFILES") or "").split(",") if p and p != "default"]
    current = fl.get("profile") or envget("SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE") or "default"
    name = fl.get("name") or (args[0] if args else current)
    if res.name == "self":
        fail("standin: `self id` only works on a server of SAKURA Cloud")
    if sub.name == "list":
        out("".join(p + "\n" for p in profiles))
    elif sub.name == "current":
        out(current + "\n")
    elif sub.name == "show":
        out(pretty({"AccessToken": "", "AccessTokenSecret": "", "Zone": "", "DefaultOutputType": "", "NoColor": False}))
    elif sub.name == "path":
        out(os.path.join(os.path.expanduser("~"), ".usacloud", name, "config.json") + "\n")
    elif sub.name == "delete":
        confirm(sub, fl, [name])  # nothing is stored, so nothing to delete
    return 0


def run_command(res, sub, fl, args):
    std = sub.std
    if sub.kind == "l":
        return run_local(res, sub, fl, args)
    if "I" in std and (fl.true("generate-skeleton") or fl.true("example")):
        skel = {}
        if "Z" in std:
            skel["Zone"] = ""
        for name, (_s, is_bool, _r) in sub.flags.items():
            skel[pascal(name)] = False if is_bool else ""
        out(pretty(skel))
        return 0
    prof = fl.get("profile") or envget("SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE")
    known = ["default", *(os.environ.get("STANDIN_PROFILES") or "").split(",")]
    if prof and prof not in known and not profile_file(prof):
        err_raw(f'\nloading profile "{prof}" failed: profile "{prof}" is not exists\n\n')
        raise Exit(0)
    dot = envget("SAKURACLOUD_DEFAULT_OUTPUT_TYPE", "SAKURA_DEFAULT_OUTPUT_TYPE")
    if dot and dot not in ("table", "json", "yaml"):
        err_raw("\nvalidation error:\n\tdefault-output-type: oneof=table json yaml\n\n")
        raise Exit(0)
    params = load_parameters(fl) if "I" in std else {}

    zone, errors = validation_errors(sub, fl, params)
    if errors:
        fail("validation error:\n\t" + "\n\t".join(errors))

    fake_flag = fl.get("fake")
    fake = (fake_flag == "true") if fake_flag is not None else bool(envget("SAKURACLOUD_FAKE_MODE", "SAKURA_FAKE_MODE"))
    fstore = fl.get("fake-store") or envget("SAKURACLOUD_FAKE_STORE_PATH", "SAKURA_FAKE_STORE_PATH")
    credentials(fl)
    if fake and fstore:
        seed_store(fstore)
        store = Store(fstore, locked=False)
    else:
        store = Store(os.environ.get("STANDIN_STATE") or None, locked=True)
    CTX.store_path = store.path

    if sub.kind == "q":  # rest request
        if len(args) != 1:
            cobra_fail(f"accepts 1 arg(s), received {len(args)}")
        # the real `rest` ignores fake mode: this request would go out, with these credentials
        log_line(
            {
                "event": "network",
                "pid": os.getpid(),
                "argv": sys.argv[1:],
                "url": args[0],
                "method": fl.get("method") or "GET",
                "fake_mode": fake,
                "token": CTX.auth["token"],
                "secret": CTX.auth["secret"],
            }
        )
        check_token(fl, False)
        out(pretty({"is_ok": True}))
        return 0

    zones = [None]
    if res.zoned and zone:
        zones = permitted_zones(fl) if zone == "all" else [zone]
    writes = sub.kind in ("c", "u", "d", "p", "o")
    store.open(write=writes)
    try:
        if res.name == "auth-status":
            check_token(fl, fake)
            err_raw(
                "auth-status is deprecated. Please use 'usacloud rest https://secure.sakura."
                "ad.jp/cloud/api/iam/1.0/auth/context' instead.\n"
            )
            print_records(
                [
                    {
                        "AccountID": "111111111111",
                        "AccountName": "standin",
                        "AccountCode": "standin",
                        "MemberCode": "standin",
                        "Permission": "create",
                        "ExternalPermission": "bill+eventlog+cdn",
                        "OperationPenalty": "none",
                    }
                ],
                sub,
                fl,
            )
            return 0
        targets = []
        if sub.sel != "-":
            check_token(fl, fake)
            targets = resolve_targets(store, res, zones, args, sub.sel == "s", match_mode(fl) == "exact")
        if not confirm(sub, fl, [t["ID"] for t in targets]):
            return 0
        if sub.sel == "-":
            check_token(fl, fake)
        catalog_ids = {r["ID"] for z in zones for r in catalog(res.name, z)}
        if writes and sub.kind != "c" and any(t["ID"] in catalog_ids for t in targets):
            fail(api_error("403 Forbidden", "forbidden", "a public resource cannot be changed (standin)"))
        result = []
        changed = False
        if sub.kind == "x":
            fail(f"standin: `{res.name} {sub.name}` would start an external client; not supported")
        elif sub.name == "list":
            recs = pool(store, res, zones)
            names = fl.slice("names")
            if names:
                recs = [r for r in recs if any(n in str(r.get("Name", "")) for n in names)]
            tags = fl.slice("tags")
            if tags:
                recs = [r for r in recs if all(t in (r.get("Tags") or []) for t in tags)]
            scope = fl.get("scope")
            if scope:
                recs = [r for r in recs if r.get("Scope") in (None, scope)]
            frm = int(fl.get("from") or 0)
            cnt = int(fl.get("count") or 0)
            recs = recs[frm:]
            if cnt > 0:
                recs = recs[:cnt]
            result = recs
        elif sub.name == "read":
            result = targets
        elif sub.kind == "c" and sub.sel == "-":
            for z in zones:
                rec = new_record(store, res, sub, fl, params, z)
                store.records(res.name).append(rec)
                if res.name == "server":
                    rec["Disks"] = server_disks(store, fl, params, rec, z)
                result.append(rec)
            changed = True
        elif sub.kind == "u":
            ext = extras(sub, fl, params)
            for t in targets:
                if fl.get("name"):
                    t["Name"] = fl.get("name")
                if fl.has("description"):
                    t["Description"] = fl.get("description")
                if fl.has("tags"):
                    t["Tags"] = fl.slice("tags")
                if fl.get("icon-id"):
                    t["IconID"] = fl.get("icon-id")
                t.update(ext)
                t["ModifiedAt"] = now_iso()
            result = targets
            changed = True
        elif sub.kind == "d" and sub.name == "delete":
            ids = {(t["ID"], rec_zone(t)) for t in targets}
            recs = store.records(res.name)
            recs[:] = [r for r in recs if (r.get("ID"), rec_zone(r)) not in ids]
            if res.name == "server" and fl.true("with-disks"):  # and their disks (tg-server-delete-force-disks)
                gone = {(d.get("ID"), rec_zone(t)) for t in targets for d in t.get("Disks") or ()}
                disks = store.records("disk")
                disks[:] = [d for d in disks if (d.get("ID"), rec_zone(d)) not in gone]
            changed = True
        elif sub.kind == "p":
            status = {"boot": "up", "shutdown": "down"}.get(sub.name)
            if status:
                for t in targets:
                    t["InstanceStatus"] = status
                    t["ModifiedAt"] = now_iso()
                changed = True
        elif sub.kind in ("o", "c"):
            result = targets
        # kind r (monitor/logs/health...) and w (wait-*): empty result
        if changed and writes:
            store.save()
    finally:
        store.close()
    maybe_hang(fake, sub)
    if sub.kind in ("d", "p", "w"):
        return 0
    print_records(result, sub, fl)
    return 0


def dispatch(argv):
    args = argv[1:]
    path = find_path(args)
    perr = None
    fl, pos = Flags(), []
    if path.kind == "unknown":
        perr = ParseError(f'unknown command "{path.word}" for "usacloud"', usage_hint=True)
    else:
        try:
            fl, pos = parse_flags(args, path)
        except ParseError as e:
            perr = e
    if path.kind == "resource" and path.sub is not None:
        CTX.resource, CTX.command = path.res.name, path.sub.name
        if perr is None:
            try:
                secs = int(
                    fl.get("process-timeout-sec")
                    or envget("SAKURACLOUD_PROCESS_TIMEOUT_SEC", "SAKURA_PROCESS_TIMEOUT_SEC")
                    or 0
                )
            except ValueError:
                secs = 0
            if secs > 0:
                CTX.deadline = START + secs
    latency()
    apply_rules(argv)
    if perr is not None:
        cobra_fail(perr.msg, perr.usage_hint)
    if fl.true("help"):
        words = [args[i] for i in sorted(path.indices)]
        if path.kind == "resource" and path.sub is not None and words[-1:] != [path.sub.name]:
            words.append(path.sub.name)
        print_help_for([w for w in words if w != "help"])
        return 0
    k = path.kind
    if k == "root":
        if fl.true("version"):
            out(VERSION + "\n")
        else:
            out(help_root())
        return 0
    if k == "version":
        out(VERSION + "\n")
        return 0
    if k == "help":
        print_help_for(path.rest)
        return 0
    if k == "iaas":
        out(help_iaas())
        return 0
    if k == "completion":
        if len(pos) != 1 or pos[0] not in ("bash", "zsh", "fish", "powershell"):
            cobra_fail('invalid argument "%s" for "usacloud completion"' % (pos[0] if pos else ""))
        out(f"# usacloud {pos[0]} completion (standin)\n")
        return 0
    if k == "update-self":
        fail("standin: update-self is not available")
    if path.sub is None:
        out(help_resource(path.res))
        return 0
    return run_command(path.res, path.sub, fl, pos)


START = time.time()


def main():
    global CTX
    CTX = Ctx(sys.argv)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if os.environ.get("STANDIN_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    base = {"argv": sys.argv[1:], "pid": os.getpid(), "pgid": os.getpgid(0), "ppid": os.getppid(), "start": START}
    log_line(dict(base, event="start"))
    if os.environ.get("STANDIN_SPAWN_CHILD") == "1":
        spawn_child()
    code = 0
    try:
        code = dispatch(sys.argv)
    except Exit as e:
        code = e.code
    sys.stdout.flush()
    if CTX.hang and code == 0:
        hang()
    kill_child()
    env = os.environ
    log_line(
        dict(
            base,
            event="end",
            prog=sys.argv[0],
            end=time.time(),
            exit=code,
            cwd=os.getcwd(),
            zone_env=env.get("SAKURACLOUD_ZONE"),
            zones_env=env.get("SAKURACLOUD_ZONES"),
            sakura_zone_env=env.get("SAKURA_ZONE"),
            sakura_zones_env=env.get("SAKURA_ZONES"),
            fake_mode=env.get("SAKURACLOUD_FAKE_MODE"),
            fake_store=env.get("SAKURACLOUD_FAKE_STORE_PATH"),
            store=CTX.store_path,
            resource=CTX.resource,
            command=CTX.command,
            zone=CTX.zone,
            rule=CTX.rule,
            child_pid=CTX.child_pid,
            stdout_bytes=CTX.out_bytes,
            stderr_bytes=CTX.err_bytes,
            seeded=CTX.seeded,
            auth=CTX.auth,
        )
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
