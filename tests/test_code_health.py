"""The package's comments and docstrings speak of the code, not of the project's history."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_usacloud_sandbox"


def test_no_issue_numbers_in_the_code_its_tests_or_its_docs():
    """No issue number, nor a section numbered after one, in the code, its tests, benchmarks or docs."""
    root = PACKAGE.parent
    places = [*PACKAGE.rglob("*.py"), *(root / "tests").rglob("*.py"), *(root / "bench").rglob("*.py")]
    places += [*(root / "docs").rglob("*.md"), root / "README.md", root / "conftest.py"]
    cited = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in sorted(places)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bissues? \d|^\s*# -- \d+\.\d+:", line, re.I)
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


#: The package's floors, lowest first: a module imports from its own room or from a lower floor,
#: never from a higher one nor from another room of its floor. ``__init__`` is the version.
FLOORS = (
    ("__init__", "record"),
    ("script",),
    ("usacloud",),
    ("limit", "options"),
    ("state", "settings"),
    ("fakemode", "report"),
    ("run",),
    ("preflight", "cleanup"),
    ("lint", "errorpolicy", "signals", "items"),
    ("controller",),
    ("startup",),
    ("plugin", "__main__"),
)


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imported_rooms(path: Path):
    import ast

    package = path.relative_to(PACKAGE).parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = [*package[: len(package) - node.level + 1], *(node.module or "").split(".")]
            targets = [base[0]] if base[0] else [alias.name for alias in node.names]
        elif (node.module or "").startswith(PACKAGE.name + "."):
            targets = [node.module.split(".")[1]]
        else:
            continue
        for target in targets:
            yield node.lineno, "__init__" if target == "__version__" else target


def test_every_room_has_a_floor():
    rooms = {_room(path) for path in PACKAGE.rglob("*.py")}
    assert rooms == {room for floor in FLOORS for room in floor}


def test_no_import_goes_up_a_floor_or_across_to_another_room():
    floor_of = {room: n for n, floor in enumerate(FLOORS) for room in floor}
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        room = _room(path)
        for line, target in _imported_rooms(path):
            if target != room and floor_of[target] >= floor_of[room]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert wrong == []


#: A module's docstring says what the module does and the one key why; the design is docs/design.md.
MODULE_DOC_LINES = 12
DESIGN = PACKAGE.parent / "docs" / "design.md"


def test_module_docstrings_are_a_few_lines():
    import ast

    long = {
        str(path.relative_to(PACKAGE)): len(doc.splitlines())
        for path in sorted(PACKAGE.rglob("*.py"))
        if (doc := ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))))
        and len(doc.splitlines()) > MODULE_DOC_LINES
    }
    assert long == {}


def test_the_design_page_names_only_modules_that_exist_and_every_room():
    text = DESIGN.read_text(encoding="utf-8")
    paths = set(re.findall(r"(?<![\w./-])((?:[\w-]+/)+[\w-]+\.py)\b", text)) | set(re.findall(r"`(\w+\.py)`", text))
    rooms = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert len(paths) >= len(rooms), "the page names the modules it speaks of"
    missing = sorted(p for p in paths if not (PACKAGE / p).is_file() and not (PACKAGE.parent / p).is_file())
    assert missing == []
    assert sorted(room for room in rooms if f"`{room}/`" not in text) == []
