"""The real-usacloud tier: the plugin end to end with the real usacloud 1.22.x, in a network namespace.

Every test here is marked ``real_usacloud`` and ``netns``: it runs a whole inner pytest with the
plugin and the binary named by ``USACLOUD_REAL_BIN``, inside a new network namespace with no network
(``unshare -n``; needs root), with dummy keys. It skips with the reason when the variable is unset,
when the binary is not a usacloud 1.22.x, or when a namespace cannot be made. Run it with

    USACLOUD_REAL_BIN=/path/to/usacloud python3 -m pytest -m real_usacloud

Two back ends, both inside the namespace: usacloud's own fake driver (``--usacloud-fake``), and the
loopback stand-in of Sakura's API (``sakura_api.py``, reached through ``SAKURACLOUD_API_ROOT_URL``),
whose answers for 401, 403, 404, 409, 429 and 503 are what the real binary turns into its own
output here. Nothing is mocked on the usacloud side: the classifier, the retries, the masking and the
preflight meet the real binary's text. Where the stand-in's ready-made error texts
(``standin_tools``) are the real ones, a test here says so.
"""

from __future__ import annotations

import json
import os
import shutil

import netns
import pytest
from real_tier import BASIC, EXAMPLES, QUICK_RETRIES, SECRET, SHELL, TOKEN, Outcome, commands_of
from sakura_api import STATUS_TEXT
from standin_tools import api_error, framed, giving_up, unreachable

pytestmark = [pytest.mark.real_usacloud, pytest.mark.netns]

BACKENDS = [pytest.param(("--usacloud-fake",), None, id="fake"), pytest.param((), [], id="loopback-api")]


def zoned_requests_in_tk1v(outcome: Outcome) -> bool:
    """Every request of a zoned resource went to tk1v (zone, auth-status and other global ones go to
    the API's default zone, is1a: usacloud addresses them there whatever the zone)."""
    global_paths = ("/auth-status", "/zone", "/region")
    return all(r["zone"] == "tk1v" for r in outcome.requests if not r["path"].startswith(global_paths))


# -- verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "api"), BACKENDS)
@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_a_read_that_must_fail_fails(real, args, api, mode):
    real.script("missing.usacloud", (SHELL if mode == "shell" else "") + "usacloud server read nosuch\n")
    out = real.run(*args, api=api)
    assert out.ret == 1, out.text
    script = out.script("missing")
    assert (script["outcome"], script["cls"]) == ("failed", "not-found")
    assert 'target resource not found: query=["nosuch"]' in script["message"]


@pytest.mark.parametrize(("args", "api"), BACKENDS)
def test_create_then_read_passes_with_the_real_json_in_the_record(real, args, api):
    real.script(
        "switch.usacloud",
        """
        usacloud switch create -y --name tier-sw1 --tags tier -o json
        usacloud switch read --argument-match-mode exact tier-sw1 -o json
        """,
    )
    out = real.run(*args, api=api)
    assert out.ret == 0, out.text
    create, read = commands_of(out, "switch")
    assert [create["cls"], read["cls"]] == ["ok", "ok"]
    (made,) = json.loads(create["stdout_tail"])
    (seen,) = json.loads(read["stdout_tail"])
    assert made["Name"] == seen["Name"] == "tier-sw1" and seen["ID"] == made["ID"]
    tier, run_tag = seen["Tags"]  # the script's own tag, and the run's beside it (stored sorted)
    assert tier == "tier" and run_tag.startswith("usacloud-run=") and run_tag == out.report["cleanup"]["tag"]
    if api is not None:
        methods = [r["method"] for r in out.requests if r["path"].startswith("/switch")]
        # created once, then only read (the script's read, the teardown's listing), then the teardown's delete
        assert methods[0] == "POST" and set(methods[1:-1]) == {"GET"} and methods[-1] == "DELETE"
        assert zoned_requests_in_tk1v(out) and all(r["auth"] for r in out.requests)


@pytest.mark.parametrize(("args", "api"), BACKENDS)
def test_shell_mode_captures_an_id_with_q(real, args, api):
    real.script(
        "capture.usacloud",
        SHELL
        + """\
        set -e
        ID=$(usacloud switch create -y --name tier-cap -q)
        test -n "$ID"
        usacloud switch read "$ID" -o json
        echo "captured $ID"
        """,
    )
    out = real.run(*args, api=api)
    assert out.ret == 0, out.text
    create, read = commands_of(out, "capture")
    new_id = create["stdout_tail"].strip()
    assert new_id.isdigit() and read["words"][-3] == new_id
    assert json.loads(read["stdout_tail"])[0]["Name"] == "tier-cap"


@pytest.mark.parametrize(("args", "api"), BACKENDS)
def test_set_e_and_a_failing_read_fail_in_shell_mode(real, args, api):
    marker = real.tmp / "went-on"
    real.script("sete.usacloud", SHELL + f"set -e\nusacloud server read nosuch\ntouch {marker}\n")
    out = real.run(*args, api=api)
    assert out.ret == 1, out.text
    script = out.script("sete")
    assert (script["outcome"], script["cls"], script["line"]) == ("failed", "not-found", 3)
    assert not marker.exists()


def test_an_unreachable_api_fails_and_the_preflight_names_it(real):
    real.env.update(QUICK_RETRIES, SAKURACLOUD_API_ROOT_URL="http://127.0.0.1:9/cloud/zone")
    real.script("zones.usacloud", "usacloud zone list -q\n")
    out = real.run()  # no API in the namespace at all
    assert out.ret == pytest.ExitCode.USAGE_ERROR, out.text
    assert "ERROR: usacloud preflight failed (API unreachable): Get " in out.stderr
    assert "connection refused" in out.stderr
    assert out.report["run"]["preflight"]["cause"] == "API unreachable" and out.report["scripts"] == []
    off = real.run("--no-usacloud-preflight")
    assert off.ret == 1, off.text
    (cmd,) = commands_of(off, "zones")
    assert off.script("zones")["outcome"] == "failed" and cmd["exit_code"] == 1
    url = "http://127.0.0.1:9/cloud/zone/is1a/api/cloud/1.1/zone"
    assert cmd["stderr_tail"] == framed(unreachable(url))  # the stand-in's form is the real one


def test_the_default_api_is_unreachable_in_the_namespace(real):
    """Nothing reaches Sakura's real API from here: the run fails at the preflight, not in a script."""
    real.env.update(QUICK_RETRIES)
    real.script("zones.usacloud", "usacloud zone list -q\n")
    out = real.run()
    assert out.ret == pytest.ExitCode.USAGE_ERROR, out.text
    assert "(API unreachable)" in out.stderr and "secure.sakura.ad.jp" in out.stderr


# -- the API's errors, as the real usacloud prints them ------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "unauthorized", "auth"),
        (403, "forbidden", "permission"),
        (404, "not_found", "not-found"),
        (409, "still_creating", "conflict"),
        (429, "too_many_requests", "rate-limited"),
        (503, "busy", "unavailable"),
    ],
)
def test_each_api_error_gets_its_class_from_the_real_binarys_text(real, status, code, cls):
    real.env.update(QUICK_RETRIES)
    message = "forced by the loopback API"
    real.script("list.usacloud", "usacloud switch list\n")
    out = real.run(
        "--usacloud-retries=0", api=[{"path": "/switch", "status": status, "code": code, "message": message}]
    )
    assert out.ret == 1, out.text
    (cmd,) = commands_of(out, "list")
    assert cmd["cls"] == cls, cmd
    requests = [r for r in out.requests if r["path"] == "/switch"]
    if status == 503:  # usacloud retries 503 itself (here twice), then gives up; the plugin does not retry
        assert len(requests) == 3 and len(cmd["attempts"]) == 1
        url = cmd["stderr_tail"].split()[1].split("?")[0]
        assert cmd["stderr_tail"] == framed(giving_up(url, 3))  # the stand-in's form is the real one
    else:  # usacloud retries none of these, 429 included (the plugin retries 429: see below)
        assert len(requests) == 1
        reason = STATUS_TEXT[status]
        assert cmd["stderr_tail"] == framed(api_error(reason, code, message, serial="loopback0000"))


def test_a_429_is_retried_by_the_plugin_until_it_passes(real):
    real.script("list.usacloud", "usacloud switch list\n")
    rule = {"path": "/switch", "status": 429, "code": "too_many_requests", "message": "slow down", "times": 2}
    out = real.run("--usacloud-retries=3", "--usacloud-retry-backoff=0.1", api=[rule])
    assert out.ret == 0, out.text
    (cmd,) = commands_of(out, "list")
    assert [a["cls"] for a in cmd["attempts"]] == ["rate-limited", "rate-limited", "ok"]
    assert len([r for r in out.requests if r["path"] == "/switch"]) == 3


def test_a_non_json_error_body_is_an_api_error(real):
    real.script("list.usacloud", "usacloud switch list\n")
    out = real.run(api=[{"path": "/switch", "status": 502, "raw": "<html>bad gateway</html>"}])
    (cmd,) = commands_of(out, "list")
    assert cmd["cls"] == "api-error" and cmd["stderr_tail"] == framed("error in response: <html>bad gateway</html>")


# -- masking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_trace_output_is_masked_everywhere_the_plugin_writes(real, mode):
    head = SHELL if mode == "shell" else ""
    real.script("traced.usacloud", head + "usacloud --trace zone list -q\nusacloud --trace server read nosuch\n")
    junit = real.tmp / "junit.xml"
    out = real.run("-v", f"--junitxml={junit}", "--usacloud-github=on", api=[])
    assert out.ret == 1, out.text
    commands = commands_of(out, "traced")
    if mode == "shell":  # the script's own stderr would carry the trace: refused before it runs
        assert commands[0]["status"] == "refused" and "(trace)" in commands[0]["message"]
    else:
        assert "Authorization: Basic ***" in commands[0]["stderr_tail"]  # the trace was there, and masked
    written = {
        "terminal": out.text,
        "junit": junit.read_text(),
        "report": json.dumps(out.report, ensure_ascii=False),
    }
    for where, text in written.items():
        for secret in (TOKEN, SECRET, BASIC):
            assert secret not in text, f"{secret!r} in the {where}"


# -- errors that exit 0 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "setup"),
    [
        pytest.param("SAKURACLOUD_DEFAULT_OUTPUT_TYPE=csv usacloud zone list\n", "checked", id="bad-output-type"),
        pytest.param("usacloud switch create -y --parameters nosuch.json\n", "checked", id="parameters-missing-file"),
        pytest.param("usacloud --private-key-path k.pem zone list -q\n", "key", id="private-key-too-open"),
        pytest.param("usacloud zone list -q\n", "profile", id="profile-missing"),
        pytest.param("usacloud zone list -q\n", "current", id="profile-current-missing"),
    ],
)
def test_each_error_that_exits_0_fails(real, script, setup):
    """usacloud prints these errors and exits 0; each is a failure (with --no-usacloud-preflight the
    script meets it; by default the profile cases stop at the preflight: see below)."""
    args = ["--no-usacloud-preflight"]
    if setup == "key":
        key = real.dir / "k.pem"
        key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        key.chmod(0o644)
    elif setup == "profile":
        real.env["SAKURACLOUD_PROFILE"] = "nosuch"
        args.append("--usacloud-allow-profiles")
    elif setup == "current":
        (real.home / ".usacloud").mkdir()
        (real.home / ".usacloud" / "current").write_text("other\n")
        args.append("--usacloud-allow-profiles")
    real.script("exit0.usacloud", script)
    out = real.run(*args, api=[])
    (cmd,) = commands_of(out, "exit0")
    assert out.ret == 1, out.text
    if setup == "checked":  # the offline check reads --parameters and the settings as usacloud does
        assert (cmd["exit_code"], cmd["status"]) == (None, "invalid"), cmd
    else:
        assert (cmd["exit_code"], cmd["status"]) == (0, "failed"), cmd  # usacloud ran, exited 0, and it failed
    assert out.script("exit0")["outcome"] == "failed"


# -- the preflight -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        pytest.param(
            {"SAKURACLOUD_ACCESS_TOKEN": None, "SAKURACLOUD_ACCESS_TOKEN_SECRET": None}, "no credentials", id="no-key"
        ),
        pytest.param({"SAKURACLOUD_ACCESS_TOKEN": "wrong-token"}, "bad key (401)", id="bad-key"),
        pytest.param({"SAKURACLOUD_PROFILE": "nosuch"}, "profile", id="missing-profile"),
    ],
)
def test_the_preflight_stops_a_bad_setup_before_any_script(real, change, cause):
    for name, value in change.items():
        if value is None:
            real.env.pop(name, None)
        else:
            real.env[name] = value
    real.script("zones.usacloud", "usacloud zone list -q\n")
    args = ["--usacloud-allow-profiles"] if "SAKURACLOUD_PROFILE" in change else []
    out = real.run(*args, api=[])
    assert out.ret == pytest.ExitCode.USAGE_ERROR, out.text
    assert f"ERROR: usacloud preflight failed ({cause}): " in out.stderr
    assert out.report["scripts"] == [] and out.report["run"]["preflight"]["cause"] == cause
    assert [r["path"] for r in out.requests if r["path"] != "/auth-status"] == []  # no script's request


@pytest.mark.parametrize(("args", "api"), BACKENDS)
def test_the_preflight_passes_with_a_good_setup(real, args, api):
    real.script("zones.usacloud", "usacloud zone list -q\n")
    out = real.run(*args, api=api)
    assert out.ret == 0, out.text
    preflight = out.report["run"]["preflight"]
    assert preflight["ok"] and preflight["version"].startswith("1.22.") and preflight["warning"] is None
    assert "preflight: ok (usacloud auth-status -o json: the key reads its account (permission: create)" in out.stdout
    if api is not None:
        assert out.requests[0]["path"] == "/auth-status" and out.requests[0]["auth"]


# -- fake mode's own limits --------------------------------------------------------------------------


SHARED = "usacloud server create -y --name tier-web --network-interface-upstream shared -q"


def test_a_first_shared_segment_command_works_and_a_second_is_a_limit_of_fake_mode(real):
    real.script("a-first.usacloud", f"{SHARED}\nusacloud server read tier-web -q\n")
    real.script("b-second.usacloud", f"usacloud switch create -y --name tier-sw -q\n{SHARED}\n")
    out = real.run("--usacloud-fake")
    first, second = out.script("a-first"), out.script("b-second")
    assert first["outcome"] == "passed", out.text  # works as it would without the plugin's seeding
    assert (second["outcome"], second["cls"], second["line"]) == ("skipped", "fake-limit", 2)
    assert "ConnectToSharedSegment" in second["message"]
    assert out.ret == 0 and "fake-driver limits: 1" in out.stdout


# -- the shipped examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_every_example_ends_as_its_markers_say(real, mode):
    examples = shutil.copytree(EXAMPLES, real.tmp / "examples")
    (real.tmp / "pytest.ini").write_text("[pytest]\nmarkers =\n    network: example scripts that build networks\n")
    out = real.run("--usacloud-fake", f"--usacloud-mode={mode}", "--usacloud-error-policy=continue", scripts=examples)
    assert out.ret == 0, out.text
    outcomes = {name: s["outcome"] for name, s in out.scripts().items()}
    expected = {name: "passed" for name in outcomes}
    expected.update(
        {
            "08-refused-delete": "xfailed",
            "09-typo-fails": "xfailed",
            "11-note-global-write": "xfailed",
            "13-skipped-private-host": "skipped",
        }
    )
    assert outcomes == expected and len(outcomes) == 13
    scripts = out.scripts()
    assert scripts["08-refused-delete"]["cls"] == "refused" and scripts["11-note-global-write"]["cls"] == "refused"
    assert scripts["09-typo-fails"]["cls"] == "usage"
    for name, outcome in outcomes.items():  # each pass for the right reason: something ran, nothing failed
        if outcome == "passed":
            commands = scripts[name]["commands"]
            assert any(c["status"] == "ok" for c in commands), name
            assert all(c["status"] in ("ok", "skipped") for c in commands), (name, commands)


# -- cleanup ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cleanup", ["run", "script"])
def test_the_teardown_removes_what_the_run_made_and_nothing_else(real, cleanup):
    """Against the loopback API, with the real usacloud's own listing and deletes: everything the
    scripts created (tagged, or a packet filter by the ID it printed) is gone after the run; what was
    there before, names matching included, is untouched."""
    real.script(
        "a.usacloud", "usacloud switch create -y --name web -q\nusacloud disk create -y --name d --size 20 -q\n"
    )
    real.script(
        "b.usacloud", "usacloud packet-filter create -y --name pf -q\nusacloud switch create -y --name web-2 -q\n"
    )
    seed = {"switch": [{"Name": "web-theirs", "Tags": ["someone"]}], "disk": [{"Name": "d-theirs"}]}
    out = real.run(f"--usacloud-cleanup={cleanup}", "--usacloud-timeout=60", api=[], seed=seed)
    assert out.ret == 0, out.text
    made = {(r["path"].split("/")[1], r["status"]) for r in out.requests if r["method"] == "POST"}
    assert made == {("switch", 201), ("disk", 201), ("packetfilter", 201)}
    created = [r for r in out.requests if r["method"] == "POST" and r["status"] == 201]
    deleted = [r["path"] for r in out.requests if r["method"] == "DELETE" and r["status"] == 200]
    assert len(created) == 4 and len(deleted) == 4, out.requests  # the seed's two never deleted
    assert not any(p.endswith(("/113000000001", "/113000000002")) for p in deleted)  # the seed's IDs
    summary = out.report["cleanup"]
    assert (summary["mode"], summary["deleted"], summary["left"]) == (cleanup, 4, 0)
    assert sorted((r["type"], r["zone"], r["result"]) for r in summary["resources"]) == [
        ("disk", "tk1v", "deleted"),
        ("packet-filter", "tk1v", "deleted"),
        ("switch", "tk1v", "deleted"),
        ("switch", "tk1v", "deleted"),
    ]


# -- output options that read files or the environment --------------------------------------------------


def test_output_options_that_read_a_file_are_refused_and_the_key_reaches_nothing(real):
    """usacloud reads `--format FILE` as the template and its `file` function prints any file: its own
    /proc/self/environ holds the key (the run's here, as for real)."""
    leaks = real.tmp / "leaks"
    leaks.mkdir()
    real.script(
        "leak.usacloud",
        """usacloud zone list --format '{{$e := file "/proc/self/environ"}}{{printf "%x" $e}}' --names tk1v\n""",
    )
    real.script(
        "shell-leak.usacloud",
        SHELL
        + f"""usacloud zone list --format '{{{{file "/proc/self/environ"}}}}' --names tk1v > {leaks}/a
        usacloud zone list --names tk1v --format /proc/self/environ > {leaks}/b
        """.replace("        ", ""),
    )
    junit = real.tmp / "junit.xml"
    out = real.run("-v", f"--junitxml={junit}", "--usacloud-error-policy=continue", api=[])
    assert out.ret == 1, out.text
    for name in ("leak", "shell-leak"):
        commands = commands_of(out, name)
        assert commands and all(c["status"] == "refused" and "(reads-file)" in c["message"] for c in commands)
    written = out.text + junit.read_text() + json.dumps(out.report) + "".join(p.read_text() for p in leaks.iterdir())
    for secret in (TOKEN, SECRET):
        assert secret not in written and secret.encode().hex() not in written
    assert [r for r in out.requests if r["path"] != "/auth-status"] == []  # nothing ran


@pytest.mark.parametrize(
    ("query", "printed"),
    [
        ("$ENV", "{}"),
        ("env", "{}"),
        ("$ENV.SAKURACLOUD_ACCESS_TOKEN", "null"),
        ('"\\(env)"', '"{}"'),
        ("input_filename", "gojq: function not defined: input_filename/0"),
    ],
)
def test_the_jq_driver_sees_no_environment(real, query, printed):
    """usacloud runs gojq without an environment: `--query-driver jq` cannot print the key (pinned here,
    as the policy lets these queries run)."""
    real.script("jq.usacloud", f"usacloud zone list --names tk1v -o json --query-driver jq --query '{query}'\n")
    out = real.run("--usacloud-error-policy=continue", api=[])  # the run's key in usacloud's environment
    (cmd,) = commands_of(out, "jq")
    assert cmd["status"] != "refused"
    assert printed in cmd["stdout_tail"] + cmd["stderr_tail"], cmd
    assert TOKEN not in json.dumps(out.report)


# -- what the fake driver does not fake ------------------------------------------------------------------


def test_the_command_tables_unfaked_subcommands_are_the_ones_the_real_fake_driver_sends_out(real_bin, tmp_path):
    """Every reading subcommand without a target, in usacloud's own fake mode in a namespace with no
    network: those the table marks ``unfaked`` try to reach secure.sakura.ad.jp (and fail there), all
    the others answer from the fake driver."""
    from pytest_usacloud_sandbox.usacloud import commands

    lines = []
    for res in commands.all_resources():
        for sub in res.subcommands:
            if sub.kind == "read" and sub.selector == "none" and not any(f.required for f in sub.flags):
                lines.append((f"{res.name} {sub.name}", sub.unfaked is not None))
    env = {
        "PATH": os.defpath,
        "HOME": str(tmp_path),
        "SAKURACLOUD_ACCESS_TOKEN": TOKEN,
        "SAKURACLOUD_ACCESS_TOKEN_SECRET": SECRET,
        "SAKURACLOUD_FAKE_MODE": "1",
        "SAKURACLOUD_ZONE": "tk1v",
        "SAKURACLOUD_ZONES": "tk1v",
        "SAKURACLOUD_PROFILE_DIR": str(tmp_path / "no-profiles"),
        "USACLOUD_NO_VERSION_CHECK": "1",
        **QUICK_RETRIES,
    }
    loop = "".join(
        f'if {real_bin} {line} > /dev/null 2> err; then echo "{line}|0|"; '
        f'else echo "{line}|1|$(grep -c secure.sakura.ad.jp err)"; fi\n'
        for line, _ in lines
    )
    done = netns.run(["bash", "-c", loop], env, cwd=tmp_path, timeout=600)
    seen = {}
    for row in done.stdout.splitlines():
        line, failed, host = row.split("|")
        seen[line] = failed == "1" and host not in ("", "0")
    assert seen == dict(lines), done.stderr
    assert sum(unfaked for _, unfaked in lines) >= 3  # web-accelerator list, bill list, coupon list


def test_what_the_fake_driver_does_not_fake_is_refused_in_fake_mode(real):
    for name in ("web-accelerator list", "bill list", "coupon list"):
        real.script(f"{name.split()[0]}.usacloud", f"usacloud {name}\n")
    out = real.run("--usacloud-fake", "--usacloud-allow-global-writes", "--usacloud-error-policy=continue")
    assert out.ret == 1, out.text
    for script in out.scripts().values():
        (cmd,) = script["commands"]
        assert cmd["status"] == "refused" and "(fake-mode): usacloud does not fake" in cmd["message"], cmd


# -- profiles ------------------------------------------------------------------------------------------


def test_a_profile_planted_by_a_shell_script_would_trace_every_call_and_cannot_be_planted(real, real_bin):
    """With no profile named, usacloud reads the profile `<profile dir>/current` names: a `TraceMode` in
    it prints the key's HTTP credentials on every call's stderr (shown first with a directory that can
    be written). The run's profile place is one nothing can write."""
    writable = real.tmp / "writable-profiles"
    (writable / "default").mkdir(parents=True)
    (writable / "default" / "config.json").write_text('{"TraceMode": "all"}')
    (writable / "current").write_text("default\n")
    env = {**real.env, "SAKURACLOUD_PROFILE_DIR": str(writable)}
    done = netns.run([real_bin, "zone", "list", "-q"], env, api={"token": TOKEN, "secret": SECRET, "rules": []})
    assert f"Authorization: Basic {BASIC}" in done.stderr  # the threat is real
    seen = real.tmp / "seen"
    real.script(
        "a-plant.usacloud",
        SHELL
        + f"""mkdir -p "$SAKURACLOUD_PROFILE_DIR/default" || echo "mkdir refused" > {seen}
        echo '{{"TraceMode": "all"}}' > "$SAKURACLOUD_PROFILE_DIR/default/config.json" || echo "write refused" >> {seen}
        echo default > "$SAKURACLOUD_PROFILE_DIR/current" || echo "current refused" >> {seen}
        usacloud zone list -q 2>> {seen}
        """.replace("        ", ""),
    )
    real.script("b-later.usacloud", SHELL + f"usacloud zone list -q 2>> {seen}\n")
    out = real.run(api=[])
    assert out.ret == 0, out.text
    text = seen.read_text()
    assert "mkdir refused" in text and "write refused" in text and "current refused" in text
    assert "Authorization" not in text and BASIC not in text and "TRACE" not in text


@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_secrets_usacloud_prints_are_masked_by_their_key_in_tables_and_yaml(real, mode):
    """`archive ftp-open` prints the FTP password usacloud's API made (never in the script) in a table
    and in YAML; a monitor's SNMP community and Slack webhook come back in its YAML."""
    head = SHELL if mode == "shell" else ""
    archive = "113101599865"  # the fake driver's RancherOS archive
    real.script(
        "output.usacloud",
        head
        + f"usacloud archive ftp-open -y {archive}\nusacloud archive ftp-close -y {archive}\n"
        + f"usacloud archive ftp-open -y {archive} -o yaml\n"
        + "usacloud simple-monitor create -y --target 192.0.2.1 --health-check-protocol snmp"
        + " --health-check-community SnmpCommunitySECRET --health-check-snmp-version 2c"
        + " --health-check-oid 1.3.6.1.2.1.1.3.0 --notify-slack-enabled"
        + " --slack-webhooks-url https://hooks.slack.com/services/T0/B0/xyzWEBHOOKsecret -o yaml\n"
        + "usacloud server read nosuch\n",
    )
    junit = real.tmp / "junit.xml"
    # ftp-open changes an archive the run did not make: only =any lets it run as written
    args = ("--usacloud-allow-dangerous=any", "--usacloud-allow-global-writes", "-v", f"--junitxml={junit}")
    out = real.run("--usacloud-fake", *args)
    assert out.ret == 1, out.text
    report = json.dumps(out.report, ensure_ascii=False)
    if mode == "commands":
        tails = [c["stdout_tail"] for c in commands_of(out, "output")]
        assert "| ***  " in tails[0] and "  Password: ***\n" in tails[2] and "  Community: ***\n" in tails[3]
    for where, text in {"terminal": out.text, "junit": junit.read_text(), "report": report}.items():
        for secret in ("password-is-not-a-password", "SnmpCommunitySECRET", "WEBHOOK"):
            assert secret not in text, f"{secret!r} in the {where}"
