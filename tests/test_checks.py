"""Which skipped lines of a commands-mode script can decide its result under bash (script/checks.py)."""

import pytest

from pytest_usacloud_sandbox.script.checks import set_options, shebang_options
from pytest_usacloud_sandbox.script.parse import parse_script


def checks(text: str) -> list[tuple[int, str]]:
    return [(c.line, c.reason) for c in parse_script(text).checks]


def lines(text: str) -> list[int]:
    return [line for line, _ in checks(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # under set -e every command whose status bash does not ignore, but those that cannot fail
        ("set -e\nusacloud a\ngrep -q x out\n", [3]),
        ("set -e\nusacloud a\n./verify.sh\ncurl -fsS http://x\n", [3, 4]),
        ("set -o errexit\nusacloud a\n[ -s out ]\n[[ $X == 1 ]]\n(( n == 2 ))\n", [3, 4, 5]),
        ("set -e\nusacloud a\nfalse\n", [3]),
        ("set -e\nexec >log 2>&1\nusacloud a\n", []),
        ('set -e\necho "hi"\nprintf x\n:\ntrue\nX=1\nexport Y=2\nlocal Z\ncd /tmp\nsleep 1\nusacloud a\n', []),
        ("set -e\nmkdir -p out\nusacloud a | tee out/a.json | jq -r '.[0].ID'\nwc -l out/a.json\n", []),
        # a status bash ignores: a condition, left of && or ||, after !, a function's body, the background
        ("set -e\nif grep -q x f; then echo; fi\nwhile [ -f lock ]; do sleep 1; done\nusacloud a\n", []),
        ("set -e\nusacloud a\n[ -f x ] && echo yes\ngrep -q y f || echo no\n! grep z f\ncheck() { grep a; }\n", []),
        ("set -e\nusacloud a\ngrep -q x f &\n", []),
        ('set -e\nusacloud a\nif [ -n "$X" ]; then\n  grep -q y f\nfi\n', [4]),  # a body is no condition
        ("set -e\nusacloud a\nif false; then :; elif grep -q y f; then :; fi\n", []),
        # pipelines: the last command, every one with pipefail
        ("set -e\nusacloud a | grep x | wc -l\n", []),
        ("set -eo pipefail\nusacloud a | grep x | wc -l\n", [2]),
        ("set -e\nusacloud a | jq -e .x\n", [2]),
        ("set -e\nusacloud a |\n  jq -re .x\n", [3]),
        # set +e, the shebang
        ("set -e\nset +e\nusacloud a\ngrep -q x f\necho\n", []),
        ("#!/bin/bash -e\nusacloud a\ngrep -q x f\necho\n", [3]),
        ("#!/usr/bin/env -S bash -eo pipefail\nusacloud a | grep x | cat\n", [2]),
        # without set -e only the last command decides, when it is an assertion
        ("usacloud a\ngrep -q x f\necho done\n", []),
        ('usacloud a\n[ "$(usacloud b -q)" = 1 ]\n', [2]),
        ("usacloud a | jq -e '.[0].ID'\n", [1]),
        ("usacloud a | jq '.[0].ID'\n", []),
        ("usacloud a\nsort out.txt\n", []),
        ("usacloud a\ngrep -q x f\nusacloud b\n", []),
        # exit N ends the script with a failure wherever it is, unless a usacloud command failed first
        ("usacloud a\nif [ x != y ]; then\n  echo bad\n  exit 1\nfi\n", [4]),
        ("usacloud a || exit 1\nusacloud b\nexit 0\n", []),
        ("usacloud a\nexit\n", []),
        ("die() { exit 1; }\nusacloud a\n", []),
        ('die() { echo "$1"; exit 1; }\nusacloud a\n[ -s out ] || die empty\necho done\n', [3]),
        ("usacloud a\n[ -s out ] || { echo empty; exit 1; }\n", [2]),
    ],
)
def test_the_lines_that_decide_the_result(text, expected):
    assert lines(text) == expected


def test_the_reason_says_why_the_line_decides():
    assert checks("set -e\nusacloud a | jq -e .x\n") == [
        (2, "`jq -e` under `set -e`: bash stops the script if it fails")
    ]
    assert checks("set -euo pipefail\nusacloud a | grep -q x | cat\n") == [
        (2, "`grep` in a pipeline, under `set -e` and `pipefail`: bash stops the script if it fails")
    ]
    assert checks("usacloud a\n[ -s f ]\n") == [
        (2, "`[` is the script's last command: its exit status is the script's")
    ]
    assert checks("usacloud a\nexit 3\n") == [(2, "`exit 3` ends the script with a failure")]
    parsed = parse_script("set -e\nusacloud a \\\n  -q | grep \\\n  -q x\n")
    assert [(c.line, c.text) for c in parsed.checks] == [(3, "usacloud a   -q | grep   -q x")]  # the whole line


def test_set_and_shebang_options():
    assert set_options(["-euo", "pipefail"]) == [("errexit", True), ("pipefail", True)]
    assert set_options(["+e", "-o", "errexit", "+o", "pipefail"]) == [
        ("errexit", False),
        ("errexit", True),
        ("pipefail", False),
    ]
    assert set_options(["--", "-e"]) == [] and set_options(["x", "-e"]) == []
    assert shebang_options("#!/bin/bash -e\n") == (True, False)
    assert shebang_options("#!/usr/bin/env bash\nset -e\n") == (False, False)
    assert shebang_options("set -e\n") == (False, False)
