"""The stand-in's model of the real usacloud's fake-mode faults: rest goes out, hangs, store seeding."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from standin_tools import STANDIN_CMD, framed, pids_alive, read_events, read_log, run_standin, standin_env


@pytest.fixture
def fake_env(tmp_path):
    return standin_env(
        tmp_path,
        SAKURACLOUD_ZONE="tk1v",
        SAKURACLOUD_FAKE_MODE="1",
        SAKURACLOUD_FAKE_STORE_PATH=tmp_path / "store.json",
        STANDIN_STATE=None,
    )


def events(env, kind):
    return [e for e in read_events(env["STANDIN_LOG"]) if e.get("event") == kind]


def test_rest_goes_out_even_in_fake_mode(fake_env):
    fake_env.update(SAKURACLOUD_ACCESS_TOKEN="tok-1", SAKURACLOUD_ACCESS_TOKEN_SECRET="sec-1")
    r = run_standin("rest /zone/tk1v/api/cloud/1.1/server", fake_env)
    assert r.returncode == 0, r.stderr
    (sent,) = events(fake_env, "network")
    assert sent["fake_mode"] is True and sent["url"] == "/zone/tk1v/api/cloud/1.1/server"
    assert (sent["method"], sent["token"], sent["secret"]) == ("GET", "tok-1", "sec-1")
    # the key is checked by the "API" even in fake mode
    r = run_standin("rest --token other /zone/tk1v/api/cloud/1.1/server", dict(fake_env, STANDIN_REQUIRE_TOKEN="tok-1"))
    assert (r.returncode, r.stderr.startswith("\nError in response:")) == (1, True)
    assert events(fake_env, "network")[-1]["token"] == "other"
    # other commands in fake mode make no request and need no key
    r = run_standin("server list", dict(fake_env, STANDIN_REQUIRE_TOKEN="tok-1"))
    assert r.returncode == 0 and len(events(fake_env, "network")) == 2


@pytest.mark.parametrize("line", ["web-accelerator list", "webaccel ls", "bill list", "coupon list"])
def test_what_the_fake_driver_does_not_fake_goes_out_too(fake_env, line):
    """The real usacloud calls the web accelerator API, and IAM for bill and coupon, in fake mode."""
    fake_env.update(SAKURACLOUD_ACCESS_TOKEN="tok-1", SAKURACLOUD_ACCESS_TOKEN_SECRET="sec-1")
    run_standin(line, fake_env)
    (sent,) = events(fake_env, "network")
    assert sent["fake_mode"] is True and sent["api"] in ("webaccel", "iam") and sent["token"] == "tok-1"
    run_standin("switch list", fake_env)
    assert len(events(fake_env, "network")) == 1


def test_credentials_come_from_flags_environment_or_the_profile_file(tmp_path, fake_env):
    home = tmp_path / "home"
    (home / ".usacloud" / "prod").mkdir(parents=True)
    (home / ".usacloud" / "prod" / "config.json").write_text(json.dumps({"AccessToken": "p-tok"}))
    fake_env.update(HOME=str(home))
    assert run_standin("--profile prod zone list", fake_env).returncode == 0  # the profile's file exists
    fake_env["SAKURACLOUD_ACCESS_TOKEN"] = "env-tok"
    run_standin("--profile prod zone list", fake_env)
    run_standin("--profile prod --token flag-tok zone list", fake_env)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_standin("--profile prod zone list", dict(fake_env, SAKURACLOUD_PROFILE_DIR=str(empty)))
    assert r.returncode == 0 and "is not exists" in r.stderr  # looked up in an empty place
    auth = [c["auth"] for c in read_log(fake_env["STANDIN_LOG"])]
    assert [a["token"] for a in auth[:3]] == ["p-tok", "env-tok", "flag-tok"]
    assert auth[0]["profile_file"] == str(home / ".usacloud" / "prod" / "config.json")


def test_a_first_use_of_a_store_path_seeds_it(tmp_path, fake_env):
    fake_env["STANDIN_SEED_COST"] = "0.3"
    t0 = time.monotonic()
    r = run_standin("zone list -q", fake_env)
    first = time.monotonic() - t0
    assert r.returncode == 0
    store = json.loads((tmp_path / "store.json").read_text())
    assert "catalogue" in store  # even a read writes the seeded store
    r = run_standin("switch create -y --name a -q", fake_env)
    assert r.returncode == 0
    assert "catalogue" in json.loads((tmp_path / "store.json").read_text())
    assert [c["seeded"] for c in read_log(fake_env["STANDIN_LOG"])] == [True, False]
    assert first >= 0.3  # at least the CPU time it burnt
    (tmp_path / "empty.json").write_text("")
    run_standin("zone list -q", dict(fake_env, SAKURACLOUD_FAKE_STORE_PATH=str(tmp_path / "empty.json")))
    assert read_log(fake_env["STANDIN_LOG"])[-1]["seeded"] is True  # an empty file is a new store


def run_until_hang(args, env, limit=10.0):
    """Start the stand-in; return its output so far once it logged a hang (and kill it)."""
    hangs = len(events(env, "hang"))
    proc = subprocess.Popen(
        [*STANDIN_CMD, *args.split()],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + limit
    while len(events(env, "hang")) == hangs and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    hung = proc.poll() is None
    proc.kill()
    out, err = proc.communicate()
    return hung, out.decode(), err.decode(), proc.pid


def switch_names(tmp_path):
    """The names of the switches the script made in the fake store (not the fake driver's own)."""
    switches = json.loads((tmp_path / "store.json").read_text())["resources"]["switch"]
    return [s["Name"] for s in switches if s["Scope"] == "user"]


def test_a_changing_command_can_hang_after_its_work(tmp_path, fake_env):
    fake_env["STANDIN_FAKE_HANG"] = "1"
    hung, out, err, pid = run_until_hang("switch create -y --name a -q", fake_env)
    assert hung and out.strip().isdigit() and err == ""  # the ID was printed before the hang
    assert switch_names(tmp_path) == ["a"]
    assert pids_alive([pid]) == []
    # list and read never hang; a failure ends as usual
    assert run_standin("switch list -q", fake_env, timeout=10).returncode == 0
    r = run_standin("switch delete -y nosuch", fake_env, timeout=10)
    assert r.returncode == 1
    # delete hangs after writing the store, printing nothing
    hung, out, _, _ = run_until_hang("switch delete -y a", fake_env)
    assert hung and out == ""
    assert switch_names(tmp_path) == []
    # outside fake mode nothing hangs
    real = dict(fake_env, SAKURACLOUD_FAKE_MODE="")
    assert run_standin("switch create -y --name b -q", real, timeout=10).returncode == 0


def test_a_rule_can_make_a_call_hang_after_its_work(tmp_path, fake_env):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"match": "switch create", "hang": True}]))
    fake_env["STANDIN_RULES"] = str(rules)
    hung, out, _, _ = run_until_hang("switch create -y --name a -q", fake_env)
    assert hung and out.strip().isdigit()
    r = run_standin("switch create -y -q", fake_env, timeout=10)  # a failure does not hang
    assert (r.returncode, r.stderr) == (1, framed("validation error:\n\t--name: required"))
