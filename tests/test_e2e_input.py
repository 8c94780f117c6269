"""Bad input never crashes or hangs the session: a clear result on the one item, the others go on."""

import pytest
from standin_tools import STANDIN_BIN

from conftest import INNER_PLUGINS


@pytest.mark.parametrize("workers", [0, 2])
def test_bad_scripts_fail_alone_with_file_and_line(e2e, workers):
    e2e.script("good.usacloud", "usacloud zone list\n")
    (e2e.dir / "latin1.usacloud").write_bytes(b"usacloud zone list\nusacloud server list --names caf\xe9\n")
    (e2e.dir / "nul.usacloud").write_bytes(b"usacloud zone list\n\nusacloud re\x00gion list\n")
    e2e.script("quote.usacloud", "usacloud zone list\nusacloud server list --names 'web\nusacloud region list\n")
    e2e.script("empty.usacloud", "")
    e2e.script("comments.usacloud", "#!/bin/bash\n# nothing to do here\n\n   # really\n")
    with open(e2e.dir / "huge.usacloud", "wb") as fh:  # 50 MiB: real lines past the 1 MiB limit, then a hole
        line = b"usacloud zone list --max 1   # padding padding padding padding padding\n"
        fh.write(line * (2 * 1024 * 1024 // len(line)))
        fh.truncate(50 * 1024 * 1024)
    result = e2e.run("--usacloud-error-policy=continue", "-rs", workers=workers, timeout=240)
    result.assert_outcomes(passed=1, skipped=2, failed=4)  # nothing to run is a skip, not a pass
    result.stdout.fnmatch_lines_random(["SKIPPED [[]1[]] *empty.usacloud*: no usacloud command"])
    result.stdout.fnmatch_lines_random(
        [
            "invalid-script: not UTF-8*",
            "  at *latin1.usacloud:2",
            "invalid-script: NUL byte at line 3*",
            "  at *nul.usacloud:3",
            "invalid-script: bash cannot parse the script: unexpected EOF while looking for matching*",
            "  at *quote.usacloud:2",
            "invalid-script: script is 52428800 bytes (over the limit of 1048576; raise usacloud_max_script_bytes)*",
            "  at *huge.usacloud",
        ]
    )
    # none of the bad scripts ran a command; the good one did
    assert e2e.argvs() == [["zone", "list"]]


def test_bad_options_are_usage_errors_before_anything_runs(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    cases = [
        (["--usacloud-rate=0"], "argument --usacloud-rate: must be more than 0"),
        (["--usacloud-rate=-1"], "must be more than 0"),
        (["--usacloud-rate=nan"], "NaN is not a valid value"),
        (["--usacloud-rate=fast"], "'fast' is not a number"),
        (["--usacloud-burst=0"], "argument --usacloud-burst: must be at least 1"),
        (["--usacloud-retries=x"], "is not a whole number"),
        (["--usacloud-timeout=0"], "argument --usacloud-timeout: must be a positive number"),
        (
            ["--usacloud-error-policy=sometimes"],
            "invalid choice: 'sometimes' (choose from 'continue', 'stop', 'critical')",
        ),
        (["--usacloud-progress=maybe"], "invalid choice: 'maybe' (choose from 'auto', 'on', 'off')"),
        (["--usacloud-rate-backend=ftp://x"], "--usacloud-rate-backend"),
        (["-n", "11"], "usacloud_max_workers"),
    ]
    for args, message in cases:
        result = e2e.usage_error(*args)
        assert message in result.stderr.str(), (args, result.stderr.str())
    assert e2e.calls() == []


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("usacloud_burst = zero", "ini usacloud_burst: "),
        ("usacloud_burst = 0", "ini usacloud_burst: must be at least 1, not 0"),
        ("usacloud_dry_run = maybe", "ini usacloud_dry_run: "),
        ("usacloud_timeout = -3", "ini usacloud_timeout: must be a positive number of seconds"),
        ("usacloud_retry_backoff = soon", "ini usacloud_retry_backoff: could not convert string to float: 'soon'"),
        (
            "usacloud_progress = maybe",
            "ini usacloud_progress: invalid choice: 'maybe' (choose from 'auto', 'on', 'off')",
        ),
    ],
)
def test_bad_ini_values_are_usage_errors_naming_the_key(e2e, ini, message):
    e2e.script("a.usacloud", "usacloud zone list\n")
    e2e.pytester.makeini(f"[pytest]\n{ini}\n")
    result = e2e.usage_error()
    assert message in result.stderr.str(), result.stderr.str()
    assert e2e.calls() == []


def test_a_boolean_from_the_ini_file_is_undone_on_the_command_line(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    e2e.pytester.makeini("[pytest]\nusacloud_dry_run = true\nusacloud_progress = OFF\nusacloud_burst = 2\n")
    e2e.run().assert_outcomes(passed=1)
    assert e2e.calls() == []  # the ini file's dry-run
    e2e.run("--no-usacloud-dry-run").assert_outcomes(passed=1)
    assert e2e.argvs() == [["zone", "list"]]


def test_every_boolean_option_has_its_no_form(e2e):
    from pytest_usacloud_sandbox.options import OPTIONS

    text = " ".join(e2e.pytester.runpytest_inprocess(*INNER_PLUGINS, "--help").stdout.str().split())
    for opt in OPTIONS:
        if opt.kind == "bool":
            assert f"{opt.flag}, --no-{opt.flag[2:]}" in text, opt.flag


@pytest.mark.parametrize("where", ["a-file/report.json", "a-dir"])
def test_an_unwritable_report_path_is_a_usage_error_before_anything_runs(e2e, where):
    e2e.script("a.usacloud", "usacloud zone list\n")
    (e2e.tmp / "a-file").write_text("")
    (e2e.tmp / "a-dir").mkdir()
    result = e2e.usage_error(f"--usacloud-report={e2e.tmp / where}")
    assert "--usacloud-report: " in result.stderr.str(), result.stderr.str()
    assert len(result.stderr.str().strip().splitlines()) == 1, result.stderr.str()
    assert e2e.calls() == []


def test_max_workers_ini_raises_the_cap(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    e2e.pytester.makeini("[pytest]\nusacloud_max_workers = 12\n")
    result = e2e.run("--collect-only", "-n", "11")
    assert result.ret == 0


@pytest.mark.parametrize("binary", ["/nonexistent/usacloud", "no-such-usacloud-binary", "NOT_EXECUTABLE"])
def test_missing_binary_is_one_usage_error(e2e, binary):
    e2e.script("a.usacloud", "usacloud zone list\n")
    e2e.script("b.usacloud", "usacloud zone list\n")
    if binary == "NOT_EXECUTABLE":
        path = e2e.tmp / "usacloud"
        path.write_text("#!/bin/sh\n")
        binary = str(path)
    result = e2e.usage_error(f"--usacloud-bin={binary}")  # the last --usacloud-bin given wins
    assert "--usacloud-bin" in result.stderr.str()
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()


def test_the_stand_in_is_what_runs(e2e):
    """Guard for the suite itself: the inner runs use the stand-in, never a real usacloud."""
    e2e.script("v.usacloud", "usacloud zone list\n")
    e2e.run().assert_outcomes(passed=1)
    assert e2e.calls()[0]["prog"] == str(STANDIN_BIN)


def test_each_option_fills_its_settings_field():
    from pytest_usacloud_sandbox.options import OPTIONS
    from pytest_usacloud_sandbox.settings import Settings

    fields = set(Settings.__dataclass_fields__)
    assert [o.attribute for o in OPTIONS if o.attribute not in fields] == []


def test_a_redirection_bash_could_not_open_fails_the_script_before_anything_runs(e2e):
    """bash never runs a command whose redirection it cannot open (and stops there under set -e);
    commands mode refuses such a script at that line, in a run, a dry-run and the lint alike."""
    e2e.script(
        "snapshot.usacloud",
        """
        set -euo pipefail
        usacloud switch list -o json > artifacts/switches-before.json
        usacloud switch create -y --name after-failed-redirect
        """,
    )
    e2e.script("fine.usacloud", "mkdir -p out\nusacloud zone list > zones.json\n")
    for args in ((), ("--usacloud-dry-run",)):
        result = e2e.run("--usacloud-error-policy=continue", *args)
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "invalid-script: line 2: the redirection `> artifacts/switches-before.json` of the usacloud command "
                "on line 2 cannot be opened (the directory artifacts/ does not exist, next to the script)*",
                "  at *snapshot.usacloud:2",
            ]
        )
    assert e2e.argvs() == [["zone", "list"]]  # the fine script's only
    assert not (e2e.dir / "zones.json").exists()  # commands mode does not write the file
