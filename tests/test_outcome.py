"""Classifying a command's result from its exit code and usacloud's stderr forms."""

import pytest
from transcript_tools import transcripts

from pytest_usacloud_sandbox.record.vocabulary import ResultClass
from pytest_usacloud_sandbox.usacloud.classify import CONFIRM_HINT, classify, classify_fake, first_error_line
from pytest_usacloud_sandbox.usacloud.result import RunResult


def result(code=1, stderr="", stdout="", **kw):
    base = dict(
        argv=("usacloud",),
        exit_code=code,
        signal=None,
        stdout=stdout,
        stderr=stderr,
        truncated=False,
        started=0.0,
        ended=1.0,
        duration=1.0,
    )
    base.update(kw)
    return RunResult(**base)


def api(status, code="x"):
    return (
        '\nError in response: &iaas.APIErrorResponse{IsFatal:true, Serial:"abc", '
        f'Status:"{status}", ErrorCode:"{code}", ErrorMessage:"m"}}\n\n'
    )


@pytest.mark.parametrize(
    ("res", "cls"),
    [
        (result(0), ResultClass.OK),
        (result(0, stdout="[]"), ResultClass.OK),
        (result(0, stderr="auth-status is deprecated. Please use 'usacloud rest ...' instead."), ResultClass.OK),
        (result(0, stderr="[WARN] --access-level flag is deprecated"), ResultClass.OK),
        (result(1, api("401 Unauthorized")), ResultClass.AUTH),
        (result(1, api("403 Forbidden")), ResultClass.PERMISSION),
        (result(1, api("404 Not Found")), ResultClass.NOT_FOUND),
        (result(1, api("409 Conflict", "still_creating")), ResultClass.CONFLICT),
        (result(1, api("423 Locked")), ResultClass.CONFLICT),
        (result(1, api("429 Too Many Requests")), ResultClass.RATE_LIMITED),
        (result(1, api("503 Service Unavailable", "busy")), ResultClass.UNAVAILABLE),
        (result(1, api("500 Internal Server Error")), ResultClass.API_ERROR),
        (result(1, "\nerror in response: <html>bad gateway</html>\n"), ResultClass.API_ERROR),
        (
            result(
                1,
                "\nGET https://secure.sakura.ad.jp/cloud/zone/tk1v/api/cloud/1.1/server "
                "giving up after 11 attempt(s)\n",
            ),
            ResultClass.UNAVAILABLE,
        ),
        (result(1, '\ntarget resource not found: query=["web"]\n'), ResultClass.NOT_FOUND),
        (
            result(1, "\nthe confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option\n"),
            ResultClass.USAGE,
        ),
        (result(1, "\nvalidation error:\n\t--zone: required\n"), ResultClass.USAGE),
        (
            result(1, '\nError: unknown command "foo" for "usacloud"\nRun \'usacloud --help\' for usage.\n'),
            ResultClass.USAGE,
        ),
        (result(1, "\nError: unknown flag: --zone\n"), ResultClass.USAGE),
        (result(1, "\nID or Name or Tags arguments are required\n"), ResultClass.USAGE),
        (result(1, "\nin this operation, only a single target is allowed\n"), ResultClass.USAGE),
        (result(1, "\ncommand[server/boot] timed out: context deadline exceeded\n"), ResultClass.TIMEOUT),
        (result(0, '\nError: profile "ci" is not exist\n'), ResultClass.CONFIG),
        (result(0, "\nprofile ci not found\n"), ResultClass.CONFIG),
        (result(0, "\nprivate key file /k is too open\n"), ResultClass.CONFIG),
        (result(0, "\ninvalid default output type: csv\n"), ResultClass.USAGE),
        (result(0, "\n--parameters: invalid JSON\n"), ResultClass.USAGE),
        (result(2, "panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n"), ResultClass.CRASHED),
        (result(-11, "", signal=11), ResultClass.CRASHED),
        (result(None, launch_error="No such file or directory: usacloud"), ResultClass.MISSING_BINARY),
        (result(-15, timed_out=True, signal=15), ResultClass.TIMEOUT),
        (result(-15, cancelled=True, signal=15), ResultClass.CANCELLED),
        (result(3, "something odd\n"), ResultClass.ERROR),
    ],
)
def test_classify(res, cls):
    assert classify(res).cls == cls


def test_hints_and_messages():
    confirm = classify(
        result(1, "\nthe confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option\n")
    )
    assert confirm.hint == CONFIRM_HINT
    auth = classify(result(1, api("401 Unauthorized")))
    assert "SAKURACLOUD_ACCESS_TOKEN" in auth.hint
    assert auth.message.startswith("Error in response:")
    assert auth.critical
    assert not classify(result(1, api("409 Conflict"))).critical
    assert classify(result(None, launch_error="x")).critical


def test_first_error_line_prefers_error_lines():
    assert first_error_line("\nnoise\nError: unknown flag: --x\n") == "Error: unknown flag: --x"
    assert first_error_line("\n\n") == ""


# -- errors that exit 0 (usacloud 1.22.8 prints its set-up errors and exits 0 having run nothing) --

#: The recorded calls that exited 0 without doing their work (their purpose says so), with the class
#: the plugin must give them. Every other call that exited 0 did its work and must count as ok.
EXIT0_FAILURES = {
    "prof-default-emptydir": ResultClass.CONFIG,
    "prof-default-emptydir-read-missing": ResultClass.CONFIG,
    "prof-default-emptydir-nofake-closed": ResultClass.CONFIG,
    "prof-default-nodir": ResultClass.CONFIG,
    "prof-usacloud-profile-default": ResultClass.CONFIG,
    "prof-flag-default-emptydir": ResultClass.CONFIG,
    "prof-dir-dotusacloud": ResultClass.CONFIG,
    "prof-home-current": ResultClass.CONFIG,
    "exit0-output-type-env": ResultClass.USAGE,  # a setting: it may be the script's own (a VAR=value prefix)
    "exit0-private-key-open": ResultClass.CONFIG,
    "exit0-parameters-bad-json": ResultClass.USAGE,
    "exit0-parameters-missing-file": ResultClass.USAGE,
    "create-params-bad": ResultClass.USAGE,
}


def recorded(t) -> RunResult:
    return result(t["rc"], stderr=t["stderr"], stdout=t["stdout"])


def test_every_recorded_call_that_exited_0_is_judged_by_what_it_did():
    """Both sides, on the real usacloud's own output: each exit-0 error fails with its class and its
    message first; every call that exited 0 and did its work (auth-status's deprecation warning
    included) is ok."""
    exited_0 = {i: t for i, t in transcripts().items() if t["rc"] == 0}
    assert set(EXIT0_FAILURES) <= set(exited_0)
    wrong = {}
    for ident, t in exited_0.items():
        got = classify(recorded(t))
        expected = EXIT0_FAILURES.get(ident, ResultClass.OK)
        if got.cls != expected:
            wrong[ident] = (got.cls, got.message)
        elif expected != ResultClass.OK:
            assert got.message[:16] in t["stderr"], ident  # usacloud's own message, first
            assert "exited 0 without running" in got.message and got.hint
    assert wrong == {}
    assert any("[WARN]" in t["stderr"] for i, t in exited_0.items() if i not in EXIT0_FAILURES)


@pytest.mark.parametrize(
    ("ident", "message"),
    [
        ("prof-default-emptydir", "API Error - failed to open default/config.json: openat default/config.json:"),
        ("prof-home-current", "API Error - failed to open other/config.json:"),  # glued after a [WARN]
        ("exit0-private-key-open", "API Error - private key file $CWD/k.pem permission is too lax: 644"),
        ("exit0-output-type-env", "validation error: profile.DefaultOutputType: must be one of [table/json/yaml]"),
        ("exit0-parameters-bad-json", "invalid character 'b' looking for beginning of object key string"),
        ("exit0-parameters-missing-file", "invalid character 'o' in literal null (expecting 'u')"),
    ],
)
def test_an_exit0_error_names_its_message_first(ident, message):
    got = classify(recorded(transcripts()[ident]))
    assert got.message.startswith(message)


def test_the_noise_of_a_working_command_is_no_error():
    """`--zones` prints a Go flag error, a usage block and a [WARN] on stderr and still works (the
    recorded call failed only on its --zone): without its validation lines, exit 0 is ok."""
    stderr = transcripts()["zone-zones-flag"]["stderr"]
    noise = stderr[: stderr.index("validation error:")]
    assert "[WARN] argv reconstrcution failed" in noise and "Usage of saclient-go:" in noise
    assert classify(result(0, stderr=noise, stdout="100000000005\n")).cls == ResultClass.OK
    # a [WARN] alone is no error; a profile that failed to load is
    assert classify(result(0, stderr='[WARN] reading value of "profile" flag is failed: x\n')).cls == ResultClass.OK
    failed = classify(result(0, stderr='[WARN] loading profile "ci" is failed: profile "ci" is not exists'))
    assert failed.cls == ResultClass.CONFIG and failed.message.startswith('[WARN] loading profile "ci" is failed')


def test_a_validation_error_message_carries_its_problems():
    got = classify(result(1, "\nvalidation error:\n\t--commitment: oneof=standard dedicatedcpu\n\t--name: required\n"))
    assert got.message == "validation error: --commitment: oneof=standard dedicatedcpu; --name: required"


def test_a_panic_in_the_fake_drivers_operation_is_a_limit_of_fake_mode():
    from standin_tools import FAKE_SHARED_SEGMENT_PANIC

    panic = result(2, FAKE_SHARED_SEGMENT_PANIC)
    out = classify_fake(panic, "output", False)
    assert out.cls == ResultClass.FAKE_LIMIT and not out.ok and not out.critical
    assert out.message.startswith("usacloud's fake driver panicked in InterfaceOp.ConnectToSharedSegment: ")
    assert "shared segment" in out.message
    assert "fake mode" in out.hint
    assert classify(panic).cls == ResultClass.CRASHED  # outside fake mode a panic is a crash


@pytest.mark.parametrize(
    "stderr",
    [
        # a broken store file: the fake driver's store, not one of its operations
        "panic: unexpected end of JSON input\n\ngoroutine 1 [running]:\n"
        "github.com/sacloud/iaas-api-go/fake.(*JSONFileStore).load(0xc0001a2000)\n\t/x/store_json.go:214 +0x1c5\n",
        # a panic elsewhere (--trace with an unreachable API)
        "panic: runtime error: invalid memory address or nil pointer dereference\n\ngoroutine 7 [running]:\n"
        "github.com/sacloud/saclient-go.(*doer).retryableClient.func1({0x1c5fa78?}, 0x0)\n\t/x/handle_retries.go:102\n",
        # the fake driver's frame below the panicking one
        "panic: boom\n\ngoroutine 3 [running]:\nmain.main()\n\t/x/main.go:1\n"
        "github.com/sacloud/iaas-api-go/fake.(*ServerOp).Create(0x1)\n\t/x/ops_server.go:87\n",
    ],
)
def test_other_panics_in_fake_mode_stay_crashes(stderr):
    assert classify_fake(result(2, stderr), "output", False).cls == ResultClass.CRASHED


def test_the_panic_text_is_the_transcripts():
    import json

    from standin_tools import FAKE_SHARED_SEGMENT_PANIC, shared_file

    records = [json.loads(line) for line in shared_file("usacloud-transcripts.jsonl").open(encoding="utf-8")]
    (record,) = [r for r in records if r["id"] == "ss-server-shared"]
    assert record["rc"] == 2 and record["stderr"].startswith(FAKE_SHARED_SEGMENT_PANIC)
    assert classify_fake(result(2, record["stderr"]), "output", False).cls == ResultClass.FAKE_LIMIT


def test_the_status_property_of_a_script():
    from pytest_usacloud_sandbox.record.command import CommandRecord
    from pytest_usacloud_sandbox.record.script import ScriptRecord
    from pytest_usacloud_sandbox.report.teststatus import status

    def record(status, *commands, cls=None):
        return ScriptRecord(
            path="a.usacloud",
            nodeid="a.usacloud::a",
            status=status,
            cls=cls,
            commands=[CommandRecord(line=n, text="usacloud x", status=c) for n, c in enumerate(commands, 1)],
        )

    assert status(record("passed", "ok", "ok")) == "passed"
    assert status(record("passed", "ok", "skipped")) == "partly run"
    assert status(record("failed", "ok", "skipped", cls="partly-run")) == "partly run"  # --usacloud-strict
    assert status(record("failed", "skipped", "failed", cls="not-found")) == "failed"  # it failed, whatever ran
    assert status(record("skipped", "skipped")) == "skipped"  # nothing ran
    assert status(record("cancelled", "ok", "cancelled")) == "cancelled"
