"""What a simple command does to the rest of the script under bash, read from its words.

Commands mode never runs these commands, so it must know what they would have done: end the script
(``exit``, ``eval exit 0``, ``kill $$``, ``set -n``...), or make ``usacloud`` mean something other
than usacloud (``alias usacloud=...``, ``hash -p PATH usacloud``, ``enable -f LIB usacloud``; a
``usacloud()`` function is found where functions are defined). :mod:`flow` decides what that means
for the usacloud commands after it.

Each function gets the command's name and its arguments as written, quotes removed (``\\exit`` and
``"exit"`` are ``exit``: quoting keeps a reserved word from being one, not a builtin).
"""

from __future__ import annotations

from collections.abc import Sequence

from .shellwords import Lexer
from .tokens import ShellSyntaxError, Word

#: Builtins that end the script (``return`` only outside a function: flow tells them apart).
_ENDERS = frozenset({"exit", "logout", "return"})
#: A kill target that is the script itself: its pid, its process group (``0``, ``-$$``), or every
#: process the user may signal (``-1``).
_SELF = frozenset({"$$", "${$}", "$BASHPID", "${BASHPID}"})
_EVERYONE = frozenset({"0", "-1"})


def ends_script(name: str, args: Sequence[str]) -> str | None:
    """The construct (``exit``, ``exec``, ``eval``, ``kill $$``, ``set -n``...) if the command can end
    the script when it runs, else None."""
    if name in _ENDERS:
        return name
    if name in ("exec", "eval") and args:  # `exec >log` (no operand) only redirects
        return name
    if name == "kill" and _kills_the_script(args):
        return "kill $$"
    if name == "set" and _sets_noexec(args):
        return "set -n"  # bash reads on but runs nothing more
    return None


def redefines_usacloud(name: str, args: Sequence[str]) -> str | None:
    """How the command makes bash run something else for ``usacloud``, or None.

    An alias counts even without ``shopt -s expand_aliases`` (which may come from a file the script
    sources); ``enable`` naming usacloud counts whatever its options."""
    if name == "alias" and any(a.startswith("usacloud=") for a in args):
        return "alias usacloud"
    if name == "hash" and "usacloud" in args and any(_short_options(a, "p") for a in args):
        return "hash -p"
    if name == "enable" and "usacloud" in args:
        return "enable usacloud"
    return None


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
    """``set -n``, ``set -o noexec``, ``set -euon pipefail``: options end at ``--``, ``-`` or the first
    word that is not one (then come the positional parameters)."""
    for index, word in enumerate(args):
        if word in ("--", "-") or not word.startswith(("-", "+")):
            return False
        if word == "-o" and index + 1 < len(args) and args[index + 1] == "noexec":
            return True
        if word.startswith("-") and "n" in word[1:] and not word.startswith("--"):
            return True
    return False


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
