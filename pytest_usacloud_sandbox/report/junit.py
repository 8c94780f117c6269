"""JUnit XML: a script's ``classname`` is its path, not a dotted package name.

pytest writes ``scripts/mixed/c.usacloud`` as ``scripts.mixed.c.usacloud``, which JUnit viewers file
under a package ``scripts.mixed`` and a class ``c``; pytest offers no public way to set an item's
classname, so after pytest has written the file the run gives each script's test case its path as in
its node id (after ``--junitprefix``) and leaves every other test case as pytest wrote it.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path


def classnames(nodeids: Iterable[str], prefix: str | None) -> dict[tuple[str, str], str]:
    """{(the classname pytest gives, the test's name): the script's path} for script node ids."""
    table = {}
    for nodeid in nodeids:
        path, sep, name = nodeid.partition("::")
        if not sep or "::" in name:
            continue
        dotted, plain = path.replace("/", "."), path
        if prefix:
            dotted, plain = f"{prefix}.{dotted}", f"{prefix}.{plain}"
        table[(dotted, name)] = plain
    return table


def retitle(xml_path: str | os.PathLike, nodeids: Iterable[str], prefix: str | None) -> bool:
    """Rewrite the scripts' classnames in the JUnit file at ``xml_path``; True if it changed."""
    table = classnames(nodeids, prefix)
    path = Path(xml_path)
    if not table or not path.is_file():
        return False
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError):
        return False
    changed = False
    for case in tree.iter("testcase"):
        new = table.get((case.get("classname", ""), case.get("name", "")))
        if new is not None:
            case.set("classname", new)
            changed = True
    if changed:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, path)
    return changed
