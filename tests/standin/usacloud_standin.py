#!/usr/bin/env python3
"""Stand-in for the `usacloud` CLI (v1.22.8) used by the pytest-usacloud-sandbox test suite.

Run as ``tests/standin/usacloud`` (its launcher); ``usacloud`` below means that command.

It is a model of the real binary: argument parsing, exit codes, error texts, output forms and a small
resource store, without ever touching the network. It must answer every recorded call of the real
usacloud 1.22.8 (``../shared/usacloud-transcripts.jsonl``) as recorded: ``tests/test_transcripts.py``
replays them all, and lists with its reason each record it answers only in shape, or not at all.
Stdlib only; started thousands of times, so it keeps its imports small and loads its other modules
(beside this file) only when a call needs them:

* ``standin_setup.py``: what usacloud does before a command (profile, configuration, API client,
  ``--parameters``, ``--generate-skeleton``/``--example``): its errors are printed bare and exit 0,
  having run nothing (``API Error - failed to open default/config.json: ...`` for a named profile the
  profile directory lacks).
* ``standin_catalog.py``: the data (zones, archives, ISO images, plans; fake mode's own switch
  ``スイッチ``, notes and IP address) and the records commands make, with usacloud's field sets.
* ``standin_render.py``: the output (``-q``, ``--format``, ``--query``, json, yaml, tables).

Command line
------------
``usacloud [globals] [iaas] <resource> <sub> [flags] [args]`` -- flags may appear anywhere
(pflag "interspersed" parsing), ``--`` ends the flags.  The command tree (resources, their
aliases, subcommands, flags, root flags, confirmation, required flags, allowed values, validation
tags) is the package's own table, ``pytest_usacloud_sandbox/usacloud/_command_data.py`` in this
repository (generated from usacloud 1.22.8's source by tools/gen_commands.py); the stand-in keeps no copy.

* Flag values as pflag reads them: an int flag takes Go's syntax, else ``Error: invalid argument
  "abc" for "--cpu" flag: strconv.ParseInt: parsing "abc": invalid syntax``, exit 1.
* Unknown command at the root: ``Error: unknown command "foo" for "usacloud"`` (with cobra's "Did you
  mean this?" among the listed root commands) + ``Run 'usacloud --help' for usage.``, exit 1.  Unknown
  flag: ``Error: unknown flag: --x``, exit 1 (so ``--zone`` on a global resource fails like the real
  one); between a resource and its subcommand the resource's usage follows.  These cobra errors are
  printed without the blank-line frame.
* Unknown subcommand of a known resource (``usacloud server foo``), a bare resource, ``iaas``,
  ``help``, ``-h/--help``: help text on stdout, exit 0 (a resource's as cobra prints it; the root's,
  ``iaas``'s and a subcommand's are the stand-in's own).
* ``version`` / ``-v`` prints ``1.22.8 linux/amd64, build ec29721``.
* usacloud's own errors go to stderr as: a blank line, then the error; exit 1.
* Before a command: the set-up (``standin_setup``), whose errors exit 0 having run nothing; a
  deprecated resource prints ``[WARN] <its warning>`` (``auth-status``); ``--generate-skeleton``,
  ``--parameters`` and ``--example`` are handled then, in that order.
* Zones: ``--zone X`` / ``--zone=X``, else SAKURA_ZONE, else SAKURACLOUD_ZONE, else the profile's.
  Permitted zones: ``--zones a,b`` (it also prints saclient's flag error and usage, as the real one
  does) else SAKURA_ZONES, else SAKURACLOUD_ZONES, else tk1a,tk1b,is1a,is1b,is1c,tk1v.  Errors:
  ``validation error:\\n\\t--zone: required`` and ``validation error:\\n\\t--zone: oneof=all
  <permitted...> all``.  With ``--parameters`` the default zone is dropped (the JSON's "Zone" or
  ``--zone`` must give it).  ``--zone=all`` lists / searches / creates in every permitted zone.
* Validation, as usacloud prints it (``\\nvalidation error:\\n\\t--name: required\\n``, one tab-indented
  line per problem: the zone, then the output flags, then the subcommand's flags in table order):
  a required flag without a default that neither a flag nor ``--parameters`` gives, a value outside a
  flag's allowed values (``--os-type: oneof=almalinux ...``), and the ``tags`` rule (unique, at most 10
  ``--tags: max=10``, each at most 32 characters ``--tags[0]: max=32``).  It comes before the target
  lookup and the confirmation.  ``--tags a,b`` is two tags, repeated ``--tags`` add up, tags are kept
  sorted.
* Output: see ``standin_render``; ``-o`` defaults to SAKURACLOUD_DEFAULT_OUTPUT_TYPE, then the
  profile's.  Delete / power / wait commands print nothing.
* Confirmation: confirming subcommands need ``-y/--assumeyes`` unless stdin and
  stdout are both terminals, else ``the confirm dialog cannot be used without the terminal.
  Please use --assumeyes(-y) option``, exit 1.  Commands with ID|NAME|TAG arguments resolve
  their targets (an "API call") before asking, as the real one does.
* Targets ``ID|NAME|TAG``: IDs and tags match exactly, names by substring unless
  ``--argument-match-mode exact`` (or SAKURACLOUD_ARGUMENT_MATCH_MODE=exact); an empty target matches
  every resource (``delete -y ""`` deletes them all).  Errors: ``target resource not found:
  query=["x"]``, ``in this operation, only a single target is allowed: query=["x"]`` (several matches,
  or several targets), ``ID or Name or Tags arguments are required``.  ``list --names`` matches by
  substring, every name given; several ``--tags`` must all be there.
* Servers: created with no status (``""``), ``up`` with ``--boot-after-create``; ``boot`` of a running
  server, ``shutdown`` or ``reset`` of one that is not running fail with the fake driver's 409
  (``request to Server[ID:...] is conflicted: Boot is failed``); ``delete`` of a running one without
  ``--force``: ``target tk1v:"<id>" has not yet shut down``.  ``--disk-os-type`` (or a source archive
  or disk) also creates a disk named after the server, with ``--disk-tags`` and without the server's
  tags, of ``--disk-size`` GB (``disk plan[SSDプラン:0GB] is not found`` without it; ``--disk-size``
  alone makes a blank disk, as the real one does); ``delete --with-disks`` removes it too.
  ``update`` to a new plan (``--cpu``, ``--memory``, ``--gpu``, ``--commitment``) makes a new server: a
  new ID, the same name and tags but for ``@previous-id=<old ID>``.
  ``wait-until-ready`` on a server that is not up waits for ever; in fake mode so does
  ``wait-until-shutdown`` (recorded even after a forced shutdown).
* ``--process-timeout-sec`` / SAKURACLOUD_PROCESS_TIMEOUT_SEC: when the injected sleeps would
  exceed it: ``command[<resource>/<sub>] timed out: context deadline exceeded``, exit 1.
* ``ssh``/``vnc``/``rdp``/``update-self``/``self id`` fail with a stand-in error (exit 1).

State
-----
* IDs: the first resource a store makes gets 100000000010, then +1 per resource of any type (a
  server's network interface and disk included), in every mode.
* Default: no persistence, every process starts with a new store.
* STANDIN_STATE=<path>: a JSON store shared by all processes, read-modify-written under an
  exclusive ``fcntl.flock`` on ``<path>.lock`` and replaced atomically.  It models the real API:
  the public catalogue only, no fake-mode data.
* SAKURACLOUD_FAKE_MODE (or SAKURA_FAKE_MODE, or ``--fake``) non-empty (even "0") together with
  SAKURACLOUD_FAKE_STORE_PATH (or SAKURA_FAKE_STORE_PATH, or ``--fake-store``): that file is the
  store *instead of* STANDIN_STATE, with the real fake driver's faults: no lock, the whole file is
  rewritten in place (concurrent writers lose updates and duplicate IDs), and a truncated or
  invalid file makes the process print a Go panic on stderr and exit 2.  The first use of a path
  (no file, or an empty one) seeds it with fake mode's own data and records the process that did
  (``created_by``): the fake driver keeps the shared segment in that process's memory, so a server
  connected to it (``--network-interface-upstream shared``) from any later process panics, exit 2
  (``ConnectToSharedSegment``).  Fake mode without a store path: a new store per process.
* Store format: ``{"next_id": N, "resources": {"server": [record, ...], ...}, "catalogue": {...}}``.

Credentials
-----------
``--trace`` (or SAKURACLOUD_TRACE / SAKURA_TRACE / USACLOUD_TRACE), not in fake mode: two ``[TRACE]``
lines on stderr, the second with ``Authorization:[Basic base64(token:secret)]`` as the real one prints it.
The key a command would use: ``--token``/``--secret``, else the environment, else the profile's file
(``standin_setup``).  STANDIN_REQUIRE_TOKEN=<tok>: that access token must equal <tok> for every
command that would call the API, else ``Error in response: &iaas.APIErrorResponse{IsFatal:true,
Serial:"...", Status:"401 Unauthorized", ErrorCode:"unauthorized", ErrorMessage:"..."}``, exit 1.
Unset: anything goes.  Not checked in fake mode (the fake driver makes no API call), nor for
config/version/help/--generate-skeleton/--example.  Commands with ID|NAME|TAG arguments check it before
asking for confirmation (they list resources first); create and other argument-less commands after.

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
STANDIN_PROFILES=<a,b>            extra profile names ``config list`` shows (``default`` always).

Fake-mode faults of the real usacloud (facts; transcript findings 33, 34, 36)
-----------------------------------------------------------------------------
* ``rest`` ignores fake mode: it would send its request to the real API with whatever credentials it
  has. The stand-in logs that request as ``{"event": "network", "pid", "argv", "url", "method",
  "fake_mode", "token", "secret"}`` (the credentials it would have sent), checks
  STANDIN_REQUIRE_TOKEN even in fake mode, and answers ``{"is_ok": true}``.
* The other subcommands the table marks ``unfaked`` (``web-accelerator``'s: another API client;
  ``bill list``/``csv``, ``coupon list``: an IAM account lookup; the archive and CD-ROM uploads and
  downloads: the FTP host the fake API names) reach a real service in fake mode too:
  the stand-in logs ``{"event": "network", "pid", "argv", "api", "fake_mode", "token", "secret"}``
  and then answers from its store as usual.
STANDIN_FAKE_HANG=<fraction>      in fake mode, each changing command (create, update, delete,
                                  power, other operations, wait) that succeeded hangs with this
                                  probability (1: every one, like GOMAXPROCS=1) *after* doing its
                                  work: its store is written and its output printed and flushed,
                                  then it logs ``{"event": "hang", "pid", "argv"}`` and sleeps until
                                  killed (no "end" line). A rule with ``"hang": true`` does the same
                                  for the calls it matches (it runs them normally first).
GOMAXPROCS=1                      in fake mode every changing command hangs after its work and
                                  *before* its output, as the real one was recorded doing.
STANDIN_SEED_COST=<cpu seconds>   the first use of a fake store path (no file, or an empty one)
                                  seeds it with the fake catalogue, as the real one does (~7 s of
                                  CPU there): the stand-in burns this much CPU time (default 0),
                                  writes the seeded store (fake mode's own data, ``created_by``)
                                  whatever the command,
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
VERSION_LINE = "1.22.8 linux/amd64, build ec29721"
CONFIRM_MSG = "the confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option"


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
        self.setup = None  # standin_setup.Setup: the profile, its settings, what the set-up printed


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


def api_error(status, code, message, serial=None):
    serial = os.urandom(16).hex() if serial is None else serial
    return (
        f'Error in response: &iaas.APIErrorResponse{{IsFatal:true, Serial:"{serial}", Status:"{status}", '
        f'ErrorCode:"{code}", ErrorMessage:"{message}"}}'
    )


def go_panic(message, trace=None):
    """A Go panic: its message, a goroutine trace, exit 2 (``trace``: the frames; a store load's by default)."""
    if trace is None:
        trace = (
            "goroutine 1 [running]:\n"
            "github.com/sacloud/iaas-api-go/fake.(*JSONFileStore).load(0xc0001a2000)\n"
            "\t/go/pkg/mod/github.com/sacloud/iaas-api-go/fake/store_json.go:214 +0x1c5\n"
            "github.com/sacloud/usacloud/pkg/commands/root.Execute()\n"
            "\t/go/src/github.com/sacloud/usacloud/pkg/commands/root/command.go:71 +0x3d\n"
            "main.main()\n\t/go/src/github.com/sacloud/usacloud/main.go:24 +0x17\n"
        )
    err_raw(f"panic: {message}\n\n{trace}")
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


HERE = []  # this program's directory, once


def here():
    """This program's directory (co_filename is this script's path even when its bytecode is cached elsewhere)."""
    if not HERE:
        HERE.append(os.path.dirname(os.path.realpath(here.__code__.co_filename)))
    return HERE[0]


def cached_code(path, name):
    """The compiled code of ``path``, kept in a per-user temp cache keyed by the file's size and mtime:
    Python may not cache bytecode here (PYTHONDONTWRITEBYTECODE), and compiling costs every call."""
    import marshal

    st = os.stat(path)
    tag = sys.implementation.cache_tag
    cache_dir = os.path.join(os.environ.get("TMPDIR") or "/tmp", f"standin-usacloud-{os.getuid()}")
    cached = os.path.join(cache_dir, f"{name}-{st.st_size}-{st.st_mtime_ns}-{tag}.marshal")
    try:
        with open(cached, "rb") as f:
            return marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        pass
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
    return code


def sibling(name):
    """A module of the stand-in beside this program (standin_catalog, standin_render, standin_setup),
    loaded once per process from the bytecode cache."""
    module = sys.modules.get(name)
    if module is None:
        import types

        path = os.path.join(here(), name + ".py")
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        exec(cached_code(path, name), module.__dict__)
    return module


def command_data():
    """The package's command table (its module namespace as a dict), loaded once per process
    (compiling the 4,000-line table costs about 0.5 s; from the cache about a millisecond)."""
    if not _DATA:
        path = os.path.join(here(), "..", "..", "pytest_usacloud_sandbox", "usacloud", "_command_data.py")
        namespace = {"__name__": "_standin_command_data", "__file__": path}
        exec(cached_code(path, "command-data"), namespace)
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
        self.unfaked = d["unfaked"]  # the real API it reaches even in fake mode, or None
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
        self.warning = d["deprecated"]
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
        self.via_iaas = False  # the resource was named under `iaas`


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
    p.via_iaas = iaas
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
GLOBAL_FLAGS_HELP = (
    "Global Flags:\n"
    "      --profile string                        the name of saved credentials\n"
    "      --token string                          the API token used when calling SAKURA Cloud API\n"
    "      --secret string                         the API secret used when calling SAKURA Cloud API\n"
    "      --zones strings                         permitted zone names\n"
    "      --no-color                              disable ANSI color output\n"
    "      --trace                                 enable trace logs for API calling\n"
    "      --fake                                  enable fake API driver\n"
    "      --fake-store string                     path to file store used by the fake API driver\n"
    "      --process-timeout-sec int               number of seconds before the command execution is timed out\n"
    "      --argument-match-mode string            how to compare the argument and resource name when identifying "
    "the resource to be manipulated  options: [partial/exact]\n"
    "  -v, --version                               show version info\n"
    "      --private-key-path option[string]       path to an RSA 2048 bit private key PEM format\n"
    "      --service-principal-id option[string]   the ID of the service principal\n"
    "      --service-principal-key-id kid          the kid of the service principal\n"
)


ROOT_SHORTS = {
    "completion": "Generate completion script",
    "config": "Management commands for Configuration file/Profile",
    "help": "Help about any command",
    "iaas": "SubCommands for IaaS",
    "rest": "Invoke SAKURA cloud API directly",
    "update-self": "Update Usacloud to latest-stable version",
    "version": "Show version info",
    "web-accelerator": "SubCommands for WebAccelerator",
}
NAME_PADDING = 21  # cobra pads names to the longest of the root's commands, hidden ones included


def _commands(shorts):
    return "Available Commands:\n" + "".join(f"  {n.ljust(NAME_PADDING)} {s}\n" for n, s in shorts)


def help_root():
    flags = GLOBAL_FLAGS_HELP.split("\n", 1)[1]
    return (
        "CLI to manage to resources on the SAKURA Cloud\n\nUsage:\n"
        "  usacloud [global options] <command> <sub-command> [options] [arguments] [flags]\n"
        "  usacloud [command]\n\n"
        + _commands(ROOT_SHORTS.items())
        + "\nFlags:\n"
        + flags
        + "  -h, --help                                  help for usacloud\n\n"
        'Use "usacloud [command] --help" for more information about a command.\n'
    )


def help_iaas():
    names = sorted(d["name"] for d in command_data().RESOURCES if d["location"] == "iaas")
    flags = sorted(GLOBAL_FLAGS_HELP.splitlines()[1:], key=lambda line: line.split("--", 1)[1])
    return (
        "SubCommands for IaaS\n\nUsage:\n  usacloud iaas [command]\n\n"
        + _commands((n, "Print resource ID" if n == "self" else "") for n in names)
        + "\nFlags:\n  -h, --help   help for iaas\n\nGlobal Flags:\n"
        + "\n".join(flags)
        + "\n\n"
        'Use "usacloud iaas [command] --help" for more information about a command.\n\n'
        "Copyright 2017-2025 The Usacloud Authors\n"
    )


def help_resource(res, via_iaas=False):
    """cobra's help of a resource command (its subcommands have no short text)."""
    path = ("usacloud iaas " if via_iaas else "usacloud ") + res.name
    names = sorted(s.name for s in res.subs)
    pad = max([11, *(len(n) for n in names)])  # a resource's own commands
    text = f"Usage:\n  {path} [flags]\n  {path} [command]\n\n"
    if res.aliases:
        text += "Aliases:\n  {}\n\n".format(", ".join([res.name, *res.aliases]))
    text += "Available Commands:\n" + "".join(f"  {n.ljust(pad)} \n" for n in names)
    text += f"\nFlags:\n  -h, --help   help for {res.name}\n\n" + GLOBAL_FLAGS_HELP
    return text + f'\nUse "{path} [command] --help" for more information about a command.\n'


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


# ----------------------------------------------------------------------------- state
def now_iso():
    t = time.time() + 9 * 3600
    return time.strftime("%Y-%m-%dT%H:%M:%S+09:00", time.gmtime(t))


def new_data(fake):
    """A store as it starts: the fake driver's own data in fake mode, nothing else otherwise."""
    catalog = sibling("standin_catalog")
    resources = catalog.fake_account_data() if fake else {}
    return {"next_id": catalog.FIRST_ID, "resources": resources, "catalogue": {"created_by": os.getpid()}}


class Store:
    def __init__(self, path, locked, fake):
        self.path = path
        self.locked = locked
        self.fake = fake
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
        if not self.path:
            return new_data(self.fake)
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return new_data(self.fake)
        if not raw.strip():
            return new_data(self.fake)
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
        data.setdefault("next_id", sibling("standin_catalog").FIRST_ID)
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
        nid = max(int(self.data.get("next_id") or 0), sibling("standin_catalog").FIRST_ID)
        self.data["next_id"] = nid + 1
        return nid

    def created_here(self):
        """Whether this process created the store: the fake driver keeps the shared segment in the memory
        of that process only (a store without a file is this process's own)."""
        return not self.path or (self.data.get("catalogue") or {}).get("created_by") == os.getpid()


def rec_zone(rec):
    z = rec.get("Zone")
    return z.get("Name") if isinstance(z, dict) else z


def pool(store, res, zones):
    catalog = sibling("standin_catalog")
    recs = []
    for z in zones:
        mine = [r for r in store.records(res.name) if z is None or rec_zone(r) == z]
        recs.extend(catalog.catalogue(res.name, z) + mine)
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
            hit = str(rec.get("ID")) == a or a in (rec.get("Tags") or []) or (name == a if exact else a in name)
            key = (rec.get("ID"), rec_zone(rec))
            if hit and key not in seen:
                seen.add(key)
                found.append(rec)
    if not found:
        fail("target resource not found: query=" + go_quote_list(args))
    if single and len(found) > 1:
        fail("in this operation, only a single target is allowed: query=" + go_quote_list(args))
    return found


# ----------------------------------------------------------------------------- values and validation
class Values:
    """A command's parameter values by field (``Name``, ``Disk.SizeGB``): a flag given on the command line
    wins over ``--parameters`` (usacloud parses the flags again after the JSON), which wins over ``zone``
    (the default zone, lost when --parameters replaces the parameters)."""

    def __init__(self, sub, fl, params, zone):
        self.fl = fl
        self.params = params
        self.zone = zone
        self.flags = {f.field: f for f in sub.all_flags if f.field}

    def has(self, field):
        f = self.flags.get(field)
        if f is not None and self.fl.has(f.name):
            return True
        return self.params is not None and sibling("standin_setup").param_value(self.params, field) is not None

    def get(self, field, default=None):
        f = self.flags.get(field)
        if f is not None and self.fl.has(f.name):
            value = flag_value(f, self.fl)
        else:
            value = sibling("standin_setup").param_value(self.params, field) if self.params else None
            if value is None and field == "Zone":
                value = self.zone or None
        if value is None:
            return default
        if field.endswith("Tags") and isinstance(value, list):
            return sorted(str(v) for v in value)  # usacloud keeps tags sorted
        return value

    def under(self, prefix):
        """The values below ``prefix`` (``Disk``) by their own field names."""
        return _Prefixed(self, prefix + ".")


class _Prefixed:
    def __init__(self, values, prefix):
        self.values, self.prefix = values, prefix

    def get(self, field, default=None):
        return self.values.get(self.prefix + field, default)

    def has(self, field):
        return self.values.has(self.prefix + field)


def flag_value(f, fl):
    raw = fl.get(f.name)
    if f.is_bool:
        return fl.true(f.name)
    if f.value == "int":
        return go_int(raw)
    if f.value == "strings" or (f.go_type or "").startswith("[]"):
        items = []
        for v in fl.values.get(f.name, []):
            items.extend(v.split(",") if v else [])
        return items
    if f.value == "id":
        return int(raw) if raw.isdigit() else raw
    return raw


def not_allowed(f, values):
    """Whether some of ``values`` are outside the flag's closed set (ints compare as numbers)."""
    if f.value == "int":
        allowed = {go_int(o) for o in f.options}
        return any(go_int(str(v)) not in allowed for v in values)
    return any(str(v) not in f.options for v in values)


def tag_problems(name, tags):
    """usacloud's ``tags`` validator: unique, at most 10, each at most 32 characters (the first rule that
    fails is the only one reported)."""
    if len(set(tags)) != len(tags):
        return [f"--{name}: unique"]
    if len(tags) > 10:
        return [f"--{name}: max=10"]
    return [f"--{name}[{n}]: max=32" for n, tag in enumerate(tags) if len(tag) > 32]


def validation_errors(sub, values, fl):
    """usacloud's validation, one line per problem: the zone first, then the output flags, then the
    subcommand's own flags (required, allowed values, tags) in table order."""
    errors = []
    zone = None
    if "Z" in sub.std:
        zone = values.get("Zone") or ""
        zones_ok = permitted_zones(fl)
        if not zone:
            errors.append("--zone: required")
        elif zone != "all" and zone not in zones_ok:
            errors.append("--zone: oneof=all " + " ".join([*zones_ok, "all"]))
        CTX.zone = zone
    first = ("output-type", "query-driver")
    ordered = [f for n in first for f in sub.all_flags if f.name == n]
    ordered += [f for f in sub.all_flags if f.name not in first and f.name != "zone" and f.field]
    for f in ordered:
        value = values.get(f.field)
        listed = value if isinstance(value, list) else [] if value in (None, "") else [value]
        if f.required and value in (None, "", 0, False, [], {}):
            errors.append(f"--{f.name}: required")
        elif f.options and listed and not_allowed(f, listed):
            errors.append(f"--{f.name}: oneof=" + " ".join(f.options))
        elif "tags" in (f.validate or "").split(",") and listed:
            errors.extend(tag_problems(f.name, [str(t) for t in listed]))
    return zone, errors


def match_mode(fl):
    return (
        fl.get("argument-match-mode")
        or envget("SAKURA_ARGUMENT_MATCH_MODE", "SAKURACLOUD_ARGUMENT_MATCH_MODE")
        or str(CTX.setup.config.get("ArgumentMatchMode") or "")
        or "partial"
    )


def permitted_zones(fl):
    if fl.has("zones"):
        zs = fl.slice("zones")
    else:
        raw = envget("SAKURA_ZONES", "SAKURACLOUD_ZONES")
        zs = [z.strip() for z in raw.split(",") if z.strip()] if raw else []
    return zs or list(sibling("standin_catalog").ZONE_ORDER)


# ----------------------------------------------------------------------------- credentials, fake-mode faults
def credentials(fl):
    """The token a command would send: flags, then the environment, then the profile's file."""
    if CTX.auth is None:
        setup = CTX.setup
        CTX.auth = {
            "token": fl.get("token")
            or envget("SAKURA_ACCESS_TOKEN", "SAKURACLOUD_ACCESS_TOKEN")
            or str(setup.config.get("AccessToken") or ""),
            "secret": fl.get("secret")
            or envget("SAKURA_ACCESS_TOKEN_SECRET", "SAKURACLOUD_ACCESS_TOKEN_SECRET")
            or str(setup.config.get("AccessTokenSecret") or ""),
            "profile": setup.profile,
            "profile_file": setup.profile_file,
        }
    return CTX.auth["token"]


def trace_request(res, sub):
    """``--trace`` (or SAKURACLOUD_TRACE): the request usacloud would send, its HTTP Basic credentials
    included, on stderr (the real one prints them when not in fake mode)."""
    import base64

    basic = base64.b64encode(f"{CTX.auth['token']}:{CTX.auth['secret']}".encode()).decode()
    err_raw(
        f"[TRACE] request: GET {res.name}/{sub.name}\n"
        f"[TRACE] header: map[Accept:[application/json] Authorization:[Basic {basic}] User-Agent:[usacloud]]\n"
    )


def seed_store(path):
    """The first use of a fake store path seeds it with the fake driver's data (slow in the real one);
    the process that does keeps the shared segment (``created_by``)."""
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
    with open(path, "wb") as f:
        f.write(json.dumps(new_data(True), indent=2, ensure_ascii=False).encode("utf-8"))
    CTX.seeded = True


def maybe_hang(fake, sub):
    """STANDIN_FAKE_HANG: a changing command in fake mode may hang after its work (decided here)."""
    if not fake or sub.kind not in CHANGING:
        return
    try:
        fraction = float(os.environ.get("STANDIN_FAKE_HANG") or 0)
    except ValueError:
        return
    if fraction > 0 and int.from_bytes(os.urandom(4), "big") / 0xFFFFFFFF < fraction:
        CTX.hang = True


def hang():
    """Never end (until a signal kills us), like the real race."""
    sys.stdout.flush()
    sys.stderr.flush()
    kill_child()
    log_line({"event": "hang", "pid": os.getpid(), "argv": sys.argv[1:]})
    while True:
        time.sleep(3600)


CHANGING = ("c", "u", "d", "p", "o", "w")
SHARED_SEGMENT_PANIC = (
    "runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0xa0b8cf]",
    "goroutine 20 [running]:\n"
    "github.com/sacloud/iaas-api-go/fake.(*InterfaceOp).ConnectToSharedSegment(0x1553e411b18, "
    "{0x1c5fa78, 0x1553e6ba820}, {0x1553e404029, 0x4}, 0x174876e80b)\n"
    "\t$GOMODCACHE/github.com/sacloud/iaas-api-go@v1.29.2/fake/ops_interface.go:168 +0x6f\n"
    "github.com/sacloud/iaas-api-go/fake.(*ServerOp).Create(0x1553e70dea0, {0x1c5fa78, 0x1553e6ba820}, "
    "{0x1553e404029, 0x4}, 0x1553e6bbba0)\n"
    "\t$GOMODCACHE/github.com/sacloud/iaas-api-go@v1.29.2/fake/ops_server.go:87 +0x54e\n"
    "created by github.com/sacloud/usacloud/pkg/core.(*Command).execParallel in goroutine 18\n"
    "\t$SRC/pkg/core/command.go:543 +0x1c5\n",
)


# ----------------------------------------------------------------------------- execution


def log_network(fake, **what):
    """A request the real usacloud would send to a real API (even in fake mode), with these credentials."""
    line = {"event": "network", "pid": os.getpid(), "argv": sys.argv[1:], **what, "fake_mode": fake}
    log_line({**line, "token": CTX.auth["token"], "secret": CTX.auth["secret"]})


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


def pretty(obj):
    return sibling("standin_render").pretty(obj)


def is_fake(fl):
    fake_flag = fl.get("fake")
    return (fake_flag == "true") if fake_flag is not None else bool(envget("SAKURA_FAKE_MODE", "SAKURACLOUD_FAKE_MODE"))


def set_up(res, sub, fl):
    """usacloud's set-up before the command (standin_setup): its errors are printed bare and exit 0."""
    setup = sibling("standin_setup")
    s = setup.configure(
        fl.get("profile") if fl.has("profile") else None,
        fl.get("private-key-path") if fl.has("private-key-path") else None,
        fl.has("zones"),
        fl.get("argument-match-mode"),
        os.environ,
    )
    CTX.setup = s
    if s.stderr:
        err_raw(s.stderr)
    if s.failed:
        raise Exit(0)
    if res.warning:
        err_raw(f"[WARN] {res.warning}\n")
    return s


def run_command(res, sub, fl, args):
    std = sub.std
    if sub.kind == "l":
        return run_local(res, sub, fl, args)
    setup = set_up(res, sub, fl)
    standin_setup = sibling("standin_setup")
    zone_default = envget("SAKURA_ZONE", "SAKURACLOUD_ZONE") or str(setup.config.get("Zone") or "")
    zoned = "Z" in std
    if "I" in std and fl.true("generate-skeleton"):
        out(standin_setup.dumps(standin_setup.skeleton(res.name, sub.name, zone_default, zoned)))
        return 0
    params = None
    if "I" in std and fl.get("parameters"):
        params, problem = standin_setup.read_parameters(fl.get("parameters"), os.environ)
        if problem:
            err_raw(problem + "\n")
            raise Exit(0)
    if "I" in std and fl.true("example"):
        names = {f.name for f in sub.all_flags}
        out(standin_setup.dumps(standin_setup.example(res.name, sub.name, zone_default, zoned, names)))
        return 0
    # --parameters replaces the parameters, the zone taken from the environment included
    values = Values(sub, fl, params, "" if params is not None else zone_default)

    zone, errors = validation_errors(sub, values, fl)
    if sub.kind == "q" and len(args) != 1:
        errors.append(f"arguments: accepts only 1 arg, received {len(args)}")
    if errors:
        fail("validation error:\n\t" + "\n\t".join(errors))

    fake = is_fake(fl)
    fstore = fl.get("fake-store") or envget("SAKURA_FAKE_STORE_PATH", "SAKURACLOUD_FAKE_STORE_PATH")
    credentials(fl)
    if not fake and (fl.true("trace") or envget("SAKURACLOUD_TRACE", "SAKURA_TRACE", "USACLOUD_TRACE")):
        trace_request(res, sub)
    if fake and fstore:
        seed_store(fstore)
        store = Store(fstore, locked=False, fake=True)
    else:
        store = Store(os.environ.get("STANDIN_STATE") or None, locked=True, fake=fake)
    CTX.store_path = store.path

    if sub.kind == "q":  # rest request
        # the real `rest` ignores fake mode: this request would go out, with these credentials
        log_network(fake, url=args[0], method=fl.get("method") or "GET")
        check_token(fl, False)
        out(pretty({"is_ok": True}))
        return 0

    if fake and sub.unfaked:  # the real one calls this API for real (web accelerator, IAM) in fake mode
        log_network(fake, api=sub.unfaked)
    zones = [None]
    if res.zoned and zone:
        zones = permitted_zones(fl) if zone == "all" else [zone]
    writes = sub.kind in ("c", "u", "d", "p", "o")
    store.open(write=writes)
    try:
        if res.name == "auth-status":
            check_token(fl, fake)
            result = [dict(sibling("standin_catalog").AUTH_STATUS)]
            print_records(result, res, sub, fl)
            return 0
        targets = []
        if sub.sel != "-":
            check_token(fl, fake)
            targets = resolve_targets(store, res, zones, args, sub.sel == "s", match_mode(fl) == "exact")
        if not confirm(sub, fl, [t["ID"] for t in targets]):
            return 0
        refused = sibling("standin_service").refusal(res.name, sub.name, values) if sub.sel == "-" else None
        if refused is not None:  # the service's own check, before any API call
            fail(refused)
        if sub.sel == "-":
            check_token(fl, fake)
        catalog_ids = {r["ID"] for z in zones for r in sibling("standin_catalog").catalogue(res.name, z)}
        if writes and sub.kind != "c" and any(t["ID"] in catalog_ids for t in targets):
            fail(api_error("403 Forbidden", "forbidden", "a public resource cannot be changed (standin)"))
        result, changed = execute(store, res, sub, fl, values, zones, targets, args)
        if changed and writes:
            store.save()
    finally:
        store.close()
    if fake and os.environ.get("GOMAXPROCS") == "1" and sub.kind in CHANGING:
        hang()  # every changing command hangs in the progress display, before its output
    maybe_hang(fake, sub)
    if sub.kind in ("d", "p", "w"):
        return 0
    print_records(result, res, sub, fl)
    return 0


def execute(store, res, sub, fl, values, zones, targets, args):
    """The command's work on the store: (records to print, whether the store changed)."""
    if sub.kind == "x":
        fail(f"standin: `{res.name} {sub.name}` would start an external client; not supported")
    if sub.name == "list":
        return listed(store, res, fl, zones), False
    if sub.name == "read":
        return targets, False
    if sub.kind == "c" and sub.sel == "-":
        made = []
        for z in zones:
            made.extend(create(store, res, sub, fl, values, z))
        return made, True
    if sub.kind == "u":
        for t in targets:
            update(t, res, sub, fl, values)
            if res.name == "server" and sub.name == "update":
                change_plan(store, t, values)
        return targets, True
    if sub.kind == "d" and sub.name == "delete":
        delete(store, res, fl, targets)
        return [], True
    if sub.kind == "p":
        return [], power(res, sub, targets)
    if sub.kind == "w":
        wait(sub, targets, is_fake(fl))
        return [], False
    if sub.kind in ("o", "c"):
        return targets, False
    return [], False  # kind r (monitor/logs/health...): an empty result


def listed(store, res, fl, zones):
    recs = pool(store, res, zones)
    names = fl.slice("names")
    if names:  # always by substring, and every one must match
        recs = [r for r in recs if all(n in str(r.get("Name", "")) for n in names)]
    tags = fl.slice("tags")
    if tags:
        recs = [r for r in recs if all(t in (r.get("Tags") or []) for t in tags)]
    scope = fl.get("scope")
    if scope:
        recs = [r for r in recs if r.get("Scope") in (None, scope)]
    os_type = fl.get("os-type")
    if os_type and res.name == "archive":
        wanted = sibling("standin_catalog").archive_for_os(os_type)
        recs = [r for r in recs if r.get("ID") == wanted]
    frm = int(fl.get("from") or 0)
    cnt = int(fl.get("count") or fl.get("max") or fl.get("limit") or 0)
    recs = recs[frm:]
    return recs[:cnt] if cnt > 0 else recs


def create(store, res, sub, fl, values, zone):
    catalog = sibling("standin_catalog")
    now = now_iso()
    if res.name == "switch":
        rec = catalog.switch_record(
            store.new_id(), values.get("Name", ""), values.get("Description", ""), values.get("Tags", []), zone, now
        )
    elif res.name == "server":
        return create_server(store, sub, fl, values, zone, now)
    elif res.name == "disk":
        size = int(values.get("SizeGB", 20) or 20)
        rec = catalog.disk_record(store.new_id(), values.get("Name", ""), values, zone, now, size)
        if values.get("OSType"):
            rec["SourceArchiveID"] = catalog.archive_for_os(values.get("OSType"))
    elif res.name == "dns":
        rec = catalog.dns_record(store.new_id(), values, now)
    elif res.name == "note":
        rec = catalog.note_record(store.new_id(), values, now)
    elif res.name == "packet-filter":
        rec = catalog.packet_filter_record(store.new_id(), values, zone, now)
    else:
        rec = catalog.common_record(store.new_id(), values, zone, now)
        rec.update(extras(sub, values))
        if res.powered:
            boot = "boot-after-create" in sub.flags
            rec["InstanceStatus"] = "up" if not boot or values.get("BootAfterCreate") else "down"
    store.records(res.name).append(rec)
    return [rec]


def create_server(store, sub, fl, values, zone, now):
    catalog = sibling("standin_catalog")
    disk = values.under("Disk")
    size = int(disk.get("SizeGB", 0) or 0)
    # a source (OS type, archive, disk) or a size makes a new disk; --disk-size alone a blank one
    with_disk = size > 0 or any(disk.get(k) for k in ("OSType", "SourceArchiveID", "SourceDiskID"))
    if with_disk and size <= 0:
        plan = catalog.DISK_PLANS.get(disk.get("DiskPlan", "ssd") or "ssd", catalog.DISK_PLANS["ssd"])
        fail(f"disk plan[{plan[1]}:0GB] is not found")
    server = catalog.server_record(store.new_id(), values, zone, now)
    upstream = values.get("NetworkInterface.Upstream")
    if upstream:
        if upstream == "shared" and not store.created_here():
            go_panic(*SHARED_SEGMENT_PANIC)
        switch = None
        if upstream not in ("shared", "disconnected"):
            found = [s for s in store.records("switch") if str(s["ID"]) == str(upstream) and rec_zone(s) == zone]
            switch = found[0] if found else {"ID": go_int(str(upstream)) or 0, "Name": ""}
        nic = catalog.interface_record(store.new_id(), switch if upstream != "disconnected" else {"ID": 0, "Name": ""})
        if upstream == "disconnected":
            nic["UpstreamType"] = "none"
        server["Interfaces"].append(nic)
    if values.get("BootAfterCreate"):
        boot(server, now)
    store.records("server").append(server)
    if with_disk:
        rec = catalog.disk_record(store.new_id(), server["Name"], disk, zone, now, size, server)
        rec["SourceArchiveID"] = int(disk.get("SourceArchiveID", 0) or 0) or catalog.archive_for_os(
            str(disk.get("OSType", "") or "")
        )
        store.records("disk").append(rec)
        shown = ("ID", "Name", "Availability", "Connection", "SizeMB", "DiskPlanID")
        server["Disks"].append({k: rec[k] for k in shown})
    return [server]


def extras(sub, values):
    """Any other resource: its own flags' values under their field names."""
    ext = {}
    common = {"Name", "Description", "Tags", "IconID", "Zone", "BootAfterCreate", "NoWait"}
    for f in sub.all_flags:
        if f.name in STD_FLAGS or not f.field or "." in f.field or f.field in common or not values.has(f.field):
            continue
        value = values.get(f.field)
        ext["MemoryMB" if f.field == "Memory" else f.field] = value * 1024 if f.field == "Memory" else value
    return ext


def update(t, res, sub, fl, values):
    for field in ("Name", "Description", "Tags", "IconID", "Content"):
        if values.has(field):
            t[field] = values.get(field)
    if res.name not in ("switch", "server", "disk", "dns", "note", "packet-filter"):
        t.update(extras(sub, values))
    t["ModifiedAt"] = now_iso()


def change_plan(store, server, values):
    """A new plan (CPU, memory, GPU, commitment) makes a new server: a new ID, the same name and tags
    but for ``@previous-id=<old ID>``, as the fake driver's plan change does."""
    plan = {"CPU": values.get("CPU"), "MemoryMB": values.get("Memory"), "GPU": values.get("GPU")}
    plan = {k: int(v) * (1024 if k == "MemoryMB" else 1) for k, v in plan.items() if values.has(k.replace("MB", ""))}
    if values.has("Commitment"):
        plan["Commitment"] = values.get("Commitment")
    if all(server.get(k) == v for k, v in plan.items()):
        return
    old, tags = server["ID"], [t for t in server.get("Tags") or () if not str(t).startswith("@previous-id=")]
    server.update(plan, Tags=sorted([*tags, f"@previous-id={old}"]), ID=store.new_id())
    for disk in store.records("disk"):
        if disk.get("ServerID") == old:
            disk["ServerID"] = server["ID"]


def delete(store, res, fl, targets):
    if res.name == "server" and not fl.true("force"):
        for t in targets:
            if t.get("InstanceStatus") == "up":
                fail(f'target {rec_zone(t)}:"{t["ID"]}" has not yet shut down')
    gone = {(t["ID"], rec_zone(t)) for t in targets}
    recs = store.records(res.name)
    recs[:] = [r for r in recs if (r.get("ID"), rec_zone(r)) not in gone]
    if res.name == "server":
        ids = {t["ID"] for t in targets}
        disks = store.records("disk")
        if fl.true("with-disks"):
            disks[:] = [d for d in disks if d.get("ServerID") not in ids]
        for d in disks:
            if d.get("ServerID") in ids:
                d["ServerID"], d["ServerName"] = 0, ""


def boot(t, now):
    t["InstanceStatus"] = "up"
    t["InstanceStatusChangedAt"] = now
    if "InstanceHostName" in t:
        t["InstanceHostName"] = f"sac-{rec_zone(t)}-svXXX"


def power(res, sub, targets):
    """boot, shutdown, reset: usacloud's fake driver refuses each from the wrong state (409)."""
    action = {"boot": "Boot", "shutdown": "Shutdown", "reset": "Reset"}.get(sub.name)
    if action is None:
        return False
    for t in targets:
        running = t.get("InstanceStatus") == "up"
        if running == (action == "Boot"):
            kind = "".join(p.capitalize() for p in res.name.split("-"))
            message = f"request to {kind}[ID:{t['ID']}] is conflicted: {action} is failed"
            fail(api_error("409 Conflict", "409", message, serial=""))
        if action == "Boot":
            boot(t, now_iso())
        elif action == "Shutdown":
            t["InstanceStatus"] = "down"
            t["InstanceStatusChangedAt"] = now_iso()
    return True


def wait(sub, targets, fake):
    """A wait command ends when its state comes, and waits for ever for one that never does (a server never
    booted). usacloud's fake driver never ended wait-until-shutdown, even on a server that read as down."""
    if sub.name == "wait-until-ready":
        done = all(t.get("InstanceStatus", "up") == "up" for t in targets)
    elif sub.name == "wait-until-shutdown":
        done = not fake and all(t.get("InstanceStatus") == "down" for t in targets)
    else:
        done = True
    if not done:
        sleep_for(10**9)


def print_records(recs, res, sub, fl):
    if "O" not in sub.std and "q" not in sub.std:
        return
    render = sibling("standin_render")
    output = (
        fl.get("output-type")
        or envget("SAKURA_DEFAULT_OUTPUT_TYPE", "SAKURACLOUD_DEFAULT_OUTPUT_TYPE")
        or str(CTX.setup.config.get("DefaultOutputType") or "")
        or "table"
    )
    driver = (
        fl.get("query-driver")
        or envget("SAKURA_DEFAULT_QUERY_DRIVER", "SAKURACLOUD_DEFAULT_QUERY_DRIVER")
        or str(CTX.setup.config.get("DefaultQueryDriver") or "")
        or "jmespath"
    )
    try:
        text = render.render(
            recs,
            res.name,
            quiet=fl.true("quiet"),
            fmt=file_or_text(fl.get("format")),
            query=file_or_text(fl.get("query")),
            driver=driver,
            output=output,
        )
    except render.RenderError as e:
        fail(str(e))
    out(text)


def file_or_text(value):
    """--format / --query: a readable file's content, else the value itself (as usacloud reads them)."""
    if value and os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            return f.read()
    return value


def dispatch(argv):
    args = argv[1:]
    path = find_path(args)
    perr = None
    fl, pos = Flags(), []
    if path.kind == "unknown":
        perr = ParseError(f'unknown command "{path.word}" for "usacloud"{suggestions(path.word)}', usage_hint=True)
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
        if path.kind == "resource" and path.sub is None:  # the resource's command prints its usage too
            err_raw(f"Error: {perr.msg}\n{help_resource(path.res, path.via_iaas)}\n")
            raise Exit(1)
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
            out(VERSION_LINE + "\n")
        else:
            out(help_root())
        return 0
    if k == "version":
        out(VERSION_LINE + "\n")
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
        out(help_resource(path.res, path.via_iaas))
        return 0
    return run_command(path.res, path.sub, fl, pos)


def suggestions(word):
    """cobra's "Did you mean this?" among the commands the root lists: a Levenshtein distance of at most
    2 (case-insensitive) or a prefix (the resources' short forms are hidden: never suggested)."""
    listed = sorted({*root_commands(), *(d["name"] for d in command_data().RESOURCES if d["location"] == "root")})
    found = [name for name in listed if _distance(word.lower(), name.lower()) <= 2 or name.startswith(word.lower())]
    if not found:
        return ""
    return "\n\nDid you mean this?\n" + "".join(f"\t{name}\n" for name in found)


def _distance(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


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
