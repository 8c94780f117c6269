"""``usacloud-lint [PATH...]``: the dry-run's offline check as a command, for editors, pre-commit and CI.

One line per problem, ``path:line:col: rule: message``; exit status 1 when any error was found, 0
when none (warnings alone pass, as they do in the dry-run), 2 on a usage error. It imports neither
pytest nor xdist, so it starts in a fraction of pytest's time.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

from .. import __version__
from ..report.document import script_entry
from ..report.github import escape_data, escape_property
from ..report.reprs import printable
from ..script.source import MAX_SCRIPT_BYTES_DEFAULT
from ..usacloud.policy import Policy
from .check import ERROR, WARNING, Linted, Options, Problem, lint_script

DEFAULT_GLOB = "*.usacloud"
FORMATS = ("text", "github", "json")
#: directories pytest does not collect from by default (its ``norecursedirs``), nor does the lint
NORECURSE = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


class UsageError(Exception):
    """A bad argument: the message goes to stderr and the exit status is 2."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="usacloud-lint",
        description="Check usacloud scripts offline, exactly as `pytest --usacloud-dry-run` does: usacloud's "
        "command tree, the sandbox policy and commands mode's straight-line rule. Needs neither usacloud "
        "nor an API key.",
        epilog="Each option also has the spelling of the pytest option it mirrors (--allow-dangerous is "
        "--usacloud-allow-dangerous). Exit status: 0 no errors (warnings alone pass), 1 errors found, "
        "2 usage error or no script found.",
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="scripts, or directories searched for GLOB (default: the current one)"
    )
    p.add_argument(
        "--glob",
        "--usacloud-script-glob",
        default=DEFAULT_GLOB,
        help=f"file name pattern searched for in directories ({DEFAULT_GLOB})",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="text (default), github annotations, or json")
    p.add_argument(
        "--mode",
        "--usacloud-mode",
        choices=("commands", "shell"),
        default="commands",
        help="shell: bash runs every script, so none is held to commands mode's straight-line rule (one "
        "marked usacloud_shell never is)",
    )
    p.add_argument("--no-policy", action="store_true", help="check against usacloud's command tree only")
    p.add_argument(
        "--allow-dangerous",
        "--usacloud-allow-dangerous",
        action="store_true",
        help="do not refuse dangerous subcommands and flags (delete, power, --force, ...)",
    )
    p.add_argument(
        "--allow-global-writes", "--usacloud-allow-global-writes", action="store_true", help="allow what it allows"
    )
    p.add_argument(
        "--allow-profiles",
        "--usacloud-allow-profiles",
        action="store_true",
        help="let `config create/edit/use/delete` write this machine's usacloud profiles",
    )
    p.add_argument(
        "--fake", "--usacloud-fake", action="store_true", help="refuse what usacloud's fake driver does not fake"
    )
    p.add_argument(
        "--max-script-bytes",
        "--usacloud-max-script-bytes",
        type=int,
        default=MAX_SCRIPT_BYTES_DEFAULT,
        metavar="N",
        help=f"scripts larger than this are errors ({MAX_SCRIPT_BYTES_DEFAULT})",
    )
    p.add_argument("--no-warnings", action="store_true", help="show errors only")
    p.add_argument("--version", action="version", version=f"%(prog)s (pytest-usacloud-sandbox {__version__})")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on a bad option
    try:
        if args.max_script_bytes < 1:
            raise UsageError(f"--max-script-bytes must be at least 1, not {args.max_script_bytes}")
        files = list(find_scripts(args.paths or ["."], args.glob))
        if not files:  # a directory without scripts (or a --glob that matches none) never passes silently
            raise UsageError(f"no scripts found: no file matches {args.glob!r} under {', '.join(args.paths or ['.'])}")
    except UsageError as exc:
        print(f"usacloud-lint: error: {exc}", file=sys.stderr)
        return 2
    policy = (
        None
        if args.no_policy
        else Policy(args.allow_dangerous, args.allow_global_writes, fake=args.fake, allow_profiles=args.allow_profiles)
    )
    options = Options(policy, args.mode == "shell", args.max_script_bytes, os.environ)
    linted = [lint_script(path, shown, options) for path, shown in files]
    try:
        write(linted, args.format, args.no_warnings, sys.stdout)
        if args.format == "text":
            print(summary(linted), file=sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:  # `usacloud-lint | head`: the rest goes nowhere, quietly (even at exit)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1 if any(one.errors for one in linted) else 0


def find_scripts(paths: Sequence[str], glob: str) -> Iterator[tuple[Path, str]]:
    """(path, shown) of each script once: a file named is a script whatever its name; a directory is
    searched for ``glob``, sorted, skipping the directories pytest skips."""
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    seen = set()
    for given in paths:
        for shown in [given] if not os.path.isdir(given) else _walk(given, glob):
            key = os.path.realpath(shown)
            if key not in seen:
                seen.add(key)
                yield Path(shown), os.path.normpath(shown)


def _walk(top: str, glob: str) -> Iterator[str]:
    for here, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(os.path.join(here, d), d))
        yield from (os.path.join(here, n) for n in sorted(names) if fnmatch.fnmatch(n, glob))


def _skipped_dir(path: str, name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in NORECURSE) or os.path.exists(
        os.path.join(path, "pyvenv.cfg")  # a virtual environment, as pytest skips them
    )


def write(linted: list[Linted], fmt: str, no_warnings: bool, out) -> None:
    problems = [p for one in linted for p in one.problems if not (no_warnings and p.severity == WARNING)]
    if fmt == "json":
        doc = {
            "scripts": [script_entry(one.record) for one in linted],
            "problems": [asdict(p) for p in problems],
        }
        json.dump(doc, out, indent=1, ensure_ascii=False)
        out.write("\n")
        return
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    for problem in problems:
        out.write((github_line(problem, workspace) if fmt == "github" else _one_line(problem.text())) + "\n")


def github_line(problem: Problem, workspace: str) -> str:
    """A workflow command GitHub shows on the script's line: ``::error file=...,line=...,col=...``."""
    path = os.path.relpath(os.path.abspath(problem.path), workspace)
    kind = "error" if problem.severity == ERROR else "warning"
    props = f"file={escape_property(path)},line={problem.line},col={problem.col}"
    title = escape_property(f"usacloud-lint {problem.rule}")
    return f"::{kind} {props},title={title}::{escape_data(printable(problem.message))}"


def summary(linted: list[Linted]) -> str:
    errors = sum(len(one.errors) for one in linted)
    warnings = sum(len(one.problems) - len(one.errors) for one in linted)
    failed = sum(1 for one in linted if one.errors)
    scripts = _count(len(linted), "script")
    found = f"{_count(errors, 'error')} in {failed} of {scripts}" if errors else f"{scripts} checked, no errors"
    return f"usacloud-lint: {found}" + (f" ({_count(warnings, 'warning')})" if warnings else "")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _one_line(text: str) -> str:
    return printable(text).replace("\n", "\\n")
