"""Quick checks of the stand-in usacloud (tests/standin/usacloud, its program usacloud_standin.py) itself."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess

import pytest
from standin_tools import (
    AUTH_401,
    CONFIRM_NO_TTY,
    RATE_429,
    STANDIN_BIN,
    STANDIN_CMD,
    child_pids,
    framed,
    pids_alive,
    read_events,
    read_log,
    run_standin,
    standin_env,
    unfinished_pids,
    wait_gone,
    wait_until,
    write_rules,
)


@pytest.fixture
def env(tmp_path):
    return standin_env(tmp_path, SAKURACLOUD_ZONE="tk1v")


def test_executable_and_version(env):
    assert os.access(STANDIN_BIN, os.X_OK)
    assert STANDIN_BIN.read_text().startswith("#!/usr/bin/env -S python3 -S\n")
    r = run_standin("version", env, via_path=True)  # shebang + PATH, as the plugin runs it
    assert (r.returncode, r.stdout, r.stderr) == (0, "1.22.8 linux/amd64, build ec29721\n", "")


def test_create_read_json_shape(env):
    r = run_standin("server create -y --name web1 --tags a,b -o json", env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('[\n    {\n        "Availability": "available",\n')  # keys sorted
    created = json.loads(r.stdout)
    assert isinstance(created, list) and len(created) == 1
    rec = created[0]
    assert rec["ID"] == 100000000010  # a number: the first ID a store gives
    assert rec["Name"] == "web1" and rec["Description"] == "" and rec["Tags"] == ["a", "b"]
    assert rec["Zone"]["Name"] == "tk1v" and rec["InstanceStatus"] == ""  # created, never booted
    # a later process sees it (STANDIN_STATE), by ID and by name
    for target in (str(rec["ID"]), "web"):
        r = run_standin(["server", "read", target, "--output-type=json"], env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)[0]["ID"] == rec["ID"]
    r = run_standin("server list -q", env)
    assert r.stdout == f"{rec['ID']}\n"
    r = run_standin(["server", "list", "--query", "[].Name"], env)
    assert json.loads(r.stdout) == ["web1"]
    r = run_standin("iaas server list -o yaml", env)
    assert "- Availability: available\n" in r.stdout and f"  ID: {rec['ID']}\n" in r.stdout


def test_empty_results_and_silent_commands(env):
    for args in ("server list -o json", "dns list --query [].ID"):
        r = run_standin(args, env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), args
    assert run_standin("switch create -y -q --name sw", env).returncode == 0
    r = run_standin("switch delete -y sw", env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert run_standin("switch list", env).stdout == ""


def test_confirm_needs_assumeyes_without_tty(env):
    r = run_standin("server create --name x", env)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", framed(CONFIRM_NO_TTY))
    run_standin("disk create -y --name d1 --disk-plan ssd --connector virtio", env)
    r = run_standin("disk delete d1", env)
    assert r.returncode == 1 and CONFIRM_NO_TTY in r.stderr


def test_zone_flag_on_global_resource(env):
    for args in ("iaas dns list --zone tk1v", "startup-script list --zone=is1a"):
        r = run_standin(args, env)
        assert (r.returncode, r.stderr) == (1, "Error: unknown flag: --zone\n"), args
    assert run_standin("dns list", env).returncode == 0


def test_zone_validation(tmp_path):
    env = standin_env(tmp_path, SAKURACLOUD_ZONES="tk1v")
    r = run_standin("server list --zone is1a", env)
    assert (r.returncode, r.stderr) == (1, "\nvalidation error:\n\t--zone: oneof=all tk1v all\n")
    r = run_standin("server list", env)
    assert (r.returncode, r.stderr) == (1, "\nvalidation error:\n\t--zone: required\n")
    env["SAKURACLOUD_ZONE"] = "is1b"  # env zone is validated too
    assert "oneof=all tk1v" in run_standin("server list", env).stderr
    env["SAKURACLOUD_ZONE"] = "tk1v"
    assert run_standin("server list --zone=all", env).returncode == 0
    r = run_standin("server list --zone = all", env)  # v0 spelling: the zone is "="
    assert r.returncode == 1 and "--zone: oneof=all tk1v" in r.stderr
    r = run_standin("server list --zone tk1v -o csv", env)
    assert r.stderr == "\nvalidation error:\n\t--output-type: oneof=table json yaml\n"


def test_zone_all_uses_every_permitted_zone(tmp_path):
    env = standin_env(tmp_path, SAKURACLOUD_ZONES="tk1v,is1a")
    r = run_standin("switch create --zone=all -y --name s -o json", env)
    assert [x["Zone"] for x in json.loads(r.stdout)] == ["tk1v", "is1a"]
    r = run_standin("switch list --zone is1a -q", env)
    assert len(r.stdout.split()) == 1


def test_unknown_command_and_subcommand(env):
    r = run_standin("foo list", env)
    assert r.returncode == 1
    assert r.stderr == ('Error: unknown command "foo" for "usacloud"\nRun \'usacloud --help\' for usage.\n')
    r = run_standin("server foo", env)
    assert r.returncode == 0 and r.stdout.startswith("Usage:\n  usacloud server") and not r.stderr
    r = run_standin("server list --no-such-flag", env)
    assert (r.returncode, r.stderr) == (1, "Error: unknown flag: --no-such-flag\n")


def test_targets_partial_exact_single(env):
    for name in ("web1", "web2", "db"):
        assert run_standin(["switch", "create", "-y", "-q", "--name", name], env).returncode == 0
    r = run_standin("switch read web", env)
    assert (r.returncode, r.stderr) == (1, framed('in this operation, only a single target is allowed: query=["web"]'))
    r = run_standin("switch read nothing", env)
    assert r.stderr == framed('target resource not found: query=["nothing"]')
    r = run_standin("switch read", env)
    assert r.stderr == framed("ID or Name or Tags arguments are required")
    r = run_standin("switch read --argument-match-mode exact web", env)
    assert r.returncode == 1 and "target resource not found" in r.stderr
    assert run_standin("switch delete -y web", env).returncode == 0  # substring: both webs
    r = run_standin("switch list -o json", env)
    assert [x["Name"] for x in json.loads(r.stdout)] == ["db"]


def test_token_check(tmp_path):
    env = standin_env(tmp_path, SAKURACLOUD_ZONE="tk1v", STANDIN_REQUIRE_TOKEN="tok")
    r = run_standin("server list", env)
    assert r.returncode == 1
    assert re.fullmatch(
        r'\nError in response: &iaas\.APIErrorResponse\{IsFatal:true, Serial:"[0-9a-f]+", '
        r'Status:"401 Unauthorized", ErrorCode:"unauthorized", ErrorMessage:"[^"]*"\}\n',
        r.stderr,
    )
    assert run_standin("server list --token tok", env).returncode == 0
    assert run_standin("server list", dict(env, SAKURA_ACCESS_TOKEN="tok")).returncode == 0
    assert run_standin("version", env).returncode == 0  # no API call
    assert AUTH_401.startswith("Error in response:") and "401 Unauthorized" in AUTH_401


def test_rules(tmp_path, env):
    rules = write_rules(
        tmp_path / "rules.json",
        [
            {"match": "server list", "stderr": RATE_429, "times": 1},
            {"match": ["switch", "read"], "stdout": "canned\n"},
            {"match": "disk list", "panic": True},
            {"match": "cdrom list", "signal": "SEGV"},
        ],
    )
    env["STANDIN_RULES"] = str(rules)
    r = run_standin("server list", env)
    assert (r.returncode, r.stderr) == (1, framed(RATE_429))
    assert run_standin("server list", env).returncode == 0  # times: 1 used up
    r = run_standin("switch read anything", env)
    assert (r.returncode, r.stdout) == (0, "canned\n")
    r = run_standin("disk list", env)
    assert r.returncode == 2 and r.stderr.startswith("panic: ") and "goroutine 1" in r.stderr
    r = run_standin("cdrom list", env)
    assert r.returncode == -signal.SIGSEGV
    ends = read_log(env["STANDIN_LOG"])
    assert [e["rule"] for e in ends] == [0, None, 1, 2]  # the SEGV call has no end line
    assert len(unfinished_pids(env["STANDIN_LOG"])) == 1


def test_a_rule_sleep_ends_when_its_until_path_appears_and_a_rule_can_touch_it(tmp_path, env):
    go = tmp_path / "go"
    rules = [
        {"match": "zone list", "sleep": 60, "until": str(go)},
        {"match": "region list", "touch": str(go)},
    ]
    env["STANDIN_RULES"] = str(write_rules(tmp_path / "rules.json", rules))
    proc = subprocess.Popen([*STANDIN_CMD, "zone", "list"], env=env, stdout=subprocess.DEVNULL)
    wait_until(lambda: read_events(env["STANDIN_LOG"]), 30, "the start line")
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.3)  # sleeping
    assert run_standin("region list", env).returncode == 0 and go.exists()
    assert proc.wait(timeout=30) == 0
    zone = next(e for e in read_log(env["STANDIN_LOG"]) if e["argv"] == ["zone", "list"])
    assert zone["end"] - zone["start"] < 30  # well before the 60 s


def test_a_rule_sleep_can_wait_for_a_count_of_calls(tmp_path, env):
    running = tmp_path / "running"
    running.mkdir()
    rules = [
        {"match": "zone list", "sleep": 60, "until": str(running), "until_count": 2},
        {"match": "region list", "touch": str(running / "{pid}")},
    ]
    env["STANDIN_RULES"] = str(write_rules(tmp_path / "rules.json", rules))
    proc = subprocess.Popen([*STANDIN_CMD, "zone", "list"], env=env, stdout=subprocess.DEVNULL)
    assert run_standin("region list", env).returncode == 0
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.3)  # one of two
    assert run_standin("region list", env).returncode == 0
    assert proc.wait(timeout=30) == 0
    regions = [e["pid"] for e in read_log(env["STANDIN_LOG"]) if e["argv"] == ["region", "list"]]
    assert sorted(p.name for p in running.iterdir()) == sorted(str(pid) for pid in regions)


def test_log_lines(tmp_path, env):
    env["SAKURACLOUD_ZONES"] = "tk1v"
    run_standin("server list -o json", env, cwd=tmp_path)
    run_standin("dns list --zone tk1v", env)
    events = read_events(env["STANDIN_LOG"])
    assert [e["event"] for e in events] == ["start", "end", "start", "end"]
    first = read_log(env["STANDIN_LOG"])[0]
    assert first["argv"] == ["server", "list", "-o", "json"]
    for key in ("pid", "pgid", "ppid"):
        assert isinstance(first[key], int)
    assert first["pid"] == events[0]["pid"] and first["ppid"] == os.getpid()
    assert events[0]["start"] == first["start"] <= first["end"]
    assert first["exit"] == 0 and first["cwd"] == str(tmp_path)
    assert (first["zone_env"], first["zones_env"], first["zone"]) == ("tk1v", "tk1v", "tk1v")
    assert (first["resource"], first["command"]) == ("server", "list")
    assert read_log(env["STANDIN_LOG"])[1]["exit"] == 1


def test_fake_store_per_path(tmp_path, env):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    env_a = dict(env, SAKURACLOUD_FAKE_MODE="0", SAKURACLOUD_FAKE_STORE_PATH=str(a))
    env_b = dict(env, SAKURACLOUD_FAKE_MODE="1", SAKURACLOUD_FAKE_STORE_PATH=str(b))
    new_id = run_standin("server create -y -q --name fa", env_a).stdout.strip()
    assert new_id and a.exists()
    assert run_standin("server list -q", env_a).stdout.strip() == new_id
    assert run_standin("server list -q", env_b).stdout == ""
    assert run_standin("server list -q", env).stdout == ""  # STANDIN_STATE untouched
    fake_no_store = dict(env, SAKURACLOUD_FAKE_MODE="1")
    fake_no_store.pop("STANDIN_STATE")
    run_standin("server create -y -q --name tmp", fake_no_store)
    assert run_standin("server list -q", fake_no_store).stdout == ""  # nothing persisted
    a.write_text(a.read_text()[:40])  # truncated store
    r = run_standin("server list", env_a)
    assert r.returncode == 2 and r.stderr.startswith("panic: unexpected end of JSON input")


def test_state_is_locked_across_parallel_processes(env):
    procs = [
        subprocess.Popen(
            [*STANDIN_CMD, "switch", "create", "-y", "-q", "--name", f"p{i}"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    ids = [p.communicate(timeout=20)[0].strip() for p in procs]
    assert len(set(ids)) == 8
    assert len(run_standin("switch list -q", env).stdout.split()) == 8


def test_latency_and_process_timeout(env):
    r = run_standin("server boot -y x --process-timeout-sec 1", dict(env, STANDIN_LATENCY="5"))
    assert r.stderr == framed("command[server/boot] timed out: context deadline exceeded")
    # timed by the stand-in's own clock (its start-up is not counted): cut at 1 s, not the 5 s latency
    [end] = read_log(env["STANDIN_LOG"])
    assert 1.0 <= end["end"] - end["start"] < 5.0


def _start_sleeping(tmp_path, env, **extra):
    rules = write_rules(tmp_path / "sleep-rules.json", [{"match": "list", "sleep": 30}])
    env = dict(env, STANDIN_RULES=str(rules), **extra)
    proc = subprocess.Popen(
        [*STANDIN_CMD, "server", "list"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert wait_until(lambda: read_events(env["STANDIN_LOG"]), 30, "the start line")
    return proc


def test_sigterm_ends_promptly(tmp_path, env):
    proc = _start_sleeping(tmp_path, env)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == -signal.SIGTERM
    assert unfinished_pids(env["STANDIN_LOG"]) == [proc.pid]


def test_ignore_term_then_kill_group_with_grandchild(tmp_path, env):
    proc = _start_sleeping(tmp_path, env, STANDIN_IGNORE_TERM="1", STANDIN_SPAWN_CHILD="1")
    child = wait_until(lambda: child_pids(env["STANDIN_LOG"]), 30, "the grandchild")[0]
    assert pids_alive([child]) == [child]
    os.killpg(proc.pid, signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.3)
    assert wait_gone([child]) == []  # the grandchild took TERM
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=5) == -signal.SIGKILL


def test_grandchild_reaped_on_normal_exit(env):
    r = run_standin("server list", dict(env, STANDIN_SPAWN_CHILD="1"))
    assert r.returncode == 0
    end = read_log(env["STANDIN_LOG"])[0]
    assert end["child_pid"] and not pids_alive([end["child_pid"]])


@pytest.mark.parametrize(
    ("parameters", "error"),
    [
        ('{"Name": "a",}', "invalid character '}' looking for beginning of object key string"),
        ('{"Name" "a"}', "invalid character '\"' after object key"),
        ('{"Tags": ["a" "b"]}', "invalid character '\"' after array element"),
        ('{"Name": "a"} x', "invalid character 'x' after top-level value"),
        ('{"Name": tru}', "invalid character '}' in literal true (expecting 'e')"),
        ('{"Name": "a"', "unexpected end of JSON input"),
        ("[1]", "json: cannot unmarshal array into Go value of type parameter"),
    ],
)
def test_broken_parameters_print_gos_decoder_error_and_exit_0(env, parameters, error):
    r = run_standin(["switch", "create", "-y", "--parameters", parameters], env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", error + "\n")
    assert run_standin("switch list -q", env).stdout == ""  # nothing was created


def test_parameters_keys_fold_and_flags_win(env, tmp_path):
    (tmp_path / "p.json").write_text('{"zone": "tk1v", "NAME": "from-json", "Deſcription": "folded"}')
    r = run_standin("switch create -y --parameters p.json -o json", env, cwd=tmp_path)
    assert [(x["Name"], x["Description"]) for x in json.loads(r.stdout)] == [("from-json", "folded")]
    r = run_standin("switch create -y --parameters p.json --name from-flag --format {{.Name}}", env, cwd=tmp_path)
    assert r.stdout == "from-flag\n"  # usacloud parses the flags again after the JSON


def test_trace_prints_the_request_with_its_basic_credentials_outside_fake_mode(env):
    import base64

    env.update(SAKURACLOUD_ACCESS_TOKEN="tok", SAKURACLOUD_ACCESS_TOKEN_SECRET="sec")
    r = run_standin("--trace zone list -q", env)
    basic = base64.b64encode(b"tok:sec").decode()
    assert r.returncode == 0 and f"Authorization:[Basic {basic}]" in r.stderr
    assert r.stderr.startswith("[TRACE] ")
    r = run_standin("--trace zone list -q", dict(env, SAKURACLOUD_FAKE_MODE="1"))  # transcript trace-fake
    assert (r.returncode, r.stderr) == (0, "")


DATABASE = "database create -y --name d --switch-id 123456789012 --ip-address 192.168.0.10 --netmask 24"
DATABASE += " --database-type mariadb --plan 10g --username u --password p --enable-backup --backup-weekdays mon"
MGW = "mobile-gateway create -y --name m --private-interface-ip-address 192.168.0.1"
#: What the real usacloud 1.22.8's service layer printed (fake mode), and the same command made whole.
SERVICE_REFUSALS = [
    ("archive create -y --name a", "SourceDiskID or SourceArchiveID is required", "--source-archive-id 1"),
    (
        "archive create -y --name a --source-file f.img --size 20 --no-wait",
        "NoWait=true is not supported when uploading files and creating archives",
        "--no-wait=false",
    ),
    (
        "internet create -y --name i --enable-ipv6 --no-wait",
        "NoWait=true is not supported when EnableIPv6=true",
        "--enable-ipv6=false",
    ),
    (
        DATABASE,
        "1 error occurred:\n\t* ReplicaUserPassword: required_with=EnableReplication\n\n",
        "--replica-user-password r",
    ),
    (MGW, "switch id is required when specified private interface", None),
    (f"{MGW} --private-interface-switch-id 1", "ip address is required when specified private interface", None),
    (
        f"{MGW} --private-interface-switch-id 1 --private-interface-network-mask-len 24 --no-wait",
        "NoWait=true is not supported with PrivateInterface/StaticRoutes/SIMRoutes/DNS/SIMs/TrafficConfig",
        "--no-wait=false",
    ),
    (
        """server create -y --name s --network-interfaces '[{"Upstream": "disconnected"}, {"Upstream": "shared"}]'""",
        "upstream=shared is not supported for additional NICs",
        None,
    ),
    (
        "server create -y --name s --no-wait --disk-size 20 --disk-os-type ubuntu",
        "NoWait=true is not supported if the disks contain NoWait=false",
        "--disk-no-wait",
    ),
    (
        "server create -y --name s --no-wait --boot-after-create",
        "NoWait=true is not supported with BootAfterCreate=true",
        "--boot-after-create=false",
    ),
    (
        "vpc-router create-standard -y --name v --no-wait",
        "NoWait=true is not supported with AdditionalNICSettings and RouterSetting",
        "--no-wait=false",
    ),
]


@pytest.mark.parametrize(("command", "error", "mend"), SERVICE_REFUSALS, ids=[c[1][:40] for c in SERVICE_REFUSALS])
def test_the_service_layers_refusal_is_the_real_ones_and_changes_nothing(env, tmp_path, command, error, mend):
    (tmp_path / "f.img").write_bytes(b"\0" * 1024)
    listing = [command.split()[0], "list", "-q"]
    before = run_standin(listing, env).stdout
    r = run_standin(shlex.split(command), env, cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "\n" + error + "\n")
    assert run_standin(listing, env).stdout == before
    if mend is not None:
        r = run_standin([*shlex.split(command), *shlex.split(mend), "-q"], env, cwd=tmp_path)
        assert (r.returncode, r.stderr) == (0, "")
        assert r.stdout.strip().isdigit()
