"""Classifying a command's result from its exit code and usacloud's stderr forms."""

import pytest

from pytest_usacloud_sandbox.usacloud import outcome as oc
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
        (result(0), oc.OK),
        (result(0, stdout="[]"), oc.OK),
        (result(0, stderr="auth-status is deprecated. Please use 'usacloud rest ...' instead."), oc.OK),
        (result(0, stderr="[WARN] --access-level flag is deprecated"), oc.OK),
        (result(1, api("401 Unauthorized")), oc.AUTH),
        (result(1, api("403 Forbidden")), oc.PERMISSION),
        (result(1, api("404 Not Found")), oc.NOT_FOUND),
        (result(1, api("409 Conflict", "still_creating")), oc.CONFLICT),
        (result(1, api("423 Locked")), oc.CONFLICT),
        (result(1, api("429 Too Many Requests")), oc.RATE_LIMITED),
        (result(1, api("503 Service Unavailable", "busy")), oc.UNAVAILABLE),
        (result(1, api("500 Internal Server Error")), oc.API_ERROR),
        (result(1, "\nerror in response: <html>bad gateway</html>\n"), oc.API_ERROR),
        (
            result(
                1,
                "\nGET https://secure.sakura.ad.jp/cloud/zone/tk1v/api/cloud/1.1/server "
                "giving up after 11 attempt(s)\n",
            ),
            oc.UNAVAILABLE,
        ),
        (result(1, '\ntarget resource not found: query=["web"]\n'), oc.NOT_FOUND),
        (
            result(1, "\nthe confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option\n"),
            oc.USAGE,
        ),
        (result(1, "\nvalidation error:\n\t--zone: required\n"), oc.USAGE),
        (result(1, '\nError: unknown command "foo" for "usacloud"\nRun \'usacloud --help\' for usage.\n'), oc.USAGE),
        (result(1, "\nError: unknown flag: --zone\n"), oc.USAGE),
        (result(1, "\nID or Name or Tags arguments are required\n"), oc.USAGE),
        (result(1, "\nin this operation, only a single target is allowed\n"), oc.USAGE),
        (result(1, "\ncommand[server/boot] timed out: context deadline exceeded\n"), oc.TIMEOUT),
        (result(0, '\nError: profile "ci" is not exist\n'), oc.CONFIG),
        (result(0, "\nprofile ci not found\n"), oc.CONFIG),
        (result(0, "\nprivate key file /k is too open\n"), oc.CONFIG),
        (result(2, "panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n"), oc.CRASHED),
        (result(-11, "", signal=11), oc.CRASHED),
        (result(None, launch_error="No such file or directory: usacloud"), oc.MISSING_BINARY),
        (result(-15, timed_out=True, signal=15), oc.TIMEOUT),
        (result(-15, cancelled=True, signal=15), oc.CANCELLED),
        (result(3, "something odd\n"), oc.ERROR),
    ],
)
def test_classify(res, cls):
    assert oc.classify(res).cls == cls


def test_hints_and_messages():
    confirm = oc.classify(
        result(1, "\nthe confirm dialog cannot be used without the terminal. Please use --assumeyes(-y) option\n")
    )
    assert confirm.hint == oc.CONFIRM_HINT
    auth = oc.classify(result(1, api("401 Unauthorized")))
    assert "SAKURACLOUD_ACCESS_TOKEN" in auth.hint
    assert auth.message.startswith("Error in response:")
    assert auth.critical
    assert not oc.classify(result(1, api("409 Conflict"))).critical
    assert oc.classify(result(None, launch_error="x")).critical


def test_first_error_line_prefers_error_lines():
    assert oc.first_error_line("\nnoise\nError: unknown flag: --x\n") == "Error: unknown flag: --x"
    assert oc.first_error_line("\n\n") == ""


def test_the_status_property_of_a_script():
    from pytest_usacloud_sandbox.report.teststatus import status
    from pytest_usacloud_sandbox.state import records as rec

    def record(status, *commands, cls=None):
        return rec.ScriptRecord(
            path="a.usacloud",
            nodeid="a.usacloud::a",
            status=status,
            cls=cls,
            commands=[rec.CommandRecord(line=n, text="usacloud x", status=c) for n, c in enumerate(commands, 1)],
        )

    assert status(record("passed", "ok", "ok")) == "passed"
    assert status(record("passed", "ok", "skipped")) == "partly run"
    assert status(record("failed", "ok", "skipped", cls="partly-run")) == "partly run"  # --usacloud-strict
    assert status(record("failed", "skipped", "failed", cls="not-found")) == "failed"  # it failed, whatever ran
    assert status(record("skipped", "skipped")) == "skipped"  # nothing ran
    assert status(record("cancelled", "ok", "cancelled")) == "cancelled"
