"""Where a path that usacloud opens leads, seen as the kernel resolves it for usacloud.

A path is judged from usacloud's directory, not this process's, component by component (links and
``..`` included), and the walk stops in ``/proc``, ``/dev`` or ``/sys``: there a path means something
else to each process (``/proc/self/environ`` is usacloud's own environment, the API key). :func:`judge`
says why usacloud must not open the file: in those trees, in the run's directory, or outside the script's.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .params import expand_home

#: Trees whose files mean something else to each process (or are devices and kernel state).
PROCESS_TREES = ("/proc", "/dev", "/sys")
_MAX_LINKS = 40  # the kernel's limit on symbolic links in one lookup (ELOOP)
#: How each file kind reads a value: expands a leading `~` (go-homedir), and whether it writes.
_EXPANDS = frozenset({"template", "query", "content"})


@dataclass(frozen=True)
class Place:
    """Where usacloud runs and what it may touch: ``cwd`` its directory, ``root`` the script's
    directory (files it reads or writes must lie under it), ``home`` its ``$HOME`` (None: this
    process's), ``private`` the run's own directories (never)."""

    cwd: Path
    root: Path
    home: str | None = None
    private: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Resolved:
    """A path after the walk: where it leads, or the tree of :data:`PROCESS_TREES` it entered."""

    path: PurePosixPath | None
    tree: str | None = None  # "/proc", "/dev", "/sys"
    loop: bool = False  # too many symbolic links: the kernel refuses it (ELOOP)


def _tree(path: str) -> str | None:
    return next((t for t in PROCESS_TREES if path == t or path.startswith(t + "/")), None)


def resolve(path: str, cwd: Path) -> Resolved:
    """``path`` (relative to ``cwd``) resolved component by component, as the kernel would for a
    process in ``cwd``; the walk stops in :data:`PROCESS_TREES`. Components that do not exist are
    kept as written (a file about to be created)."""
    start = path if path.startswith("/") else f"{os.path.abspath(cwd)}/{path}"
    todo = deque(start.split("/"))
    current = "/"
    links = 0
    while todo:
        part = todo.popleft()
        if part in ("", "."):
            continue
        nxt = os.path.dirname(current) if part == ".." else os.path.join(current, part)
        if _tree(nxt) is not None:
            return Resolved(None, _tree(nxt))
        try:
            info = os.lstat(nxt)
        except (OSError, ValueError):
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            links += 1
            if links > _MAX_LINKS:
                return Resolved(None, loop=True)
            try:
                target = os.readlink(nxt)
            except OSError:
                return Resolved(None, loop=True)
            if target.startswith("/"):
                current = "/"
            todo.extendleft(reversed(target.split("/")))
            continue
        current = nxt
    return Resolved(PurePosixPath(current))


def _within(path: PurePosixPath, base: Path) -> bool:
    real = resolve(str(base), Path("/")).path or PurePosixPath(str(base))
    return path == real or real in path.parents


def _is_file(path: PurePosixPath) -> bool:
    """Something usacloud's read would take as the file (it exists and is not a directory)."""
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def judge(value: str, kind: str, place: Place) -> str | None:
    """Why usacloud must not read (or, ``download``, write) the file ``value`` names for a flag of
    ``kind`` (:mod:`.filereads`), or None: it names no file (the value is the content itself), or one
    in the script's own directory tree."""
    if not value or "\0" in value:
        return None
    text = expand_home(value, place.home) if kind in _EXPANDS else value
    if text is None:
        return None  # `~user`: go-homedir refuses it, usacloud reads no file
    where = resolve(text, place.cwd)
    if where.tree is not None:
        return (
            f"names a path in {where.tree}: what such a path means depends on the process that opens it "
            "(usacloud's own /proc/self/environ holds the API key)"
        )
    if where.path is None:
        return "names a path with a loop of symbolic links"
    path = where.path
    if kind != "download" and not _is_file(path):
        return None  # no such file: usacloud takes the value as the content (or fails to open it)
    if any(_within(path, private) for private in place.private):
        return f"names {path}, in the run's own directory"
    if not _within(path, place.root):
        return f"names {path}, outside the script's directory ({place.root})"
    return None
