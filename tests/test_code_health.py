"""The package's comments and docstrings speak of the code, not of the project's history."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_usacloud_sandbox"


def test_no_issue_numbers_in_the_package():
    cited = [
        f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bissues? \d", line, re.I)
    ]
    assert cited == []
