"""--usacloud-fake end to end: dummy credentials, hangs, the seeded store."""

import json
import textwrap

import pytest
from standin_tools import STANDIN_BIN, fake_panic_rule, pids_alive, read_events

from pytest_usacloud_sandbox.fakemode.credentials import DUMMY_SECRET, DUMMY_TOKEN

REAL = {
    "SAKURACLOUD_ACCESS_TOKEN": "real-token-4b1f9c",
    "SAKURACLOUD_ACCESS_TOKEN_SECRET": "real-secret-77e0d2",
    "SAKURA_ACCESS_TOKEN": "real-sakura-token-1a2b",
    "SAKURA_ACCESS_TOKEN_SECRET": "real-sakura-secret-3c4d",
    "SAKURACLOUD_SERVICE_PRINCIPAL_ID": "real-principal-5e6f",
    "SAKURACLOUD_PRIVATE_KEY_PATH": "/home/me/real-key.pem",
    "SAKURACLOUD_PROFILE": "prod",
}
WORD_TOKEN, WORD_SECRET, PROFILE_TOKEN = "real-word-token-8d9e", "real-word-secret-0f1a", "real-profile-token-2b3c"
SHELL = "# pytest.mark.usacloud_shell\n"


def real_credentials(e2e):
    """The user's credentials everywhere usacloud looks: environment, profiles in HOME."""
    e2e.env(**REAL)
    home = e2e.tmp / "home"
    for name in ("default", "prod"):
        profile = home / ".usacloud" / name
        profile.mkdir(parents=True)
        (profile / "config.json").write_text(json.dumps({"AccessToken": PROFILE_TOKEN, "AccessTokenSecret": "x" * 9}))
    e2e.env(HOME=home)
    return [v for k, v in REAL.items() if k != "SAKURACLOUD_PROFILE"] + [WORD_TOKEN, WORD_SECRET, PROFILE_TOKEN]


def report_commands(path):
    return [c for s in json.loads(path.read_text())["scripts"] for c in s["commands"]]


@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_every_usacloud_child_gets_dummy_credentials(e2e, mode):
    secrets = real_credentials(e2e)
    body = f"""\
        usacloud zone list -q
        usacloud switch create -y --name a --token {WORD_TOKEN} --secret={WORD_SECRET} -q
        usacloud switch list
        """
    e2e.script("creds.usacloud", (SHELL if mode == "shell" else "") + textwrap.dedent(body))
    report = e2e.tmp / "report.json"
    result = e2e.run("--usacloud-fake", f"--usacloud-report={report}")
    result.assert_outcomes(passed=1)
    calls = e2e.calls() + e2e.seed_calls()
    assert len(calls) == 4 and len(e2e.seed_calls()) == 1
    for call in calls:  # what each child would have authenticated with
        assert call["auth"] == {
            "token": DUMMY_TOKEN,
            "secret": DUMMY_SECRET,
            "profile": "",  # no profile named: usacloud 1.22.8 cannot open one in the empty directory
            "profile_file": None,
        }
    result.stdout.fnmatch_lines(["*fake mode: dummy credentials | store seeded once for the run*"])
    output = result.stdout.str() + result.stderr.str() + report.read_text()
    assert not [s for s in secrets if s in output]


def test_dry_run_says_fake_mode_uses_dummy_credentials(e2e):
    e2e.script("a.usacloud", "usacloud switch create -y --name a --token real-word-token\n")
    result = e2e.run("--usacloud-fake", "--usacloud-dry-run", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*fake mode: dummy credentials (every usacloud command would get dummy keys*"])
    assert "real-word-token" not in result.stdout.str()
    assert e2e.calls() == [] and e2e.seed_calls() == []


def test_a_rest_call_in_fake_mode_never_sends_the_users_key(e2e):
    """`usacloud rest` ignores fake mode (the stand-in logs the request it would send)."""
    secrets = real_credentials(e2e)
    e2e.script("rest.usacloud", "usacloud rest /zone/tk1v/api/cloud/1.1/server\n")
    e2e.run("--usacloud-fake")
    sent = [e for e in read_events(e2e.log_path) if e.get("event") == "network"]
    assert not [e for e in sent if e["token"] in secrets or e["secret"] in secrets]
    assert all(e["token"] == DUMMY_TOKEN for e in sent)


@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_what_the_fake_driver_does_not_fake_is_refused(e2e, mode):
    """web-accelerator (its own client, always real) and the IAM lookup of bill and coupon."""
    head = "# pytest.mark.usacloud_shell\n" if mode == "shell" else ""
    for name in ("webaccel", "bill", "coupon"):
        line = {"webaccel": "web-accelerator list", "bill": "bill list", "coupon": "coupon list"}[name]
        e2e.script(f"{name}.usacloud", f"{head}usacloud {line}\n")
    result = e2e.run("--usacloud-fake", "--usacloud-allow-global-writes", "--usacloud-error-policy=continue", "-rA")
    result.assert_outcomes(failed=3)
    assert e2e.calls() == [] and [e for e in read_events(e2e.log_path) if e.get("event") == "network"] == []
    result.stdout.fnmatch_lines(
        ["*refused by the sandbox policy (fake-mode): usacloud does not fake `web-accelerator list`*"]
    )
    assert result.stdout.str().count("(fake-mode): usacloud does not fake") >= 3


# -- hangs ----------------------------------------------------------------------------------------


def started(e2e, words):
    return [
        e for e in read_events(e2e.log_path) if e.get("event") == "start" and " ".join(words) in " ".join(e["argv"])
    ]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_create_that_hangs_after_printing_its_id_counts_as_done(e2e, workers):
    e2e.rules([{"match": "switch create", "hang": True}])
    e2e.script(
        "hang.usacloud",
        "usacloud switch create -y --name a -q\nusacloud switch read --argument-match-mode exact a -q\n",
    )
    report = e2e.tmp / "report.json"
    result = e2e.run("--usacloud-fake", "--usacloud-fake-timeout=2", f"--usacloud-report={report}", workers=workers)
    result.assert_outcomes(passed=1)
    create, read = report_commands(report)
    assert create["status"] == "ok" and create["cls"] == "fake-hang"
    assert "printed its output" in create["message"] and "not retried" in create["message"]
    assert create["stdout_tail"] == "100000000010\n" and read["stdout_tail"] == "100000000010\n"
    assert len(started(e2e, ["switch", "create"])) == 1  # never retried
    assert [e["event"] for e in read_events(e2e.log_path) if e.get("event") == "hang"] == ["hang"]
    assert pids_alive([e["pid"] for e in started(e2e, ["switch", "create"])]) == []
    result.stdout.fnmatch_lines(["*fake-mode hangs: 1 (timed out after their effect was visible; counted as done)*"])
    assert json.loads(report.read_text())["run"]["commands_by_class"]["fake-hang"] == 1


def test_a_delete_that_hangs_is_judged_by_the_store_it_changed(e2e):
    e2e.rules([{"match": "switch delete", "hang": True}])
    e2e.script(
        "delete.usacloud",
        "usacloud switch create -y --name a -q\nusacloud switch delete -y a\nusacloud switch list -q\n",
    )
    report = e2e.tmp / "report.json"
    result = e2e.run(
        "--usacloud-fake", "--usacloud-allow-dangerous", "--usacloud-fake-timeout=2", f"--usacloud-report={report}"
    )
    result.assert_outcomes(passed=1)
    delete = report_commands(report)[1]
    assert delete["cls"] == "fake-hang" and "the fake store had changed" in delete["message"]
    assert delete["stdout_tail"] == ""  # delete prints nothing: only the store shows its effect


@pytest.mark.parametrize(
    ("rule", "line", "hint"),
    [
        ({"match": "switch delete -y a", "sleep": 60}, 2, "left no visible effect"),  # hung before its work
        ({"match": "server wait-until-ready", "hang": True}, 2, "a wait command waits for ever"),
    ],
)
def test_a_timeout_with_no_visible_effect_fails(e2e, rule, line, hint):
    e2e.rules([rule])
    first = (
        "usacloud switch create -y --name a -q"
        if "switch" in rule["match"]
        else "usacloud server create -y --name a -q"
    )
    second = "usacloud switch delete -y a" if "switch" in rule["match"] else "usacloud server wait-until-ready a"
    e2e.script("stuck.usacloud", f"{first}\n{second}\nusacloud zone list\n")
    # =any: the delete runs as written (not resolved to the ID first), so that only it matches the rule
    result = e2e.run("--usacloud-fake", "--usacloud-allow-dangerous=any", "--usacloud-fake-timeout=2.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["timeout: timed out after * in fake mode*", f"  at *stuck.usacloud:{line}", f"*hint: *{hint}*"]
    )
    assert len(started(e2e, second.split()[1:])) == 1  # a changing command is never retried
    assert "fake-mode hangs: 0" in result.stdout.str()


def test_fake_mode_has_its_own_per_command_timeout(e2e):
    e2e.rules([{"match": "region list", "sleep": 60}])
    e2e.script("slow.usacloud", "usacloud region list\n")
    result = e2e.run("--usacloud-fake", "--usacloud-timeout=300", "--usacloud-fake-timeout=1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["timeout: timed out after 1.* in fake mode*", "  at *slow.usacloud:1"])
    result.stdout.fnmatch_lines(["*timeout 1s per command*"])


def test_shell_mode_goes_on_after_a_create_that_hung_after_its_work(e2e):
    e2e.rules([{"match": "switch create", "hang": True}])
    e2e.script(
        "capture.usacloud",
        SHELL + 'set -euo pipefail\nID=$(usacloud switch create -y --name a -q)\nusacloud switch read "$ID" -q\n',
    )
    result = e2e.run("--usacloud-fake", "--usacloud-fake-timeout=2", "-v")
    result.assert_outcomes(passed=1)
    assert ["switch", "read", "100000000010", "-q"] in e2e.argvs()
    result.stdout.fnmatch_lines(
        ["*ok * line 3 * usacloud switch create --tags usacloud-run=* -y --name a -q  (fake-hang)"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--usacloud-fake-timeout=0"], "argument --usacloud-fake-timeout: must be a positive"),
        (["--usacloud-fake-timeout=soon"], "'soon' is not a number"),
        (["--usacloud-fake-timeout=inf"], "must be a positive number of seconds"),
    ],
)
def test_the_fake_timeout_is_validated(e2e, args, message):
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.usage_error("--usacloud-fake", *args)
    assert message in result.stderr.str()
    assert e2e.calls() == []


def test_the_fake_timeout_is_an_ini_key(e2e):
    e2e.rules([{"match": "region list", "sleep": 60}])
    e2e.script("slow.usacloud", "usacloud region list\n")
    e2e.pytester.makeini("[pytest]\nusacloud_fake = true\nusacloud_fake_timeout = 1\n")
    result = e2e.run()
    result.stdout.fnmatch_lines(["timeout: timed out after 1.* in fake mode*", "  at *slow.usacloud:1"])


# -- the store seeded once per run ----------------------------------------------------------------


def test_the_fake_store_is_seeded_once_per_run_and_copied_per_script(e2e):
    for n in range(3):
        e2e.script(f"s{n}.usacloud", f"usacloud switch create -y --name sw{n} -q\nusacloud switch list -q\n")
    report = e2e.tmp / "report.json"
    result = e2e.run("--usacloud-fake", f"--usacloud-report={report}", workers=2)
    result.assert_outcomes(passed=3)
    seeds = e2e.seed_calls()
    assert [(c["argv"], c["seeded"]) for c in seeds] == [(["zone", "list", "-q"], True)]
    calls = e2e.calls()
    assert len(calls) == 6 and not any(c["seeded"] for c in calls)  # no script paid for the seeding
    assert len({c["fake_store"] for c in calls}) == 3  # still one store per script
    lists = [c for c in report_commands(report) if "list" in c["text"]]
    # each sees only its own switch, beside the fake driver's shared-segment switch
    assert [c["stdout_tail"] for c in lists] == ["100000000005\n100000000010\n"] * 3
    result.stdout.fnmatch_lines(["*store seeded once for the run (usacloud zone list -q, *s), one copy per script*"])


def test_failed_seeding_falls_back_to_a_store_per_script(e2e):
    e2e.rules([{"match": "zone list -q", "stderr": "boom"}])
    for n in range(2):
        e2e.script(f"s{n}.usacloud", "usacloud switch list\n")
    result = e2e.run("--usacloud-fake", workers=2)
    result.assert_outcomes(passed=2)
    assert len(e2e.seed_calls()) == 1  # tried once for the run
    assert [c["seeded"] for c in e2e.calls()] == [True, True]  # each script seeded its own store
    result.stdout.fnmatch_lines(["*store seeding failed (exit code 1: boom): every script seeds its own store*"])


def test_a_shell_mode_call_that_escapes_the_shim_finds_no_key(e2e):
    """An absolute path to usacloud bypasses the sandbox; in fake mode it finds no credentials at all."""
    secrets = real_credentials(e2e)
    e2e.script("escape.usacloud", SHELL + f"usacloud zone list -q\n{STANDIN_BIN} switch list -q\n")
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(passed=1)
    shimmed, escaped = e2e.calls()
    assert shimmed["auth"]["token"] == DUMMY_TOKEN
    assert escaped["auth"] == {"token": "", "secret": "", "profile": "", "profile_file": None}
    assert escaped["fake_mode"] == "1"  # and it still ran in fake mode, on the script's store
    assert not [s for s in secrets if s in json.dumps(escaped)]


# -- the limits of usacloud's fake driver ---------------------------------------------------------

SHARED = "usacloud server create -y --name web --network-interface-upstream shared -q"


@pytest.mark.parametrize("mode", ["commands", "shell"])
def test_a_panic_of_the_fake_driver_skips_the_script_as_a_limit_of_fake_mode(e2e, mode):
    e2e.rules([fake_panic_rule("network-interface-upstream shared")])
    head = (SHELL + "set -e\n") if mode == "shell" else ""
    e2e.script("shared.usacloud", head + f"usacloud switch create -y --name sw -q\n{SHARED}\nusacloud switch list -q\n")
    e2e.script("plain.usacloud", "usacloud switch list\n")
    report = e2e.tmp / "report.json"
    result = e2e.run("--usacloud-fake", f"--usacloud-report={report}", "-rs")
    result.assert_outcomes(passed=1, skipped=1)  # never a failure, never a pass
    assert result.ret == 0
    line = 4 if mode == "shell" else 2
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED ?1? scripts/shared.usacloud:{line}: a limit of usacloud's fake mode, not a failure of the "
            "script: usacloud's fake driver panicked in InterfaceOp.ConnectToSharedSegment: it keeps the shared*"
        ]
    )
    result.stdout.fnmatch_lines(
        ["*fake-driver limits: 1 (commands usacloud's fake driver cannot do: their scripts are skipped, not failed)"]
    )
    (script,) = [s for s in json.loads(report.read_text())["scripts"] if "shared" in s["path"]]
    assert (script["outcome"], script["status"], script["cls"], script["line"]) == (
        "skipped",
        "skipped",
        "fake-limit",
        line,
    )
    statuses = [c["status"] for c in script["commands"]]
    if mode == "commands":
        assert statuses == ["ok", "unsupported", "not-run"]  # nothing after it runs
    else:
        assert statuses == ["ok", "unsupported"]  # bash stopped there (set -e)
    assert [a for a in e2e.argvs() if a[:2] == ["switch", "list"]] == [["switch", "list"]]  # the plain script only


def test_a_failure_before_the_fake_drivers_limit_fails_the_script(e2e):
    e2e.rules([fake_panic_rule("network-interface-upstream shared")])
    e2e.script("shared.usacloud", SHELL + f"usacloud server read nosuch\n{SHARED}\n")
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*failed * line 2 * usacloud server read nosuch  (not-found)"])


def test_a_first_command_on_the_shared_segment_gets_a_store_of_its_own_making(e2e):
    """The fake driver connects to the shared segment only in the process that created the store, so
    such a first command runs on a new store (as without seeding); the others get the seeded copy."""
    e2e.script("a-shared.usacloud", f"{SHARED}\nusacloud server read web -q\n")
    e2e.script("b-plain.usacloud", "usacloud switch create -y --name sw -q\nusacloud switch list -q\n")
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(passed=2)
    calls = e2e.calls()
    seeded = {tuple(c["argv"][:2]): c["seeded"] for c in calls}
    assert seeded == {
        ("server", "create"): True,  # it made its own store
        ("server", "read"): False,
        ("switch", "create"): False,  # a copy of the run's seed
        ("switch", "list"): False,
    }
    assert len(e2e.seed_calls()) == 1
