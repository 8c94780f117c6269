"""usacloud reads no profile in the sandbox: a place nothing can write, checked before every call;
`config` commands that write profiles need --usacloud-allow-profiles (never in fake mode)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_usacloud_sandbox.usacloud import profiles
from pytest_usacloud_sandbox.usacloud.policy import GLOBAL_WRITES_OPTION, PROFILES_OPTION, Policy


def test_the_place_with_no_profiles_cannot_be_made_by_anyone():
    """Under /proc/self the kernel creates nothing, for root too: no script can plant a profile there."""
    assert profiles.planted() is None and not os.path.lexists(profiles.NO_PROFILES)
    with pytest.raises(OSError):
        os.makedirs(Path(profiles.NO_PROFILES) / "default")
    with pytest.raises(OSError):
        Path(profiles.NO_PROFILES, "current").write_text("default\n")
    assert profiles.planted() is None


def test_a_place_that_exists_is_planted(tmp_path):
    assert "exists: usacloud could read a profile there" in profiles.planted(str(tmp_path))
    assert profiles.pins({"SAKURA_PROFILE_DIR": profiles.NO_PROFILES}) and not profiles.pins({"HOME": "/root"})


@pytest.mark.parametrize(
    "words",
    [
        "usacloud config create --name p1 --token t --secret s",
        "usacloud config use p1",
        "usacloud config edit p1",
        "usacloud profile create --name p2",
        "usacloud config",  # its default subcommand is edit
    ],
)
def test_profile_writes_need_allow_profiles_not_global_writes(words):
    argv = words.split()
    refusal = Policy(allow_global_writes=True, allow_dangerous=True).apply(argv).refusal
    assert refusal is not None and refusal.rule == "profile-write" and refusal.options == (PROFILES_OPTION,)
    assert Policy(allow_profiles=True).apply(argv).refusal is None  # not a global write of the API
    fake = Policy(allow_profiles=True, allow_global_writes=True, fake=True).apply(argv).refusal
    assert fake is not None and fake.rule == "profile-write" and fake.options == ()


def test_profile_reads_run_and_deleting_one_is_dangerous_too():
    for words in ("usacloud config list", "usacloud config current", "usacloud config show p1"):
        assert Policy().apply(words.split()).refusal is None
    delete = ["usacloud", "config", "delete", "-y", "p1"]
    assert Policy(allow_dangerous=True).apply(delete).refusal.rule == "profile-write"
    assert Policy(allow_profiles=True).apply(delete).refusal.rule == "dangerous"
    assert GLOBAL_WRITES_OPTION not in Policy(allow_profiles=True).apply(delete).refusal.options


def test_shell_mode_cannot_plant_a_profile_for_later_calls(e2e):
    """The profile directory bash is told about is the one every call uses, and nothing can write it:
    a `default/config.json` with TraceMode (or a `current`) written there would make every later
    call of the run print the key's HTTP credentials."""
    out = e2e.tmp / "out"
    e2e.shell_script(
        "plant.usacloud",
        f"""
        echo "$SAKURACLOUD_PROFILE_DIR $SAKURA_PROFILE_DIR $USACLOUD_PROFILE_DIR" > {out}
        mkdir -p "$SAKURACLOUD_PROFILE_DIR/default" 2>/dev/null || echo "mkdir: $?" >> {out}
        P=$SAKURACLOUD_PROFILE_DIR
        echo '{{"TraceMode": "all"}}' > "$P/default/config.json" 2>/dev/null || echo "write: $?" >> {out}
        echo default > "$SAKURACLOUD_PROFILE_DIR/current" 2>/dev/null || echo "current: $?" >> {out}
        usacloud zone list -q > /dev/null
        """,
    )
    e2e.script("other.usacloud", "usacloud zone list -q\n")
    e2e.run().assert_outcomes(passed=2)
    where = " ".join([profiles.NO_PROFILES] * 3)
    assert out.read_text().splitlines() == [where, "mkdir: 1", "write: 1", "current: 1"]
    calls = e2e.calls()
    assert len(calls) == 2 and all(c["auth"]["profile_file"] is None for c in calls)


def test_no_call_runs_where_a_profile_could_be_read(e2e, monkeypatch, tmp_path):
    """Checked before every call: were the place there (a /proc that is not procfs), nothing runs."""
    planted = tmp_path / "planted"
    (planted / "default").mkdir(parents=True)
    (planted / "default" / "config.json").write_text(json.dumps({"TraceMode": "all"}))
    monkeypatch.setattr(profiles, "NO_PROFILES", str(planted))
    e2e.script("a.usacloud", "usacloud zone list -q\n")
    e2e.shell_script("b.usacloud", "usacloud zone list -q\n")
    report = e2e.tmp / "report.json"
    result = e2e.run("--no-usacloud-preflight", f"--usacloud-report={report}", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=2)
    assert e2e.calls() == []
    for script in json.loads(report.read_text())["scripts"]:
        (cmd,) = script["commands"]
        assert cmd["status"] == "failed" and cmd["message"].startswith(f"not run: {planted} exists"), cmd
