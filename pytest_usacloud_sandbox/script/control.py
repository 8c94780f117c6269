"""Why bash, not the order of the lines, decides whether a usacloud command of a script runs: the
constructs :mod:`.flow` tracks, and how each is told to the user."""

from __future__ import annotations

from dataclasses import dataclass

CONTROL_KEYWORDS = frozenset({"if", "while", "until", "for", "select", "case"})
STRAIGHT_LINE_ADVICE = "mark it `usacloud_shell` or run `--usacloud-mode=shell`"
#: The command words the reader looks at or through (:mod:`.prefixes`): a function, an alias or a
#: disabled builtin of one of these makes bash run something else than what the reader sees.
LOOKED_UP = frozenset({"usacloud", "command", "exec", "nohup", "env", "builtin"})
#: How a script makes `usacloud` (or a wrapper the reader looks through) mean something else: a
#: function, an alias, a hashed path, a builtin, a new ``PATH``.
REDEFINITIONS = frozenset(
    {f"{name}()" for name in LOOKED_UP}
    | {f"alias {name}" for name in LOOKED_UP}
    | {f"enable {name}" for name in LOOKED_UP}
    | {"hash -p", "PATH="}
)
#: Commands that always succeed: a `&&` after them does not depend on anything.
ALWAYS_SUCCEED = frozenset({"true", ":"})


@dataclass(frozen=True)
class ControlFlow:
    """Why bash, not the order of the lines, decides whether (or when) a usacloud command runs.

    ``construct``: a keyword (``if`` ``while`` ``until`` ``for`` ``select`` ``case``),
    ``function NAME``, ``||``, ``&&`` (after a command commands mode does not run), ``&``, ``coproc``,
    ``!``, what ends the script (``exit``, ``exec``, ``eval``, ``kill $$``, ``set -n``, ``${:?}``,
    ``call NAME``...) or one of :data:`REDEFINITIONS`;
    ``line``: where that construct is.
    """

    line: int
    construct: str

    def describe(self) -> str:
        kind = self.construct
        if kind in CONTROL_KEYWORDS:
            return f"inside `{kind}` (line {self.line})"
        if kind.startswith("function "):
            return f"inside the body of function `{kind[9:]}` (line {self.line})"
        if kind == "&":
            return f"in the background (`&`, line {self.line})"
        if kind == "!":
            return f"in a pipeline negated with `!` (line {self.line})"
        if kind == "coproc":
            return f"in a `coproc` (line {self.line})"
        if kind == "${:?}":
            return f"after a `${{NAME:?}}` expansion that ends the script when NAME is unset (line {self.line})"
        if kind == "${":
            return (
                f"inside a parameter expansion `${{...}}` (line {self.line}): bash expands it only as the "
                "expansion's operator decides (`${X:-...}` when X is unset, `${X:+...}` when it is set)"
            )
        if kind == "[[":
            return f"inside `[[ ... ]]` (line {self.line}): bash evaluates its operands only as far as it must"
        if kind.startswith("path "):
            return (
                f"as `{kind[5:]}` (line {self.line}), a file of the directory bash runs in, not the usacloud on "
                "PATH: bash would run that file"
            )
        if kind == "trap":
            return f"after a `trap` (line {self.line}) whose action can end the script or skip commands"
        if kind == "&&":
            return f"after `&&` that follows a command commands mode does not run (line {self.line})"
        if kind.startswith("call "):
            return f"after a call of `{kind[5:]}` (line {self.line}), a function that can end the script"
        if kind in REDEFINITIONS:
            return (
                f"after `{kind}` (line {self.line}), which can make bash run something else than usacloud for "
                "the usacloud commands after it"
            )
        return f"after `{kind}` (line {self.line})"
