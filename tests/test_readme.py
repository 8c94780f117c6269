"""The README stays true: every option is in its table, and the two set-up commands are there."""

import re
from pathlib import Path

from pytest_usacloud_sandbox.settings import OPTIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_option_and_ini_key_is_documented():
    rows = re.findall(r"^\| `(--usacloud-[a-z-]+)` \| `(usacloud_[a-z_]+)` \|", README, re.M)
    assert sorted(rows) == sorted((o.flag, o.name) for o in OPTIONS)


def test_the_two_set_up_commands():
    assert "pytest --usacloud-scripts=examples --usacloud-dry-run" in README
    assert "pytest -n 2" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "pytest --usacloud-scripts=examples --usacloud-dry-run" in ci
    assert "pytest -n 2" in ci


def test_japanese_quick_start():
    assert "日本語クイックスタート" in README
