"""Shell mode keeps the key out of the script and refuses what usacloud would turn against the zone:
credential variables, ``--trace``, empty targets after expansion, other scripts' sockets."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from standin_tools import FAKE_PEM, REAL_DATABASE_YAML, REAL_FTP_TABLE

from pytest_usacloud_sandbox.usacloud.mask import SECRET_ENV


def test_an_empty_captured_id_never_reaches_usacloud(e2e):
    """`delete -y "$ID"` with an ID that came back empty would delete every switch of the zone."""
    out = e2e.tmp / "out"
    e2e.shell_script(
        "empty.usacloud",
        f"""
        usacloud switch create -y --name web-sw -q > /dev/null
        ID=$(usacloud switch list --names no-such-switch -q)
        usacloud switch delete -y "$ID" || echo "refused: $?" > {out}
        usacloud switch delete -y " $ID " || echo "refused: $?" >> {out}
        usacloud switch read web-sw -q > /dev/null
        """,
    )
    result = e2e.run("--usacloud-allow-dangerous", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    assert out.read_text() == "refused: 1\nrefused: 1\n"
    assert [a[:2] for a in e2e.argvs()] == [["switch", "create"], ["switch", "list"], ["switch", "read"]]
    result.stdout.fnmatch_lines(
        [
            "refused: a usacloud call failed and the script went on: refused by the sandbox policy (empty-target): "
            "target argument 1 of `switch delete` is empty: usacloud matches an empty ID|NAME|TAG against every "
            "switch in the zone*no option allows it",
            "*also line 5: refused*(empty-target)*is blank*",
        ]
    )


def credentials() -> dict[str, str]:
    """A value for every credential variable usacloud reads (the private keys: a PEM)."""
    values = {name: f"cred-{n:02d}-{name.lower().replace('_', '-')}" for n, name in enumerate(SECRET_ENV)}
    values["SAKURA_PRIVATE_KEY"] = values["SAKURACLOUD_PRIVATE_KEY"] = FAKE_PEM
    return values


def leaked(text: str, values) -> list[str]:
    return [line for value in values for line in value.splitlines() if "PRIVATE KEY" not in line and line in text]


def test_no_credential_variable_reaches_bash_and_none_is_printed(e2e):
    creds = credentials()
    e2e.env(**creds)
    e2e.shell_script(
        "env.usacloud",
        """
        usacloud zone list -q > /dev/null
        env | sort
        printf '%s\\n' "key: ${SAKURA_PRIVATE_KEY:-none}" "id: ${SAKURACLOUD_SERVICE_PRINCIPAL_ID:-none}"
        exit 1
        """,
    )
    junit = e2e.tmp / "junit.xml"
    result = e2e.run(f"--junitxml={junit}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*key: none", "*id: none"])
    assert leaked(result.stdout.str() + result.stderr.str() + junit.read_text(), creds.values()) == []
    assert [c["exit"] for c in e2e.calls()] == [0]


def test_credentials_usacloud_prints_are_masked_in_commands_mode(e2e):
    creds = credentials()
    e2e.env(**creds)
    printed = "\n".join(creds.values())
    e2e.rules([{"match": "zone list", "exit": 1, "stderr": f"Error: {printed}\n"}])
    e2e.script("print.usacloud", "usacloud zone list\n")
    junit, report = e2e.tmp / "junit.xml", e2e.tmp / "report.json"
    result = e2e.run(f"--junitxml={junit}", f"--usacloud-report={report}", "-vv")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str() + junit.read_text() + report.read_text()
    assert "***" in text and leaked(text, creds.values()) == []


def basic(token: str, secret: str) -> str:
    return base64.b64encode(f"{token}:{secret}".encode()).decode()


def test_trace_is_refused_in_shell_mode_and_the_runs_own_trace_is_dropped(e2e):
    """The trace would print `Authorization: Basic base64(token:secret)` on the script's stderr."""
    token, secret = "tok-5d1e0c9a7b33", "sec-e2a94f10c6b8"
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=token, SAKURACLOUD_ACCESS_TOKEN_SECRET=secret)
    logs = e2e.tmp / "logs"
    logs.mkdir()
    e2e.shell_script(
        "trace.usacloud",
        f"""
        usacloud --trace zone list -q 2> {logs}/flag.log || echo "refused: $?" >> {logs}/status
        usacloud -trace zone list -q 2> {logs}/short.log || echo "refused: $?" >> {logs}/status
        usacloud server list --names -- --trace 2> {logs}/dashdash.log || echo "refused: $?" >> {logs}/status
        usacloud zone list -q 2> {logs}/env.log > /dev/null && echo "ran: $?" >> {logs}/status
        """,
    )
    e2e.env(SAKURACLOUD_TRACE="1")  # the run's own trace: dropped for shell-mode calls
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    assert (logs / "status").read_text().splitlines() == ["refused: 1", "refused: 1", "refused: 1", "ran: 0"]
    written = "".join(p.read_text() for p in logs.iterdir())
    assert basic(token, secret) not in written and "[TRACE]" not in written
    assert "refused by the sandbox policy (trace): `--trace` prints the API key's HTTP credentials" in written
    assert [c["argv"] for c in e2e.calls()] == [["zone", "list", "-q"]]


def test_commands_mode_masks_the_trace(e2e):
    token, secret = "tok-77c0e1d2a9f4", "sec-0d6b3e8f21aa"
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=token, SAKURACLOUD_ACCESS_TOKEN_SECRET=secret)
    e2e.script("trace.usacloud", "usacloud --trace zone list -q\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", "-vv")
    result.assert_outcomes(passed=1)
    text = result.stdout.str() + report.read_text()
    assert "Authorization:[Basic ***]" in text and basic(token, secret) not in text


def test_output_options_that_read_a_file_are_refused_in_both_modes(e2e):
    """`--format FILE`, `--query FILE` and the template function `file` would print usacloud's own
    /proc/self/environ (the API key): to the script itself in shell mode, encoded past the masker
    in commands mode."""
    lines = [
        "usacloud zone list --format /proc/self/environ",
        "usacloud zone list --fmt=~/template.txt",
        """usacloud zone list --format '{{$e := file "/proc/self/environ"}}{{printf "%x" $e}}'""",
        "usacloud zone list -o json --query-driver jq --query query.jq",
    ]
    home = e2e.tmp / "home"
    home.mkdir()
    (home / "template.txt").write_text("{{.Name}}")
    e2e.env(HOME=home)
    out = e2e.tmp / "status"
    e2e.shell_script("shell.usacloud", "".join(f"{line} || echo $? >> {out}\n" for line in lines))
    (e2e.dir / "query.jq").write_text(".[0].Name")
    for n, line in enumerate(lines):
        e2e.script(f"commands{n}.usacloud", line + "\n")
    report = e2e.tmp / "report.json"
    result = e2e.run("--usacloud-error-policy=continue", f"--usacloud-report={report}")
    result.assert_outcomes(failed=len(lines) + 1)
    assert out.read_text() == "1\n" * len(lines)
    assert e2e.calls() == []
    scripts = {Path(s["path"]).stem: s for s in json.loads(report.read_text())["scripts"]}
    expected = [
        "`--format /proc/self/environ` names a path in /proc: what such a path means depends on the process",
        f"`--fmt ~/template.txt` names {home / 'template.txt'}, outside the script's directory ({e2e.dir}): "
        "usacloud reads it as the template",
        "the `--format` template calls `file`, which prints a local file into usacloud's output",
        f"`--query query.jq` names a file ({e2e.dir / 'query.jq'}): usacloud would read it as the query",
    ]
    shell = [c["message"] for c in scripts["shell"]["commands"]]
    for n, what in enumerate(expected):
        for message in (shell[n], scripts[f"commands{n}"]["commands"][0]["message"]):
            assert message.startswith(f"refused by the sandbox policy (reads-file): {what}"), message
            assert message.endswith("; no option allows it")


def test_output_options_that_read_nothing_run(e2e):
    e2e.script(
        "plain.usacloud",
        """
        usacloud zone list --format '{{.Name}} {{.file}} {{"file"}}'
        usacloud zone list --format no-such-template-file
        usacloud zone list -o json --query '[0].Name'
        """,
    )
    e2e.run().assert_outcomes(passed=1)
    assert len(e2e.calls()) == 3


def test_a_credential_after_a_single_dash_flag_is_masked_everywhere(e2e):
    """`-token X` / `-secret X`: usacloud refuses the command (unknown shorthand flag), and the failure
    text quotes the line, the words and the command list: none shows the value."""
    e2e.script("dash.usacloud", "usacloud zone list -token prodtoken-LEAK-I9 -secret prodsecret-LEAK-J1\n")
    e2e.shell_script("dash-shell.usacloud", "usacloud zone list -token prodtoken-LEAK-K2 -secret=prodsecret-LEAK-L3\n")
    junit, report = e2e.tmp / "junit.xml", e2e.tmp / "report.json"
    result = e2e.run(f"--junitxml={junit}", f"--usacloud-report={report}", "-vv", "-rA")
    result.assert_outcomes(failed=2)
    written = result.stdout.str() + result.stderr.str() + junit.read_text() + report.read_text()
    assert "-token ***" in written
    assert "LEAK" not in written


def test_secrets_in_usacloud_yaml_and_table_output_are_masked_in_both_modes(e2e):
    """Another team's database passwords in `-o yaml`, an FTP password in a table: the report keeps
    every command's output, the terminal and JUnit a failed one's (commands mode) and the script's
    (shell mode)."""
    e2e.rules(
        [
            {"match": "database list", "stdout": REAL_DATABASE_YAML},
            {"match": "archive ftp-open", "stdout": REAL_FTP_TABLE, "exit": 1},
        ]
    )
    lines = "usacloud database list -o yaml\nusacloud archive ftp-open -y 113101599865\n"
    e2e.script("output.usacloud", lines)
    e2e.shell_script("output-shell.usacloud", lines)
    junit, report = e2e.tmp / "junit.xml", e2e.tmp / "report.json"
    # ftp-open changes an archive the run did not make: only =any lets it run as written
    args = ("--usacloud-allow-dangerous=any", f"--junitxml={junit}", f"--usacloud-report={report}", "-vv", "-rA")
    result = e2e.run(*args)
    result.assert_outcomes(failed=2)
    terminal, junit_text, report_text = result.stdout.str() + result.stderr.str(), junit.read_text(), report.read_text()
    masked_row = "| archive113101599865 | ***                        |"
    assert terminal.count(masked_row) >= 3 and junit_text.count(masked_row) >= 3  # both tails, bash's stdout
    assert "UserPassword: ***" in report_text
    for text in (terminal, junit_text, report_text):
        assert "SECRET" not in text


def test_slack_webhooks_and_snmp_communities_are_masked_and_reach_usacloud_intact(e2e):
    """A Slack incoming-webhook URL is a bearer credential, an SNMP community a password: masked in
    the line, the words, usacloud's output and `--parameters`, never in what usacloud gets."""
    hook, hook2, hook3 = (
        f"https://hooks.slack.com/services/T0SECRET/B{n}SECRET/xyzWEBHOOKsecret{n}" for n in (1, 2, 3)
    )
    snmp = "--health-check-protocol snmp --health-check-snmp-version 2c --health-check-oid 1.3.6.1.2.1.1.3.0"
    e2e.script(
        "monitor.usacloud",
        f"""
        usacloud simple-monitor create -y --target 192.0.2.1 {snmp} --health-check-community SnmpCommunitySECRET \\
          --notify-slack-enabled --slack-webhooks-url {hook} -o yaml
        usacloud mobile-gateway create -y --name mgw --traffic-config-slack-notify-webhooks-url {hook2} --bogus
        """,
    )
    parameters = {
        "Target": "192.0.2.2",
        "NotifySlackEnabled": True,
        "SlackWebhooksURL": hook3,
        "HealthCheck": {
            "Protocol": "snmp",
            "Community": "ParamCommunitySECRET",
            "SNMPVersion": "2c",
            "OID": "1.3.6.1.2.1.1.3.0",
        },
    }
    e2e.shell_script(
        "monitor-shell.usacloud",
        f"""
        usacloud simple-monitor create -y --parameters '{json.dumps(parameters)}' -o yaml
        exit 1
        """,
    )
    junit, report = e2e.tmp / "junit.xml", e2e.tmp / "report.json"
    result = e2e.run(
        f"--junitxml={junit}", f"--usacloud-report={report}", "--usacloud-allow-global-writes", "-vv", "-rA"
    )
    result.assert_outcomes(failed=2)
    terminal, junit_text, report_text = result.stdout.str() + result.stderr.str(), junit.read_text(), report.read_text()
    for text in (terminal, junit_text, report_text):
        assert "SECRET" not in text and "WEBHOOK" not in text
    assert "--traffic-config-slack-notify-webhooks-url *** --bogus" in terminal
    argvs = [" ".join(a) for a in e2e.argvs()]
    assert any("--health-check-community SnmpCommunitySECRET" in a and hook in a for a in argvs)
    assert any(hook3 in a and "ParamCommunitySECRET" in a for a in argvs)
