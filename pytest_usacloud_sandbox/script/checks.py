"""Which skipped lines of a script can decide its result under bash (commands mode runs none of them).

Under ``set -e`` (``set -o errexit``, ``#!/bin/bash -e``) bash stops the script at a command that
fails unless its status is ignored (an ``if``/``while`` condition, left of ``&&``/``||``, after
``!``, in the background, not the last of a pipeline without ``pipefail``, a function's body): each
such top-level command is a check, except :data:`CANNOT_FAIL`. Without it only the script's last
command decides its exit status: a check when it is an assertion (:data:`ASSERTIONS`, ``jq -e``).
``exit N`` (N not ``0``) and a call of a function that can end the script are always checks. The
README's "What a script is" tells users.
"""

from __future__ import annotations

from dataclasses import dataclass

from .parsed import SkippedLine

#: Commands that print, format, set the shell's state or set up files: taken as never failing (a
#: ``jq`` without ``-e`` only formats, ``cd`` into the script's directory is the usual set-up).
CANNOT_FAIL = frozenset(
    {":", "true", "echo", "printf", "set", "shopt", "sleep", "export", "local", "declare", "typeset", "readonly"}
    | {"unset", "alias", "unalias", "trap", "umask", "cd", "pushd", "popd", "pwd", "date", "basename", "dirname"}
    | {"wc", "tee", "sort", "uniq", "cut", "tr", "column", "head", "tail", "cat", "sed", "awk", "jq", "base64"}
    | {"mkdir", "touch", "rm", "cp", "mv", "ln", "ls", "chmod", "logger"}
)
#: What a script's last command checks with (its status is the script's): besides ``jq -e``
ASSERTIONS = frozenset({"test", "[", "[[", "((", "grep", "egrep", "fgrep", "diff", "cmp", "false"})


@dataclass
class _Candidate:
    line: int
    text: str
    name: str
    assertion: bool
    errexit: bool
    pipefail: bool
    piped: bool = False


class Checks:
    """Follows the script's top-level commands (the walker's calls, in source order) for the checks."""

    def __init__(self, text: str) -> None:
        self.errexit, self.pipefail = shebang_options(text)
        self.found: list[SkippedLine] = []
        self.pipeline: list[_Candidate | None] = []  # the pipeline being read; None: a command not a check
        self.last: _Candidate | None = None  # the script's last command so far, if it may be a check

    def command(self, line: int, text: str, name: str | None, args: list[str], ignored: bool, framed: bool) -> None:
        """A top-level simple command (``name`` None: usacloud, an assignment, a name bash expands);
        ``ignored``: bash ignores its status (a condition, ``!``, a function's body); ``framed``: inside
        a compound command (not the script's last command then, whatever follows it)."""
        if name == "set":
            self._set(args)
        assertion = name in ASSERTIONS or (name == "jq" and any(_jq_exit_status(a) for a in args))
        if name is None or ignored or (name in CANNOT_FAIL and not assertion):
            self.pipeline.append(None)
            self.last = None
            return
        name = "jq -e" if name == "jq" else name
        candidate = _Candidate(line, text, name, assertion, self.errexit, self.pipefail)
        self.pipeline.append(candidate)
        self.last = None if framed else candidate

    def ends(self, line: int, text: str, why: str) -> None:
        """What ends the script (``exit 1``, a call of a function that can), as the lines say it runs."""
        self.found.append(SkippedLine(line, text, why))

    def operator(self, op: str, continued: bool) -> None:
        """A control operator after the commands read: it ends (or continues) the pipeline."""
        if op in ("|", "|&") or (op == "\n" and continued):
            if self.pipeline and self.pipeline[-1] is not None:
                self.pipeline[-1].piped = True
            return
        if op in ("&&", "||", "&"):  # left of && / ||, or in the background: bash ignores its status
            self.pipeline.clear()
            self.last = None
            return
        self.end()

    def end(self) -> None:
        """The pipeline has ended: each check of it that decides under ``set -e`` is found."""
        for c in self.pipeline:
            if c is not None and c.errexit and (not c.piped or c.pipefail):
                where = " in a pipeline, under `set -e` and `pipefail`" if c.piped else " under `set -e`"
                self.found.append(SkippedLine(c.line, c.text, f"`{c.name}`{where}: bash stops the script if it fails"))
        self.pipeline.clear()

    def result(self) -> tuple[SkippedLine, ...]:
        self.end()
        last = self.last
        if last is not None and last.assertion and not last.errexit and (not last.piped or last.pipefail):
            why = f"`{last.name}` is the script's last command: its exit status is the script's"
            self.found.append(SkippedLine(last.line, last.text, why))
        return tuple(sorted(set(self.found), key=lambda s: s.line))

    def _set(self, args: list[str]) -> None:
        for option, on in set_options(args):
            if option == "errexit":
                self.errexit = on
            elif option == "pipefail":
                self.pipefail = on


def set_options(args: list[str]) -> list[tuple[str, bool]]:
    """The ``errexit`` / ``pipefail`` changes of ``set ARGS`` (``-e``, ``+e``, ``-euo pipefail``, ``-o errexit``)."""
    out, i = [], 0
    while i < len(args):
        word, i = args[i], i + 1
        if word == "--" or len(word) < 2 or word[0] not in "-+" or word[1] in "-+":
            break
        on = word[0] == "-"
        for letter in word[1:]:
            if letter == "e":
                out.append(("errexit", on))
            elif letter == "o" and i < len(args):
                out.append((args[i], on))
                i += 1
    return out


def shebang_options(text: str) -> tuple[bool, bool]:
    """``errexit`` and ``pipefail`` as the script's ``#!`` line sets them (``#!/bin/bash -eo pipefail``)."""
    first = text.split("\n", 1)[0]
    if not first.startswith("#!"):
        return False, False
    words = [w for w in first[2:].split()[1:] if w != "-S"]
    if words and words[0].rsplit("/", 1)[-1] == "bash":  # `#!/usr/bin/env -S bash -e`
        words = words[1:]
    errexit = pipefail = False
    for option, on in set_options(words):
        errexit = on if option == "errexit" else errexit
        pipefail = on if option == "pipefail" else pipefail
    return errexit, pipefail


def _jq_exit_status(arg: str) -> bool:
    """``-e``, ``--exit-status`` or a cluster of jq's short options holding ``e`` (``-re``)."""
    return arg == "--exit-status" or (arg.startswith("-") and not arg.startswith("--") and "e" in arg[1:])
