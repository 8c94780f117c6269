"""Shell mode keeps the key out of the script and refuses what usacloud would turn against the zone:
credential variables, ``--trace``, empty targets after expansion, other scripts' sockets."""

from __future__ import annotations


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
