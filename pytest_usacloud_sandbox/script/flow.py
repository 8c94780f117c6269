"""Which usacloud commands of a script bash might not run in line order (commands mode refuses those).

Commands mode runs a script's usacloud commands in order and stops at the first failure, like
``set -e``: what bash does only for a straight-line script. A command is not straight-line (its
:class:`ControlFlow` says why) inside ``if``/loops/``case``/a function, after ``||``, ``!``, ``&``,
``coproc``, after ``&&`` that follows a command commands mode does not run (:meth:`Level.other`),
after what can end the script (:meth:`Level.may_exit`), or once ``usacloud`` means something else.
Groups and subshells are transparent. The README's "What a script is" lists the rules for users.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .control import CONTROL_KEYWORDS, LOOKED_UP, ControlFlow
from .tokens import ShellSyntaxError

#: Compound commands nested deeper than this are an error: bash's own parser gives up at a few
#: thousand (about 2,500 nested `if`s, 5,000 `{`s: "syntax error"), and no script means it.
MAX_NESTING = 1000
_CONDITIONAL = frozenset({"if", "while", "until"})
_CLOSER_OF = {
    "if": "fi",
    "while": "done",
    "until": "done",
    "for": "done",
    "select": "done",
    "case": "esac",
    "group": "}",
    "subshell": ")",
}


class _List:
    """The and-or list being read at one nesting level."""

    __slots__ = ("and_guard", "bang", "coproc", "last", "last_op", "or_line", "or_other", "other", "part", "start")

    def __init__(self, start: int) -> None:
        self.start = start  # index of its first usacloud command in Flow.commands
        self.part = start  # index of the first usacloud command of the current pipeline's last part
        self.last: list = []  # the usacloud commands found directly in that part
        self.or_line: int | None = None
        self.bang: int | None = None  # line of a `!` negating the current pipeline
        self.coproc: int | None = None
        self.other: int | None = None  # line of a command commands mode does not run, in this list
        self.and_guard: int | None = None  # line of a `&&` after such a command
        self.last_op: str | None = None  # the last `&&` or `||` read in the list
        self.or_other = False  # at that `||`, a command commands mode does not run came before it

    def reason(self) -> ControlFlow | None:
        if self.coproc is not None:
            return ControlFlow(self.coproc, "coproc")
        if self.bang is not None:
            return ControlFlow(self.bang, "!")
        if self.or_line is not None:
            return ControlFlow(self.or_line, "||")
        if self.and_guard is not None:
            return ControlFlow(self.and_guard, "&&")
        return None

    def exits_only_after_usacloud_failed(self) -> bool:
        """Whatever comes now runs only when a usacloud command failed (``usacloud a || exit 1``, and
        ``true || exit``): after `||` with only usacloud and always-succeeding commands before it."""
        return self.last_op == "||" and not self.or_other


class Flow:
    """Script-wide state: the usacloud commands found so far and the reasons of those not straight-line."""

    def __init__(self, commands: list) -> None:
        self.commands = commands  # the walker's list, in source order (appended by the walker)
        self.marks: dict[int, ControlFlow] = {}  # id(command) -> why
        self.tested: set[int] = set()  # id(command): bash tests its status where it stands ...
        self.untested: set[int] = set()  # ... unless it is piped on, or `||` follows it in its list
        self.exits: list[ControlFlow | None] = [None]  # per exit scope: script, subshell, substitution
        self._exit_seen: list[ControlFlow | None] = [None]  # per exit scope: its own, or an outer scope's
        self.inherited: list[ControlFlow | None] = [None]  # reason of the command holding a substitution
        self.redefined: ControlFlow | None = None  # where the script made `usacloud` mean something else
        self.ending: set[str] = set()  # functions (and aliases) that can end the script, directly or by a call
        self._callers: dict[str, set[str]] = {}  # name -> the functions whose body calls it

    def redefine(self, line: int, how: str) -> None:
        if self.redefined is None:
            self.redefined = ControlFlow(line, how)

    def ends_the_script(self, name: str) -> bool:
        """Whether calling ``name`` can end the script: a function or alias whose body (or one it
        calls, as defined so far) can. Kept up to date as bodies are read: a lookup is O(1)."""
        return name in self.ending

    def can_end(self, function: str) -> None:
        """``function``'s body can end the script: so can every function that calls it."""
        todo = [function]
        while todo:
            name = todo.pop()
            if name not in self.ending:
                self.ending.add(name)
                todo.extend(self._callers.get(name, ()))

    def calls(self, function: str, name: str) -> None:
        """``function``'s body calls ``name``."""
        self._callers.setdefault(name, set()).add(function)
        if name in self.ending:
            self.can_end(function)

    def exit_seen(self) -> ControlFlow | None:
        """What ended the script so far, in this exit scope or an enclosing one (innermost first)."""
        return self._exit_seen[-1]

    def end_here(self, flow: ControlFlow) -> None:
        """Something ends the current exit scope (the first such thing counts)."""
        if self.exits[-1] is None:
            self.exits[-1] = flow
            self._exit_seen[-1] = flow

    def push_scope(self) -> None:
        self.exits.append(None)
        self._exit_seen.append(self._exit_seen[-1])

    def pop_scope(self) -> None:
        self.exits.pop()
        self._exit_seen.pop()

    def level(self) -> Level:
        return Level(self)

    def mark(self, command, reason: ControlFlow | None) -> None:
        if reason is not None and id(command) not in self.marks:
            self.marks[id(command)] = reason

    @contextmanager
    def substitution(self, reason: ControlFlow | None) -> Iterator[None]:
        """Inside a command substitution (its own exit scope) of a command that has ``reason``."""
        self.inherited.append(reason or self.inherited[-1])
        self.push_scope()
        try:
            yield
        finally:
            self.inherited.pop()
            self.pop_scope()


class Level:
    """One token stream (the script, or one command substitution): open constructs and the current list.

    Every question asked per command is answered in constant time from what each open construct
    noted when it opened (a deeply nested script parses in linear time)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.frames: list[_Frame] = []
        self.list = _List(len(flow.commands))
        self.function: tuple[str, int] | None = None  # `f()` seen: the next construct is its body
        self.continued = False  # after && || | a newline does not end the list
        self._open_by_closer: dict[str, list[int]] = {}  # closer -> indexes of the open frames it closes

    # -- the reason of a command found now -------------------------------------------------------
    def reason(self) -> ControlFlow | None:
        inherited = self.flow.inherited[-1]
        if inherited is not None:
            return inherited
        if self.frames and self.frames[-1].reason is not None:
            return self.frames[-1].reason
        found = self.list.reason()
        if found is not None:
            return found
        return self.flow.exit_seen() or self.flow.redefined

    # -- events from the walker --------------------------------------------------------------------
    def found(self, command) -> None:
        """A usacloud command, directly in the current list: tested in a condition or after ``!``."""
        self.list.last.append(command)
        top = self.frames[-1] if self.frames else None
        if self.list.bang is not None or (top is not None and top.condition):
            self.flow.tested.add(id(command))

    def word(self) -> None:
        self.continued = False

    def function_definition(self, name: str, line: int) -> None:
        self.function = (name, line)
        if name in LOOKED_UP:
            self.flow.redefine(line, f"{name}()")

    def open(self, kind: str, line: int) -> None:
        """A compound command starts: a keyword construct, a group ``{`` or a subshell ``(``."""
        closer = _CLOSER_OF[kind]
        if len(self.frames) >= MAX_NESTING:
            raise ShellSyntaxError(
                line, f"compound commands nested more than {MAX_NESTING} deep at line {line} (bash gives up too)"
            )
        if self.function is not None:
            name, line = self.function
            kind, self.function = f"function {name}", None
        frame = _Frame(kind, line, closer, self.list, condition=kind in _CONDITIONAL)
        outer = self.frames[-1] if self.frames else None
        frame.within_condition = outer is not None and (outer.condition or outer.within_condition)
        frame.reason = outer.reason if outer is not None and outer.reason is not None else None
        if frame.reason is None:
            frame.reason = ControlFlow(line, kind) if frame.control else self.list.reason()
        if closer == ")":  # a subshell (or a function whose body is one): an exit scope of its own
            self.flow.push_scope()
        else:  # the constructs in the current exit scope, as :meth:`may_exit` and :meth:`call` ask
            inner = outer is not None and outer.closer != ")"
            frame.function = kind[9:] if kind.startswith("function ") else outer.function if inner else None
            frame.control_in_scope = frame.control or (inner and outer.control_in_scope)
            guarded = self.list.exits_only_after_usacloud_failed()
            frame.guarded_in_scope = guarded or (inner and outer.guarded_in_scope)
        self._open_by_closer.setdefault(closer, []).append(len(self.frames))
        self.frames.append(frame)
        self.list = _List(len(self.flow.commands))
        self.continued = False

    def close(self, closer: str) -> bool:
        """A closer (``fi`` ``done`` ``esac`` ``}`` ``)``); False if nothing it closes is open."""
        open_ones = self._open_by_closer.get(closer)
        if not open_ones:
            return False
        index = open_ones[-1]
        other = None
        for frame in self.frames[index:]:  # an unclosed inner construct ends with it
            self._open_by_closer[frame.closer].pop()  # each frame here is the last one of its closer
            if frame.closer == ")":
                self.flow.pop_scope()
            other = other or frame.other
        self.list = self.frames[index].enclosing
        if other is not None:  # `if test ...; fi && usacloud`, `{ cd x; } && usacloud`
            self.list.other = self.list.other or other
            if index:
                self.frames[index - 1].other = self.frames[index - 1].other or other
        del self.frames[index:]
        self.continued = False
        return True

    def middle(self, word: str = "") -> None:
        """``then`` ``else`` ``elif`` ``do``: the list before it has ended (a condition starts after ``elif``)."""
        if self.frames and self.frames[-1].kind in _CONDITIONAL:
            self.frames[-1].condition = word == "elif"
        self.list = _List(len(self.flow.commands))
        self.continued = False

    def other(self, line: int) -> None:
        """A command commands mode does not run (its exit status decides a later ``&&`` or ``||``:
        ``test -f x && usacloud ...``, ``cd dir && usacloud ...``). ``true``, ``:`` and plain
        assignments always succeed and are not reported; ``usacloud a && usacloud b`` is straight-line."""
        if self.list.other is None:
            self.list.other = line
        if self.frames and self.frames[-1].other is None:
            self.frames[-1].other = line

    def bang(self, line: int) -> None:
        self.list.bang = line

    def coproc(self, line: int) -> None:
        self.list.coproc = line

    def operator(self, op: str, line: int) -> None:
        """A separator or control operator (not a redirection, not a parenthesis)."""
        if op in ("||", "&&", "|", "|&"):
            self._status_used(op)
        if op == "||":
            if self.list.or_line is None:
                self.list.or_line = line
            self.list.last_op, self.list.or_other = "||", self.list.other is not None
            self.list.bang = None
            self.continued = True
        elif op == "&&":
            if self.list.other is not None and self.list.and_guard is None:
                self.list.and_guard = line
            self.list.last_op = "&&"
            self.list.bang = None
            self.continued = True
        elif op in ("|", "|&"):
            self.continued = True
        elif op == "&":
            for command in self.flow.commands[self.list.start :]:
                self.flow.mark(command, ControlFlow(line, "&"))
            self.list = _List(len(self.flow.commands))
            self.continued = False
        elif op != "\n" or not self.continued:  # ; ;; ;& ;;& or a newline that ends the list
            self.list = _List(len(self.flow.commands))
            self.continued = False

    def _status_used(self, op: str) -> None:
        """What ``op`` makes of the usacloud commands before it: `&&` tests those of the pipeline
        just ended; `|` hides their status; `||` may swallow the status of any in the list."""
        commands = self.flow.commands
        if op == "&&":
            self.flow.tested.update(id(c) for c in self.list.last)
        else:
            first = self.list.start if op == "||" else self.list.part
            self.flow.untested.update(id(c) for c in commands[first:])
        self.list.part, self.list.last = len(commands), []

    def call(self, name: str, line: int) -> None:
        """A simple command named ``name`` (its first word after assignments) runs here: inside a
        function body it is one of the function's calls; elsewhere, a call of a function that can
        end the script counts as that (``die "no key"``, ``confirm``)."""
        function = self._function()
        if function is not None:
            self.flow.calls(function, name)
        elif self.flow.ends_the_script(name):
            self.may_exit(f"call {name}", line)

    def may_exit(self, construct: str, line: int) -> None:
        """Something that ends the script (or the subshell) when it runs: ``exit``, ``logout``,
        ``exec COMMAND``, ``eval``, ``kill $$``, ``set -n``, a ``${X:?message}`` expansion (bash exits
        when X is unset or empty), a call of a function that can end the script; ``return`` outside
        a function.

        Inside a function body it makes the function one that can end the script (``return`` does
        not). Inside ``if``/``case``/a loop it counts, whatever decides whether it runs. Otherwise it
        counts unless it runs only after a usacloud command failed: after ``||`` with nothing but
        usacloud (or always-succeeding) commands before it (``usacloud a || exit 1``: commands mode
        stops there anyway). After ``||`` that follows a command commands mode does not run
        (``[ "$OK" = yes ] || exit 0``, ``cd dir || exit 1``, ``grep -q x f || die``) it counts: such
        a guard fails as an ordinary outcome. After ``&&`` it counts whatever came before
        (``true && exit 0``, ``[ -f done ] && exit 0``).
        """
        if self.flow.inherited[-1] is not None:
            return
        function = self._function()
        if function is not None:
            if construct != "return":
                self.flow.can_end(function)
            return
        top = self.frames[-1] if self.frames and self.frames[-1].closer != ")" else None
        if top is None or not top.control_in_scope:
            guarded = top is not None and top.guarded_in_scope  # `usacloud a || { ...; exit 1; }`
            if guarded or self.list.exits_only_after_usacloud_failed():
                return
        self.flow.end_here(ControlFlow(line, construct))

    def status_ignored(self) -> bool:
        """Whether bash ignores the exit status of a command found now (``set -e`` does not stop at it): in
        an ``if``/``while``/``until`` condition, after ``!``, in a ``coproc``, in a function's body."""
        frame = self.frames[-1] if self.frames else None
        in_condition = frame is not None and (frame.condition or frame.within_condition)
        return in_condition or self.list.bang is not None or self.list.coproc is not None or self.in_function()

    def in_function(self) -> bool:
        last = self.frames[-1] if self.frames else None
        return (last is not None and last.kind.startswith("function ")) or self._function() is not None

    def after_usacloud_failed(self) -> bool:
        """Whether what comes now runs only after a usacloud command failed (``usacloud a || exit 1``)."""
        top = self.frames[-1] if self.frames and self.frames[-1].closer != ")" else None
        return (top is not None and top.guarded_in_scope) or self.list.exits_only_after_usacloud_failed()

    def _function(self) -> str | None:
        """The function whose body is being read, within the current exit scope (None: none)."""
        if not self.frames or self.frames[-1].closer == ")":
            return None
        return self.frames[-1].function


@dataclass
class _Frame:
    kind: str  # if while until for select case group subshell, or "function NAME"
    line: int
    closer: str
    enclosing: _List  # the and-or list the construct is part of
    other: int | None = None  # line of a command inside that commands mode does not run
    reason: ControlFlow | None = None  # why a command inside is not straight-line (this or an outer construct)
    # within the current exit scope (up to the innermost subshell), noted when the construct opened:
    function: str | None = None  # the innermost function whose body this is part of
    control_in_scope: bool = False  # inside if/case/a loop/a function body
    guarded_in_scope: bool = False  # runs only after a usacloud command failed (`usacloud a || { ... }`)
    condition: bool = False  # reading the condition of this if/while/until (before then/do)
    within_condition: bool = False  # inside the condition of an enclosing construct

    @property
    def control(self) -> bool:
        return self.kind in CONTROL_KEYWORDS or self.kind.startswith("function ")
