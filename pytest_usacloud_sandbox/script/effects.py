"""What a simple command does to the rest of the script under bash, read from its words.

Commands mode never runs these commands, so it must know what they would have done: end the script
(``exit``, ``eval exit 0``, ``kill $$``, ``set -n``...), or make ``usacloud`` mean something else
(``alias``, ``hash -p``, ``enable -f``). Each function gets the command's name and arguments with
quotes removed (``\\exit`` is ``exit``); :mod:`flow` decides what it means for the commands after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .shellwords import Lexer
from .tokens import ShellSyntaxError, Word

#: Builtins that give variables values, ``PATH`` among them (``export PATH=...``).
_DECLARERS = frozenset({"export", "declare", "typeset", "readonly", "local"})
_PATH_ASSIGNMENT = re.compile(r"PATH\+?=")
#: Builtins that end the script (``return`` only outside a function: flow tells them apart).
_ENDERS = frozenset({"exit", "logout", "return"})
#: A kill target that is the script itself: its pid, its process group (``0``, ``-$$``), or every
#: process the user may signal (``-1``).
_SELF = frozenset({"$$", "${$}", "$BASHPID", "${BASHPID}"})
_EVERYONE = frozenset({"0", "-1"})


def ends_script(name: str, args: Sequence[str], ends: Callable[[str], bool] = lambda name: False) -> str | None:
    """The construct (``exit``, ``exec``, ``eval``, ``kill $$``, ``set -n``, ``trap``...) if the command
    can end the script when it runs, else None. ``ends``: whether calling a name can (a function)."""
    if name in _ENDERS:
        return name
    if name in ("exec", "eval") and args:  # `exec >log` (no operand) only redirects
        return name
    if name == "kill" and _kills_the_script(args):
        return "kill $$"
    if (name == "set" and _sets_noexec(args)) or (name == "shopt" and _shopt_noexec(args)):
        return "set -n"  # bash reads on but runs nothing more
    if name == "trap" and _trap_ends(args, ends):
        return "trap"
    return None


def redefines_usacloud(name: str, args: Sequence[str], looked_up: frozenset[str]) -> str | None:
    """How the command makes bash run something else for ``usacloud`` or one of the wrappers the reader
    looks through (``looked_up``), or None: an alias or a disabled builtin of that name, a hashed
    path, a new ``PATH`` (``export PATH=...``, ``declare``, ``unset PATH``...).

    An alias counts even without ``shopt -s expand_aliases`` (which may come from a file the script
    sources); ``enable`` naming one counts whatever its options."""
    if name == "alias":
        found = next((w for a in args for w in looked_up if a.startswith(f"{w}=")), None)
        return None if found is None else f"alias {found}"
    if name == "hash" and looked_up.intersection(args) and any(_short_options(a, "p") for a in args):
        return "hash -p"
    if name == "enable":
        found = next((w for w in sorted(looked_up) if w in args), None)
        return None if found is None else f"enable {found}"
    if name in _DECLARERS and any(_PATH_ASSIGNMENT.match(a) for a in args):
        return "PATH="
    if name == "unset" and "PATH" in args:
        return "PATH="
    return None


def assigns_path(words: Sequence[str]) -> bool:
    """Whether one of these assignment words (as written) gives ``PATH`` a value."""
    return any(_PATH_ASSIGNMENT.match(w) for w in words)


def _short_options(word: str, letters: str) -> bool:
    return word.startswith("-") and not word.startswith("--") and any(c in word[1:] for c in letters)


def _kills_the_script(args: Sequence[str]) -> bool:
    """``kill [-s SIG | -n NUM | -SIG] PID...`` with the script among the targets and a signal other
    than 0 (``kill -0 $$`` only asks whether it exists); ``-l``/``-L`` only list signals."""
    signal_zero = False
    targets: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            targets += args[i + 1 :]
            break
        if word in ("-l", "-L"):
            return False
        if word in ("-s", "-n") and i + 1 < len(args):
            signal_zero = args[i + 1] == "0"
            i += 2
            continue
        if word.startswith("-") and not targets and word.lstrip("-") not in _SELF:
            signal_zero = word[1:] in ("0", "s0", "n0")
        else:
            targets.append(word)
        i += 1
    return not signal_zero and any(t.lstrip("-") in _SELF or t in _EVERYONE for t in targets)


def _sets_noexec(args: Sequence[str]) -> bool:
    """``set -n``, ``set -o noexec``, ``set -eo noexec``, ``set -euon pipefail``: each ``o`` of a cluster
    takes the next word as an option name; options end at ``--``, ``-`` or the first word that is not
    one (then come the positional parameters). A later ``+n`` or ``+o noexec`` turns it off again."""
    noexec = False
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word in ("--", "-") or not word.startswith(("-", "+")) or word.startswith(("--", "++")):
            break
        on = word[0] == "-"
        for letter in word[1:]:
            if letter == "n":
                noexec = on
            elif letter == "o" and index < len(args):
                noexec = on if args[index] == "noexec" else noexec
                index += 1
    return noexec


def _shopt_noexec(args: Sequence[str]) -> bool:
    """``shopt -so noexec``, ``shopt -s -o noexec``: the ``set -o`` option set through shopt."""
    letters, names = "", []
    for index, word in enumerate(args):
        if word == "--":
            names = list(args[index + 1 :])
            break
        if word.startswith("-") and len(word) > 1:
            letters += word[1:]
        else:
            names = list(args[index:])
            break
    return "s" in letters and "o" in letters and "u" not in letters and "noexec" in names


def _trap_ends(args: Sequence[str], ends: Callable[[str], bool]) -> bool:
    """``trap ACTION SIGNAL...``: a ``DEBUG`` trap runs before every command and can skip or end any of
    them; an ``ERR`` or ``RETURN`` trap whose action can end the script ends it when a command fails
    (or a function returns). ``trap -l``/``-p`` only list; ``trap - SIG`` and ``trap SIG`` reset."""
    words = list(args)
    if words[:1] == ["--"]:
        words = words[1:]
    elif words and words[0].startswith("-") and words[0] != "-":
        return False  # -l, -p: lists
    if len(words) < 2 or words[0] == "-":
        return False
    action, signals = words[0], {w.upper() for w in words[1:]}
    if "DEBUG" in signals and action.strip():
        return True
    if not signals & {"ERR", "RETURN"}:
        return False
    commands = alias_commands(action)
    return commands is None or any(ends_script(n, a, ends) or ends(n) for n, *a in commands if n)


def alias_commands(body: str) -> list[list[str]] | None:
    """The simple commands of an alias's body, as lists of words (quotes removed): what a call of
    the alias runs. None when the body does not lex."""
    try:
        tokens = Lexer(body).tokens()
    except ShellSyntaxError:
        return None
    commands, words = [], []
    for token in [*tokens, None]:
        if token is not None and token.__class__ is Word:
            words.append(token.value)
        elif words:
            commands.append(words)
            words = []
    return commands
