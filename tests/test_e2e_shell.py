"""Shell mode: whole scripts under bash, every usacloud call sandboxed, limited and recorded."""

import json
import os
import re
import signal
import sys
import time

import pytest
from ratecheck import run_held_to_rate
from standin_tools import (
    AUTH_401,
    RATE_429,
    STANDIN_BIN,
    STANDIN_DIR,
    framed,
    wait_gone,
    wait_until,
)

from pytest_usacloud_sandbox.report.schema import validate

SHELL = "# pytest.mark.usacloud_shell\n"


def shell_script(e2e, name, body):
    return e2e.shell_script(name, body)


def report_scripts(path):
    return {s["nodeid"].split("::")[-1]: s for s in json.loads(path.read_text())["scripts"]}


def pidfile_pids(path):
    return [int(word) for word in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("workers", [0, 2])
def test_capture_an_id_loop_and_pipe_into_jq(e2e, workers):
    out = e2e.tmp / "names.txt"
    shell_script(
        e2e,
        "capture.usacloud",
        f"""
        set -euo pipefail
        ID=$(usacloud switch create -y --name sw-main -q)
        test -n "$ID"
        usacloud switch read "$ID" -o json | jq -r '.[0].Name' > {out}
        for name in web-1 web-2 web-3; do
          usacloud switch create -y --name "$name" --zone is1a -q > /dev/null
        done
        usacloud switch list -o json | jq -r '.[].Name' | sort >> {out}
        """,
    )
    report = e2e.tmp / "report.json"
    result = e2e.run("-v", f"--usacloud-report={report}", workers=workers)
    result.assert_outcomes(passed=1)
    assert out.read_text().split() == ["sw-main", "sw-main", "web-1", "web-2", "web-3"]
    argvs = e2e.argvs()
    created_id = next(c for c in e2e.calls() if c["argv"][:2] == ["switch", "create"])
    assert ["switch", "read", "100000000010", "-o", "json"] in argvs
    assert [a for a in argvs if "web-2" in a] == [["switch", "create", "-y", "--name", "web-2", "--zone", "tk1v", "-q"]]
    assert created_id["exit"] == 0 and len(argvs) == 6
    # every call was recorded with its line and the script's text
    result.stdout.fnmatch_lines(
        [
            "*ok * line 3 * usacloud switch create --tags usacloud-run=* -y --name sw-main -q",
            "*ok * line 5 * usacloud switch read 100000000010 -o json",
            "*ok * line 7 * usacloud switch create --tags * -y --name web-1 --zone tk1v -q  ?as written: is1a?",
            "*ok * line 9 * usacloud switch list -o json",
        ]
    )
    validate(json.loads(report.read_text()))  # the report schema is closed: shell records fit it as they are
    script = report_scripts(report)["capture"]
    assert script["mode"] == "shell" and script["skipped_lines"] == 0
    assert [c["line"] for c in script["commands"]] == [3, 5, 7, 7, 7, 9]
    assert script["commands"][1]["text"].startswith('usacloud switch read "$ID" -o json | jq')


def test_zones_stay_pinned_and_every_way_to_call_usacloud_is_sandboxed(e2e):
    e2e.env(
        SAKURACLOUD_ACCESS_TOKEN="tok-5d1e0c4b",
        SAKURACLOUD_ACCESS_TOKEN_SECRET="sec-77aa01ff",
        STANDIN_REQUIRE_TOKEN="tok-5d1e0c4b",
    )
    escaped, sub = e2e.tmp / "escaped", e2e.tmp / "sub"
    sub.mkdir()
    shell_script(
        e2e,
        "zones.usacloud",
        f"""
        usacloud server list --zone=all
        export PATH="{STANDIN_DIR}:$PATH"   # usacloud's own directory first: still the sandbox
        usacloud disk list --zone is1b
        echo is1a | xargs usacloud archive list --zone
        command usacloud zone list > /dev/null
        env usacloud disk list --zone is1a > /dev/null
        SAKURA_ZONE=tk1v usacloud zone list > /dev/null   # the sandbox zone itself is harmless
        (cd {sub} && usacloud switch list)
        test -z "${{SAKURACLOUD_ACCESS_TOKEN:-}}"   # the script itself never sees the API key
        ! grep -qa tok-5d1e0c4b /proc/$$/environ
        {STANDIN_BIN} server list --zone tk1v 2> {escaped} || echo "escaped call failed"
        """,
    )
    result = e2e.run()
    result.assert_outcomes(passed=1)
    assert e2e.argvs() == [
        ["server", "list", "--zone=tk1v"],
        ["disk", "list", "--zone", "tk1v"],
        ["archive", "list", "--zone", "tk1v"],
        ["zone", "list"],
        ["disk", "list", "--zone", "tk1v"],
        ["zone", "list"],
        ["switch", "list"],
        ["server", "list", "--zone", "tk1v"],
    ]
    for call in e2e.calls()[:7]:
        assert (call["zone_env"], call["zones_env"], call["sakura_zone_env"]) == ("tk1v", "tk1v", "tk1v"), call
        assert call["exit"] == 0
    assert e2e.calls()[6]["cwd"] == str(sub)  # usacloud runs in the caller's directory
    # a call by absolute path escapes the sandbox, but it has no API key from the environment
    assert e2e.calls()[7]["exit"] == 1 and "401 Unauthorized" in escaped.read_text()


def test_variables_that_steer_usacloud_refuse_the_call(e2e):
    """Set by the script, they never reach usacloud; harmless settings do."""
    out = e2e.tmp / "out"
    shell_script(
        e2e,
        "steer.usacloud",
        f"""
        usacloud switch create -y --name web-10 -q > /dev/null
        SAKURACLOUD_ARGUMENT_MATCH_MODE=exact usacloud switch read web || echo "exact: $?" > {out}
        export SAKURACLOUD_API_ROOT_URL=https://attacker.example/
        usacloud zone list || echo "refused: $?" >> {out}
        unset SAKURACLOUD_API_ROOT_URL
        https_proxy=http://proxy.example:3128 command usacloud zone list || echo "refused: $?" >> {out}
        export SAKURACLOUD_ZONE=is1a
        usacloud zone list || echo "refused: $?" >> {out}
        """,
    )
    result = e2e.run("-v")
    result.assert_outcomes(failed=1)
    assert out.read_text().splitlines() == ["exact: 1", "refused: 1", "refused: 1", "refused: 1"]
    assert e2e.argvs() == [["switch", "create", "-y", "--name", "web-10", "-q"], ["switch", "read", "web"]]
    result.stdout.fnmatch_lines(
        [
            "not-found: a usacloud call failed and the script went on*",
            "  at *steer.usacloud:3",
            "*also line 5: refused: the script sets SAKURACLOUD_API_ROOT_URL: it changes where or how usacloud talks*",
            "*also line 7: refused: the script sets https_proxy: *",
            "*also line 9: refused: the script sets SAKURACLOUD_ZONE: usacloud runs only in the sandbox zone tk1v*",
            "*--- bash stderr*",
            "*usacloud (pytest-usacloud-sandbox): the script sets SAKURACLOUD_API_ROOT_URL: it changes where*",
            "*commands:*",
            "*refused * line 5 * usacloud zone list  (refused)",
        ]
    )


def test_the_api_key_never_crosses_a_sandbox_socket(e2e):
    """A script playing client of its own broker, on every socket it can find, gets no key."""
    token, secret = "tok-9c2e71d0aa4f", "sec-3b8f05e1c7d2"
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=token, SAKURACLOUD_ACCESS_TOKEN_SECRET=secret, STANDIN_REQUIRE_TOKEN=token)
    dump = e2e.tmp / "dump"
    client = e2e.tmp / "client.py"
    client.write_text(CLIENT)
    shell_script(
        e2e,
        "spy.usacloud",
        f"""
        declare -f usacloud > {e2e.tmp}/function.txt
        env > {e2e.tmp}/env.txt
        {sys.executable} {client} {e2e.tmp}/function.txt {dump}
        """,
    )
    result = e2e.run()
    result.assert_outcomes(passed=1)
    received = dump.read_bytes()
    assert received.count(b"RECEIVED") >= 2, received  # it did talk to the broker, and usacloud ran
    assert token.encode() not in received and secret.encode() not in received
    seen = [line for line in (e2e.tmp / "env.txt").read_text().splitlines() if not line.startswith("STANDIN_")]
    assert [line for line in seen if token in line or secret in line] == []
    assert [c["exit"] for c in e2e.calls()] == [0, 0]  # the calls carried the key: in usacloud's environment


CLIENT = r"""
import json, os, re, socket, sys
text, dump = open(sys.argv[1]).read(), open(sys.argv[2], "ab")
def talk(sock, payload, fds=()):
    if fds and sock.family == socket.AF_UNIX:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.sendall(payload)
    got = b""
    sock.settimeout(30)
    while chunk := sock.recv(65536):
        got += chunk
    dump.write(b"RECEIVED " + got + b"\n")
def fields(*values):
    return b"".join(v.encode() + b"\0" for v in values)
if port := re.search(r"/dev/tcp/127\.0\.0\.1/(\d+)", text):
    cookie = re.search(r"\bfn ([0-9a-f]{32})\b", text).group(1)
    talk(socket.create_connection(("127.0.0.1", int(port.group(1)))),
         fields("fn", cookie, str(os.getpid()), "1", "", "2", "zone", "list", "declare -x A=\"1\"\n"), (1,))
paths = set(re.findall(r"(/\S+\.sock)", text))
if "USACLOUD_SANDBOX_SOCKET" in os.environ:
    paths.add(os.environ["USACLOUD_SANDBOX_SOCKET"])
for path in paths:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    env = json.dumps(dict(os.environ))
    talk(sock, fields("shim", cookie, str(os.getpid()), "1", "0,1,2", "2", "zone", "list", env), (0, 1, 2))
    sock = socket.socket(socket.AF_UNIX)  # the request of older versions (padded: complete for this one)
    sock.connect(path)
    old = json.dumps({"words": ["usacloud", "zone", "list"], "line": 1, "secrets": []}).encode()
    talk(sock, old + b"\n" + b"\0" * 8)
"""


def test_a_failing_call_the_script_goes_past_fails_the_item(e2e):
    after = e2e.tmp / "after"
    e2e.script(
        "goes_on.usacloud",
        SHELL + "usacloud zone list -q > /dev/null\nusacloud server read nope\n"
        f"usacloud region list > /dev/null\ntouch {after}\n",
    )
    result = e2e.run()
    result.assert_outcomes(failed=1)
    assert after.exists()
    assert [a[0] for a in e2e.argvs()] == ["zone", "server", "region"]
    result.stdout.fnmatch_lines(
        [
            "not-found: a usacloud call failed and the script went on: target resource not found*",
            "  at *goes_on.usacloud:3",
            "*line 3: usacloud server read nope",
            "*exit code 1, class not-found*",
            "*shell mode: bash exited with status 0*",
            "*commands:*",
            "*ok * line 2 * usacloud zone list -q",
            "*failed * line 3 * usacloud server read nope  (not-found)",
            "*ok * line 4 * usacloud region list",
        ]
    )


def test_a_call_the_script_cancelled_itself_fails_the_item(e2e):
    e2e.rules([{"match": "zone list", "sleep": 30}, {"match": "switch create", "sleep": 30}])
    e2e.script(
        "timeout_wrapper.usacloud",
        SHELL + 'timeout 1 usacloud zone list -q || echo "slow API, going on"\necho done\n',
    )
    shell_script(
        e2e,
        "killed_job.usacloud",
        f"""
        usacloud switch create -y --name bgw -q &
        until grep -q '"switch", "create"' {e2e.log_path}; do sleep 0.05; done
        kill %1
        wait
        echo done
        """,
    )
    result = e2e.run()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "cancelled: a usacloud call was cancelled and the script went on: the caller was killed*",
            "  at *killed_job.usacloud:2",
            "*shell mode: bash exited with status 0*",
            "*cancelled line 2 *usacloud switch create *(cancelled)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "cancelled: a usacloud call was cancelled and the script went on: the caller was killed*",
            "  at *timeout_wrapper.usacloud:2",
            "*cancelled line 2 *usacloud zone list -q  (cancelled)",
        ]
    )


def test_background_calls_bash_did_not_wait_for_finish_and_are_recorded(e2e):
    e2e.rules([{"match": "switch create", "sleep": 1}])
    shell_script(
        e2e,
        "parallel.usacloud",
        """
        usacloud zone list -q
        for n in a b c; do
          usacloud switch create -y --name "bg-$n" -q &
        done
        echo started
        """,
    )
    e2e.script("lone.usacloud", SHELL + "usacloud switch create -y --name lone -q > /dev/null 2>&1 &\n")
    result = e2e.run("-v")
    result.assert_outcomes(passed=2)
    created = sorted(a[a.index("--name") + 1] for a in e2e.argvs() if a[:2] == ["switch", "create"])
    assert created == ["bg-a", "bg-b", "bg-c", "lone"]
    out = result.stdout.str()
    for name in ("bg-a", "bg-b", "bg-c"):
        assert re.search(rf"ok +line 4 +usacloud switch create .*--name {name} -q", out), out
    assert re.search(r"ok +line 2 +usacloud switch create .*--name lone -q", out), out


def test_a_background_call_cut_by_the_script_timeout_fails_and_leaves_nothing(e2e):
    e2e.rules([{"match": "switch create", "sleep": 300}])
    pids = e2e.tmp / "pids"
    e2e.script(
        "cut.usacloud",
        SHELL + f"usacloud switch create -y --name cut -q &\necho $! > {pids}\n"
        f'until grep -q \'"switch", "create"\' {e2e.log_path}; do sleep 0.05; done\n',
    )
    started = time.monotonic()
    result = e2e.run("--usacloud-script-timeout=3")
    assert time.monotonic() - started < 40
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "timeout: the script ran longer than --usacloud-script-timeout (3s)*",
            "  at *cut.usacloud:2",
            "*cancelled line 2 *usacloud switch create *--name cut -q  (cancelled)",
        ]
    )
    assert wait_gone(pidfile_pids(pids) + e2e.pids(), 5) == []


def test_a_failed_call_the_script_tested_is_its_own_business(e2e):
    shell_script(
        e2e,
        "idempotent.usacloud",
        """
        set -euo pipefail
        name="web-sw-$USACLOUD_SANDBOX_RUN_ID"
        if ! usacloud switch read "$name" >/dev/null 2>&1; then
          usacloud switch create -y --name "$name" -q
        fi
        while ! usacloud switch read "$name" -q > /dev/null; do sleep 1; done
        usacloud server read nope > /dev/null && echo found
        for n in a b; do ! usacloud server read "$n" 2>/dev/null; done
        usacloud switch read "$name" -o json | jq -r '.[0].Name'
        """,
    )
    # what the script only swallowed, or tested out of sight of the reader, still fails
    shell_script(e2e, "or_true.usacloud", "set -e\nusacloud server read nope || true\n")
    shell_script(e2e, "function.usacloud", 'f() { usacloud server read "$1"; }\nif ! f nope; then :; fi\n')
    shell_script(
        e2e, "child.usacloud", "if ! usacloud zone list -q; then :; fi; bash -c 'usacloud server read x'; echo\n"
    )
    e2e.rules([{"match": "region list", "exit": 1, "stderr": framed(AUTH_401)}])
    shell_script(e2e, "bad_key.usacloud", "if ! usacloud region list; then echo none; fi\n")
    result = e2e.run("-v", "--usacloud-error-policy=continue")
    outcomes = {r.split("::")[0].split("/")[-1]: r for r in result.stdout.lines if " PASSED" in r or " FAILED" in r}
    assert result.parseoutcomes().get("passed") == 1 and result.parseoutcomes().get("failed") == 4, outcomes
    result.stdout.fnmatch_lines(["*idempotent.usacloud::idempotent PASSED*"])
    for name, line in (("or_true", 3), ("function", 2), ("child", 2)):
        result.stdout.fnmatch_lines(
            ["not-found: a usacloud call failed and the script went on*", f"  at *{name}.usacloud:{line}"]
        )
    result.stdout.fnmatch_lines(["auth: a usacloud call failed and the script went on*", "  at *bad_key.usacloud:2"])


def test_set_e_stops_at_the_failing_call_inside_a_function(e2e):
    shell_script(
        e2e,
        "set_e.usacloud",
        """
        set -e
        show() {
          usacloud server read "$1"
        }
        usacloud zone list -q > /dev/null
        show nope
        usacloud region list
        """,
    )
    result = e2e.run()
    result.assert_outcomes(failed=1)
    assert [a[0] for a in e2e.argvs()] == ["zone", "server"]
    result.stdout.fnmatch_lines(
        [
            "not-found: target resource not found*(the script stopped there: bash exited 1)",
            "  at *set_e.usacloud:4",
            '*line 4: usacloud server read "$1"',
            "*ran: * usacloud server read nope",
        ]
    )


def test_bash_failing_on_its_own_is_a_script_exit(e2e):
    e2e.script("exit.usacloud", SHELL + "usacloud zone list -q\nno-such-command-xyz\nexit 3\n")
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "script-exit: bash exited with status 3: no-such-command-xyz: command not found",
            "  at *exit.usacloud:3",
            "*shell mode: bash exited with status 3",
            "*--- bash stderr*",
            "*ok * line 2 * usacloud zone list -q",
        ]
    )


def test_refused_and_invalid_calls_never_run(e2e):
    shell_script(
        e2e,
        "refused.usacloud",
        """
        usacloud server create -y --name web > /dev/null
        usacloud server delete -y --argument-match-mode exact web || echo "delete refused: $?"
        usacloud note create -y --name n --class shell --content x || true
        usacloud server lsit || true
        usacloud region list > /dev/null
        """,
    )
    result = e2e.run()
    result.assert_outcomes(failed=1)
    assert e2e.argvs() == [["server", "create", "-y", "--name", "web"], ["region", "list"]]
    result.stdout.fnmatch_lines(
        [
            (
                "refused: a usacloud call failed and the script went on: refused by the sandbox "
                "policy (dangerous)*--usacloud-allow-dangerous*"
            ),
            "  at *refused.usacloud:3",
            "*delete refused: 1*",
            "*refused * line 4 * usacloud note create*",
            "*invalid * line 5 * usacloud server lsit  (usage)",
        ]
    )
    # what the script saw on stderr: the shim's own explanation
    assert "usacloud (pytest-usacloud-sandbox): refused by the sandbox policy (global-write)" in result.stdout.str()


def test_credentials_are_masked_in_bash_output_too(e2e):
    secret, flag_secret = "tok-0b5e1c2d9f33", "sec-41aa7e0c"
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=secret)
    e2e.rules([{"match": "server list", "exit": 1, "stderr": framed(AUTH_401 + " token=" + secret)}])
    e2e.script(
        "leak.usacloud",
        SHELL + f'echo "seen: ${{SAKURACLOUD_ACCESS_TOKEN:-nothing}}"\nusacloud server list --secret {flag_secret}\n'
        f'echo "flag {flag_secret}" >&2\n',
    )
    junit = e2e.tmp / "junit.xml"
    result = e2e.run(f"--junitxml={junit}", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str() + junit.read_text()
    assert secret not in text and flag_secret not in text
    result.stdout.fnmatch_lines(
        [
            "auth: a usacloud call failed and the script went on*",
            "  at *leak.usacloud:3",
            "*--- bash stderr*",
            "*401 Unauthorized*token=[*][*][*]*",
            "*flag [*][*][*]",
            "*--- bash stdout*",
            "*seen: nothing",
        ]
    )
    assert [c["argv"] for c in e2e.calls()] == [["server", "list", "--secret", flag_secret]]


def test_thirty_calls_from_two_workers_hold_the_rate(e2e):
    rate = 10.0
    for name in ("a", "b"):  # 15 calls started at once by each script: the bucket alone spaces them
        e2e.script(
            f"{name}.usacloud", SHELL + "for i in $(seq 15); do usacloud zone list -q > /dev/null & done\nwait\n"
        )
    result, report = run_held_to_rate(e2e, 30, rate, workers=2)
    result.assert_outcomes(passed=2)
    assert {s["worker"] for s in report_scripts(report).values()} == {"gw0", "gw1"}
    result.stdout.fnmatch_lines(["*limiter: file:*tokens 30 | attempts 30 | 429 retries 0*"])


def test_rate_limited_calls_are_retried_inside_the_script(e2e):
    e2e.rules([{"match": "zone list", "exit": 1, "stderr": framed(RATE_429), "times": 2}])
    e2e.script("retry.usacloud", SHELL + 'set -e\nN=$(usacloud zone list -q | wc -l)\ntest "$N" = 5\n')
    result = e2e.run("-v", "--usacloud-retry-backoff=0.05")
    result.assert_outcomes(passed=1)
    assert len(e2e.calls()) == 3
    result.stdout.fnmatch_lines(["*ok * line 3 * usacloud zone list -q*[[]3 attempts[]]"])


def test_stop_cancels_bash_and_everything_it_started(e2e):
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    e2e.rules([{"match": "region list", "sleep": 300}])
    ready, pids_b, pids_c = e2e.tmp / "ready", e2e.tmp / "pids-b", e2e.tmp / "pids-c"
    e2e.script(
        "b_sleeps.usacloud",
        SHELL + "usacloud zone list -q > /dev/null\n"
        f"echo $$ > {pids_b}; sleep 300 & echo $! >> {pids_b}; touch {ready}; wait\n"
        "usacloud zone list\n",
    )
    e2e.script("c_long_call.usacloud", SHELL + f"echo $$ > {pids_c}\nusacloud region list\nusacloud zone list\n")
    shell_script(
        e2e,
        "a_fail.usacloud",
        f"""
        for i in $(seq 600); do
          [ -e {ready} ] && grep -q '"region", "list"' {e2e.log_path} && break
          sleep 0.1
        done
        usacloud server read nope
        """,
    )
    started = time.monotonic()
    result = e2e.run("-rs", "--usacloud-error-policy=stop", workers=3)
    assert time.monotonic() - started < 60, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and outcomes.get("cancelled") == 2, outcomes
    result.stdout.fnmatch_lines(["*cancelled: run stopped by scripts/a_fail.usacloud (not-found)*"])
    pids = pidfile_pids(pids_b) + pidfile_pids(pids_c) + e2e.pids()
    assert len(pidfile_pids(pids_b)) == 2 and len(pidfile_pids(pids_c)) == 1 and len(pids) >= 8
    assert wait_gone(pids, 5) == []
    # nothing ran after the stop: b never reached its last line, c never its second call
    assert ["zone", "list"] not in [e.get("argv") for e in e2e.events()]


def test_whole_script_timeout(e2e):
    pids = e2e.tmp / "pids"
    e2e.script(
        "slow.usacloud", SHELL + f"echo $$ > {pids}; sleep 60 & echo $! >> {pids}\nusacloud zone list -q\nwait\n"
    )
    started = time.monotonic()
    result = e2e.run("--usacloud-script-timeout=3")  # the pids are written first, within milliseconds
    assert time.monotonic() - started < 40
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "timeout: the script ran longer than --usacloud-script-timeout (3s); bash and everything*",
            "  at *slow.usacloud",
        ]
    )
    assert len(pidfile_pids(pids)) == 2
    assert wait_gone(pidfile_pids(pids), 5) == []
    assert e2e.argvs() == [["zone", "list", "-q"]]  # the call before the wait ran


def test_marker_ini_and_dry_run(e2e):
    capture = 'ID=$(usacloud switch create -y --name sw -q)\nusacloud switch read "$ID"\n'
    e2e.script("marked.usacloud", SHELL + capture)
    e2e.script("plain.usacloud", capture)
    result = e2e.run("-v")  # commands mode: only the marked script runs under bash
    assert result.parseoutcomes() == {"passed": 1, "partly": 1}  # ("1 partly run")
    assert sum(1 for a in e2e.argvs() if a[:2] == ["switch", "read"]) == 1
    result.stdout.fnmatch_lines(["*skipped * line 2 * usacloud switch read *(needs shell expansion: $ID)"])
    e2e.pytester.makeini("[pytest]\nusacloud_mode = shell\n")
    result = e2e.run("-v")
    result.assert_outcomes(passed=2)
    assert sum(1 for a in e2e.argvs() if a[:2] == ["switch", "read"]) == 3
    # dry-run never starts bash: the script is checked in commands mode
    calls = len(e2e.calls())
    result = e2e.run("-v", "--usacloud-dry-run")
    assert result.parseoutcomes() == {"partly": 2}
    assert len(e2e.calls()) == calls
    result.stdout.fnmatch_lines(["*dry-run * line 2 * usacloud switch create --tags usacloud-run=* -y --name sw -q*"])


def test_kill_9_of_a_single_process_run_takes_bash_and_usacloud_with_it(e2e):
    """The parent-death signal; nothing else is left to clean up after a SIGKILL."""
    e2e.rules([{"match": "region list", "sleep": 300}])
    pids = e2e.tmp / "pids"
    e2e.script("long.usacloud", SHELL + f"echo $$ > {pids}\nusacloud region list\nwhile :; do sleep 1; done\n")
    proc = e2e.start()
    _kill_once(proc, lambda: any(e.get("event") == "start" for e in e2e.events()), "the long call", proc.kill)
    found = pidfile_pids(pids) + e2e.pids()
    assert len(found) == 2
    assert wait_gone(found) == []


def test_a_job_that_left_the_session_and_dropped_the_mark_dies_with_its_script(e2e):
    """`setsid env -u USACLOUD_SANDBOX_GUARD ...` leaves bash's process group and the environment mark:
    the descriptor it inherited (the watchdog's tag) still names it, when its script ends."""
    pids = e2e.tmp / "pids"
    e2e.script(
        "escape.usacloud",
        SHELL
        + "setsid env -u USACLOUD_SANDBOX_GUARD "
        + f"sh -c 'echo $$ >> {pids}; exec sleep 300' < /dev/null > /dev/null 2>&1 &\n"
        + f"until [ -s {pids} ]; do sleep 0.05; done\nusacloud zone list -q\n",
    )
    e2e.run().assert_outcomes(passed=1)
    (pid,) = pidfile_pids(pids)
    assert wait_gone([pid], 10) == []


@pytest.mark.parametrize("killed", ["pytest", "worker"])
@pytest.mark.parametrize("unmarked", [False, True], ids=["marked", "unmarked"])
def test_kill_9_takes_a_background_job_that_left_the_session_too(e2e, killed, unmarked):
    """A job the script moved to a session of its own is neither bash's child nor in a recorded
    process group: neither the parent-death signal nor the controller's sweep of a dead worker's
    groups reaches it. The killed process's watchdog does (the job carries its mark, or, without it,
    the descriptor the watchdog tagged bash with)."""
    e2e.rules([{"match": "region list", "sleep": 300}])
    pids, worker = e2e.tmp / "pids", e2e.tmp / "worker"
    e2e.script(
        "long.usacloud",
        SHELL
        + f"echo $PPID > {worker}\n"
        + ("setsid env -u USACLOUD_SANDBOX_GUARD " if unmarked else "setsid ")
        + f"sh -c 'echo $$ >> {pids}; exec sleep 300' < /dev/null > /dev/null 2>&1 &\n"
        + f"echo $$ >> {pids}\nusacloud region list\n",
    )
    proc = e2e.start(workers=1 if killed == "worker" else 0)
    _kill_once(
        proc,
        lambda: any(e.get("event") == "start" for e in e2e.events()) and len(pidfile_pids(pids)) == 2,
        "the long call and the background job",
        # bash's parent is the xdist worker
        (lambda: os.kill(int(worker.read_text()), signal.SIGKILL)) if killed == "worker" else proc.kill,
    )
    found = pidfile_pids(pids) + e2e.pids()
    assert len(found) == 3
    assert wait_gone(found) == []


def test_sigterm_during_a_shell_script_leaves_no_process(e2e):
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    e2e.rules([{"match": "region list", "sleep": 300}])
    pids = e2e.tmp / "pids"
    e2e.script("long.usacloud", SHELL + f"echo $$ > {pids}; sleep 300 & echo $! >> {pids}\nusacloud region list\n")
    proc = e2e.start(workers=2)
    try:
        wait_until(lambda: any(e.get("event") == "spawn" for e in e2e.events()), 60, "the long call")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    found = pidfile_pids(pids) + e2e.pids()
    assert len(found) == 4
    assert wait_gone(found, 5) == [], out.decode(errors="replace")


def _kill_once(proc, ready, what: str, kill) -> None:
    """Once ``ready()`` holds, ``kill()`` (pytest, or one of its workers); wait for pytest to end."""
    try:
        wait_until(ready, 60, what)
        kill()
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
