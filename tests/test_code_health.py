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


def test_the_records_and_their_words_import_nothing_else_of_the_plugin():
    """record/ is the bottom floor: every layer uses it, so it uses none of them."""
    import ast

    outside = []
    for path in sorted((PACKAGE / "record").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level > 1 or (node.module or "").startswith(PACKAGE.name)):
                outside.append(f"{path.name}:{node.lineno} from {'.' * node.level}{node.module or ''}")
    assert outside == []
