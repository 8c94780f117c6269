"""``usacloud-lint``: the dry-run's verdicts without pytest, one line per problem, and a fast start."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from built_package import run_process

from pytest_usacloud_sandbox.lint.cli import main
from pytest_usacloud_sandbox.script.parse import parse_markers

ROOT = Path(__file__).resolve().parent.parent

#: scripts that fail the dry-run in each way it knows, and a few that pass
SCRIPTS = {
    "bad-zone.usacloud": "#!/bin/bash\n\nusacloud server list --zone is1z\nusacloud zone list\n",
    "refused-and-invalid.usacloud": "usacloud server delete --zone is1z web\n",
    "loop.usacloud": "for n in a b; do\n  usacloud switch create -y --name x\ndone\n",
    "shell-marked.usacloud": (
        '# pytest.mark.usacloud_shell\nfor n in a b; do\n  usacloud switch create -y --name "$n"\ndone\n'
        "usacloud server lsit\n"
    ),
    "quote.usacloud": "usacloud zone list\nusacloud server list --names 'web\n",
    "needs-shell.usacloud": 'usacloud server read "$ID"\n',
    "env-prefix.usacloud": "SAKURACLOUD_API_ROOT_URL=http://x usacloud zone list\n",
    "params.usacloud": (
        "usacloud switch create -y --parameters noname.json\nusacloud switch create -y --parameters sw.json\n"
    ),
    "rest.usacloud": "usacloud rest --method get /cloud/zone/tk1v/api/cloud/1.1/zone\n",
    "global-write.usacloud": "usacloud note create -y --name n --class shell --content x\n",
    "warning-only.usacloud": "usacloud iso-image list --zone tk1v\n",
    "bad-marker.usacloud": "# pytest.mark.xfail(reason=\n usacloud zone list\n",
    "empty.usacloud": "",
    "reads-file.usacloud": "usacloud zone list --format /proc/self/cwd/tpl.txt\n",
    "upload.usacloud": "usacloud archive create -y --name a --size 20 --source-file /proc/self/environ\n",
}
#: fields of a script's record that depend on where and when it ran, or on pytest (xfail)
VOLATILE = {"path", "nodeid", "worker", "start", "end", "duration", "outcome", "token_wait"}


def write_scripts(where: Path) -> None:
    shutil.copytree(ROOT / "examples", where, dirs_exist_ok=True)
    for name, text in SCRIPTS.items():
        (where / name).write_text(text)
    (where / "nul.usacloud").write_bytes(b"usacloud zone list\nusacloud re\x00gion list\n")
    (where / "noname.json").write_text(json.dumps({"Zone": "tk1v"}))
    (where / "sw.json").write_text(json.dumps({"Name": "sw1", "Zone": "tk1v"}))


def lint(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _skip_marked(path: Path) -> bool:
    """pytest skips the script before it runs (a marker): the dry-run has no record of it to compare."""
    try:
        return any(m.name in ("skip", "skipif") for m in parse_markers(path.read_text()))
    except Exception:
        return False


def _comparable(script: dict) -> dict:
    """The record without what differs between two runs: times, paths, and the run's id in its tags."""
    text = re.sub(r"usacloud-run=[0-9A-Za-z]{12}-[0-9a-fx]{6}", "usacloud-run=RUN", json.dumps(script))
    return {k: v for k, v in json.loads(text).items() if k not in VOLATILE}


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--usacloud-allow-dangerous", "--usacloud-allow-global-writes"),
        ("--usacloud-fake",),
        ("--usacloud-mode=shell",),
    ],
)
def test_the_lint_gives_the_dry_runs_records_for_every_script(e2e, capsys, options):
    write_scripts(e2e.dir)
    report = e2e.tmp / "report.json"
    e2e.run("--usacloud-dry-run", f"--usacloud-report={report}", *options)
    capsys.readouterr()  # the inner run's output
    dry = {Path(s["path"]).name: s for s in json.loads(report.read_text())["scripts"]}
    code, out, _ = lint(capsys, "--format=json", *options, e2e.dir)
    linted = {Path(s["path"]).name: s for s in json.loads(out)["scripts"]}
    assert sorted(linted) == sorted(p.name for p in e2e.dir.glob("*.usacloud"))
    compared = [name for name in linted if not _skip_marked(e2e.dir / name)]
    assert len(compared) >= len(SCRIPTS) + 10
    for name in compared:
        assert _comparable(linted[name]) == _comparable(dry[name]), name
    failed = {name for name in compared if dry[name]["status"] == "failed"}
    problems = json.loads(out)["problems"]
    assert {Path(p["path"]).name for p in problems if p["severity"] == "error"} == failed
    assert code == 1 and len(failed) >= 6


def test_one_line_per_problem_at_its_word(tmp_path, capsys):
    script = tmp_path / "a.usacloud"
    script.write_text(
        "#!/bin/bash\n\nusacloud server list --zone is1z\n"
        "usacloud iso-image list\n"
        "  usacloud \\\n   switch lsit\n"
        "usacloud server delete -y --zone tk1v --argument-match-mode exact web\n"
    )
    code, out, err = lint(capsys, script)
    assert code == 1
    assert out.splitlines() == [
        f"{script}:3:22: bad-zone: unknown zone `is1z`: one of all, tk1a, tk1b, is1a, is1b, is1c, tk1v; "
        "did you mean is1a, is1b, is1c? (fix: is1a)",
        f"{script}:4:10: deprecated-alias: warning: `iso-image` is a deprecated v0 alias of `cdrom`; use `cdrom` "
        "(fix: cdrom)",
        f"{script}:6:11: unknown-subcommand: `lsit` is not a subcommand of `switch`; did you mean list? (fix: list)",
        f"{script}:7:1: refused: refused by the sandbox policy (dangerous): `server delete` is a destructive "
        "subcommand; --usacloud-allow-dangerous (ini too) allows it",
    ]
    assert err == "usacloud-lint: 3 errors in 1 of 1 script (1 warning)\n"
    code, out, _ = lint(capsys, "--no-warnings", "--allow-dangerous", script)
    assert code == 1 and len(out.splitlines()) == 2 and "warning" not in out and "refused" not in out


def test_exit_status_clean_warnings_problems_and_usage(tmp_path, capsys):
    clean, warned, bad = tmp_path / "clean.usacloud", tmp_path / "warned.usacloud", tmp_path / "bad.usacloud"
    clean.write_text("usacloud zone list\n")
    warned.write_text("usacloud iso-image list --zone tk1v\n")
    bad.write_text("usacloud zone lsit\n")
    assert lint(capsys, clean)[0] == 0
    code, out, err = lint(capsys, warned)
    assert code == 0 and "deprecated-alias: warning:" in out and "no errors (1 warning)" in err
    assert lint(capsys, clean, bad)[0] == 1
    code, _, err = lint(capsys, tmp_path / "missing.usacloud", clean)
    assert code == 2 and "no such file or directory" in err and "missing.usacloud" in err
    assert lint(capsys, "--max-script-bytes=0", clean)[0] == 2
    (tmp_path / "empty").mkdir()
    code, out, err = lint(capsys, tmp_path / "empty")
    assert code == 2 and out == "" and "no scripts found: no file matches '*.usacloud' under" in err
    with pytest.raises(SystemExit) as exc:
        main(["--format=xml", str(clean)])
    assert exc.value.code == 2


def test_the_policy_options_and_no_policy(tmp_path, capsys):
    script = tmp_path / "a.usacloud"
    script.write_text(
        "usacloud server delete -y --zone tk1v web\nusacloud note create -y --name n --class shell --content x\n"
    )
    code, out, _ = lint(capsys, script)
    assert code == 1 and out.count(": refused: ") == 2
    code, out, _ = lint(capsys, "--allow-dangerous", script)
    assert code == 1 and out.count(": refused: ") == 1 and "(global-write)" in out
    assert lint(capsys, "--usacloud-allow-dangerous", "--usacloud-allow-global-writes", script)[0] == 0
    assert lint(capsys, "--no-policy", script)[0] == 0
    script.write_text("usacloud server delete -y --zone is1z web\n")  # the command tree still counts
    code, out, _ = lint(capsys, "--no-policy", script)
    assert code == 1 and ": bad-zone: " in out and "refused" not in out


def test_commands_mode_holds_scripts_to_straight_lines_unless_marked_or_shell_mode(tmp_path, capsys):
    loop = tmp_path / "loop.usacloud"
    loop.write_text("for n in a b; do\n  usacloud switch create -y --name x\ndone\n")
    code, out, _ = lint(capsys, loop)
    assert code == 1 and out.startswith(f"{loop}:1:1: invalid-script: line 1: the usacloud command on line 2 runs")
    assert lint(capsys, "--mode=shell", loop)[0] == 0
    loop.write_text("#!/bin/bash\n# pytest.mark.usacloud_shell\n" + loop.read_text())
    assert lint(capsys, loop)[0] == 0


def test_scripts_are_found_by_glob_and_named_files_always_checked(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.usacloud").write_text("usacloud zone lsit\n")
    (tmp_path / "b.sh").write_text("usacloud region lsit\n")
    for skipped in (".git", "node_modules", "env"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "c.usacloud").write_text("usacloud server lsit\n")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")  # a virtual environment, as pytest skips
    _, out, err = lint(capsys, tmp_path)
    assert "sub/a.usacloud:1:15: unknown-subcommand" in out and "b.sh" not in out and "c.usacloud" not in out
    assert "in 1 of 1 script" in err
    _, out, _ = lint(capsys, "--glob=*.sh", tmp_path)
    assert "b.sh:1:17: unknown-subcommand" in out and "a.usacloud" not in out
    _, out, err = lint(capsys, tmp_path / "b.sh", tmp_path, tmp_path / "sub" / "a.usacloud")
    assert out.count("b.sh:") == 1 and out.count("a.usacloud:") == 1 and "of 2 scripts" in err


def test_bad_input_is_a_problem_of_that_script_and_the_others_go_on(tmp_path, capsys):
    (tmp_path / "nul.usacloud").write_bytes(b"usacloud zone list\nusacloud re\x00gion list\n")
    (tmp_path / "big.usacloud").write_text("usacloud zone list\n" * 10)
    (tmp_path / "dir.usacloud").mkdir()
    (tmp_path / "good.usacloud").write_text("usacloud zone list\n")
    code, out, err = lint(capsys, "--max-script-bytes=100", tmp_path, tmp_path / "dir.usacloud" / "..")
    assert code == 1
    assert f"{tmp_path}/nul.usacloud:2:1: invalid-script: NUL byte at line 2, column 12: not a text script" in out
    assert f"{tmp_path}/big.usacloud:1:1: invalid-script: script is 190 bytes (over the limit of 100;" in out
    assert "good.usacloud" not in out and "2 errors in 2 of 3 scripts" in err


def test_github_annotations_are_escaped_and_relative_to_the_workspace(tmp_path, capsys, monkeypatch):
    scripts = tmp_path / "repo" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "a,b.usacloud").write_text("usacloud server list --zone is1z\nusacloud iso-image list --zone tk1v\n")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "repo"))
    code, out, err = lint(capsys, "--format=github", scripts)
    first, second = out.splitlines()
    assert code == 1 and err == ""
    assert first.startswith("::error file=scripts/a%2Cb.usacloud,line=1,col=22,title=usacloud-lint bad-zone::")
    assert "unknown zone `is1z`" in first
    assert second.startswith(
        "::warning file=scripts/a%2Cb.usacloud,line=2,col=10,title=usacloud-lint deprecated-alias::"
    )


def test_json_records_follow_the_reports_schema(tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    from pytest_usacloud_sandbox.report.schema import SCHEMA

    write_scripts(tmp_path)
    code, out, _ = lint(capsys, "--format=json", tmp_path)
    doc = json.loads(out)
    validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/script", "$defs": SCHEMA["$defs"]})
    for script in doc["scripts"]:
        validator.validate(script)
    outcomes = {Path(s["path"]).name: s["outcome"] for s in doc["scripts"]}
    assert outcomes["bad-zone.usacloud"] == "failed" and outcomes["needs-shell.usacloud"] == "skipped"
    assert outcomes["01-zones-and-plans.usacloud"] == "passed"
    assert {"path", "line", "col", "rule", "message", "severity"} == set(doc["problems"][0])
    assert code == 1


def test_secrets_never_reach_the_output(tmp_path, capsys, monkeypatch):
    token, secret = "tok-0123456789abcdef", "sec-0123456789abcdef"
    monkeypatch.setenv("SAKURACLOUD_ACCESS_TOKEN", token)
    script = tmp_path / "a.usacloud"
    script.write_text(
        f"usacloud server list {token} --zone {token}\n"
        f"usacloud server create --password {secret} --bogus 1\n"
        f"usacloud server lsit 'unterminated {token}\n"
    )
    for fmt in ("text", "github", "json"):
        code, out, err = lint(capsys, f"--format={fmt}", script)
        assert code == 1 and out
        assert token not in out + err and secret not in out + err, fmt


def test_a_control_sequence_in_a_script_is_not_sent_to_the_terminal(tmp_path, capsys):
    script = tmp_path / "a.usacloud"
    script.write_text("usacloud server lsit $'\\e[31mred'\nusacloud zone lsit $'a\\nb'\n")
    _, out, _ = lint(capsys, script)
    assert "\x1b" not in out and len(out.splitlines()) == 2


def test_python_m_runs_the_lint_without_importing_pytest_or_xdist(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    argv = [sys.executable, "-X", "importtime", "-m", "pytest_usacloud_sandbox", "examples"]
    done = run_process(argv, tmp_path, {**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1, done.stderr  # the examples that fail on purpose
    assert "09-typo-fails.usacloud:5:17: unknown-subcommand" in done.stdout
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", done.stderr, re.M))
    assert "pytest_usacloud_sandbox.lint.check" in imported and "pytest_usacloud_sandbox.usacloud.plan" in imported
    banned = {"pytest", "_pytest", "xdist", "execnet", "pluggy", "filelock", "pyrate_limiter", "redis"}
    assert {name.split(".")[0] for name in imported} & banned == set()
