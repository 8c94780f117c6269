"""Parse a ``*.usacloud`` shell script into the usacloud commands it runs, without a shell.

Static only (tokens from :mod:`.shellwords`, order rules in :mod:`.flow`): whatever needs the shell
(an expansion, a construct bash decides) is marked on the command, never guessed. The rules users
see are the README's "What a script is"; the fields of what comes out are in :mod:`.parsed`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .checks import Checks
from .control import ALWAYS_SUCCEED, LOOKED_UP, ControlFlow
from .effects import alias_commands, assigns_path, ends_script, redefines_usacloud
from .flow import Flow, Level
from .markers import MarkerSpec, parse_markers
from .parsed import Command, ParsedScript, SkippedLine
from .prefixes import ASSIGNMENT, BUILTIN_WRAPPERS, assignments_of, literal, strip_wrappers
from .shellwords import Lexer
from .source import MAX_SCRIPT_BYTES_DEFAULT, ScriptError, SourceLines, check_line_ends, read_script_text
from .tokens import REDIRECTIONS, Op, ShellSyntaxError, Word, file_redirections, is_op, is_word

__all__ = [
    "MAX_SCRIPT_BYTES_DEFAULT",
    "Command",
    "ControlFlow",
    "MarkerSpec",
    "ParsedScript",
    "ScriptError",
    "SkippedLine",
    "parse_markers",
    "parse_script",
    "read_script_text",
]


# ---------------------------------------------------------------------------------------------
# reserved words skipped at the start of a command (the closers fi/done/esac/} just end one)
_PREFIX_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "in", "coproc", "fi", "done", "esac", "}"}
)
_OTHER_KEYWORDS = frozenset({"for", "select", "[[", "case", "function"})
_CASE_SEPARATORS = frozenset({";;", ";&", ";;&"})
#: ``${NAME:?...}`` / ``${NAME?...}``: bash prints the message and exits when NAME is unset (or empty)
_EXITING_EXPANSION = re.compile(r"\$\{[#!]?(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*])(?:\[[^\]]*\])?:?\?")


def parse_script(text: str) -> ParsedScript:
    """Find the usacloud commands of a script, in source order of their usacloud word (in
    ``usacloud a $(usacloud b)`` the outer one first), and one SkippedLine per top-level line without
    any, its reason naming the first word ("not a usacloud command: jq", "variable assignment: ID",
    "shell keyword: fi", "command name needs shell expansion: $CMD", "redirection only: >"...).

    The command word is found after ``VAR=value`` prefixes and the wrappers ``command``, ``exec``,
    ``nohup`` and ``env NAME=value...`` (:mod:`.prefixes`); ``sudo``, ``timeout``, ``xargs`` are not
    looked through. Any word whose basename is ``usacloud`` counts (``/usr/local/bin/usacloud``,
    ``\\usacloud``). A ScriptError for unterminated quotes, substitutions or here-documents (bash
    only warns, but the rest of the script would vanish), substitutions nested more than 100 deep, a
    NUL byte and Windows line ends. Not looked into: here-document bodies, ``$((...))``, what
    ``eval`` runs."""
    check_line_ends(text)
    markers = parse_markers(text)
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - text.rfind("\n", 0, nul)
        raise ScriptError(line, f"NUL byte at line {line}, column {column}: not a text script")
    lexer = Lexer(text)
    try:
        tokens = lexer.tokens()
        walker = _Walker(text, lexer.cont_lines)
        walker.walk(lexer, tokens, nested=False, top=True)
    except ShellSyntaxError as e:
        raise ScriptError(e.line, e.message) from None
    return ParsedScript(walker.result(), tuple(walker.skipped), markers, walker.checks.result())


def _test_end(toks: list, i: int):
    """The token that ends the ``[[ ... ]]`` whose operands start at ``toks[i]``: its ``]]``, or a
    newline that does not follow ``&&``/``||`` (None: the end of the tokens)."""
    for j in range(i, len(toks)):
        token = toks[j]
        if is_word(token, "]]"):
            return token
        if is_op(token, "\n") and not (j > i and toks[j - 1].__class__ is Op and toks[j - 1].op in ("&&", "||")):
            return token
    return None


class _Walker:
    """Turns token lists into Commands (recursing into substitutions) and SkippedLines."""

    def __init__(self, text: str, cont_lines: set):
        self.text = SourceLines(text, cont_lines).text
        self.commands: list[Command] = []
        self.skipped: list[SkippedLine] = []
        self.reason: str | None = None  # why the current top-level line is skipped, if it is
        self.flow = Flow(self.commands)  # which commands are not straight-line
        self.checks = Checks(text)  # the skipped commands that can decide the script's result

    def result(self) -> tuple[Command, ...]:
        marks, tested = self.flow.marks, self.flow.tested - self.flow.untested
        if not marks and not tested:
            return tuple(self.commands)
        return tuple(  # the objects are alive: ids are unique
            replace(c, control=marks.get(id(c), c.control), tested=id(c) in tested)
            if id(c) in marks or id(c) in tested
            else c
            for c in self.commands
        )

    def note(self, top: bool, reason: str) -> None:
        if top and self.reason is None:
            self.reason = reason

    def walk_subs(self, word: Word, reason: ControlFlow | None, line: int) -> None:
        """The command substitutions of ``word`` (at ``line``); one inside a parameter expansion runs
        only as the expansion decides (``${X:-$(cmd)}``)."""
        for index, (lexer, tokens) in enumerate(word.subs):
            why = reason or (ControlFlow(line, "${") if index in word.braced else None)
            with self.flow.substitution(why):
                self.walk(lexer, tokens, nested=True, top=False)

    def end_unit(self, lexer: Lexer, tokens: list, begin: int, end: int, commands_before: int) -> None:
        if begin >= end:
            return
        if len(self.commands) == commands_before:
            first = lexer.line_of(tokens[begin].start)
            last = lexer.line_of(tokens[end - 1].end - 1)
            self.skipped.append(SkippedLine(first, self.text(first, last), self.reason or "shell syntax"))
        self.reason = None

    def walk(self, lexer: Lexer, toks: list, nested: bool, top: bool) -> None:
        n = len(toks)
        i = 0
        cur: list = []  # tokens of the current simple command, in order
        words: list = []  # its words that are not redirection targets
        case_stack: list[bool] = []  # per open `case`: expecting a pattern?
        unit_begin, unit_commands = 0, len(self.commands)
        level = self.flow.level()
        while i < n:
            t = toks[i]
            i += 1
            if t.__class__ is Op:
                op = t.op
                if op in REDIRECTIONS:
                    cur.append(t)
                    if i < n and toks[i].__class__ is Word:
                        cur.append(toks[i])
                        i += 1
                    continue
                if op == "(" and len(words) == 1 and len(cur) == 1 and i < n and is_op(toks[i], ")"):
                    self.note(top, f"function definition: {words[0].value}")  # name() { ...
                    level.function_definition(words[0].value, lexer.line_of(t.start))
                    cur, words = [], []
                    i += 1
                    continue
                if cur:
                    self.finish(lexer, cur, words, nested, top, level)
                    cur, words = [], []
                if top:
                    self.checks.operator(op, level.continued)
                if op == "(" and not (case_stack and case_stack[-1]):
                    level.open("subshell", lexer.line_of(t.start))
                elif op == ")":
                    level.close(")")
                else:
                    level.operator(op, lexer.line_of(t.start))
                if op == "\n":
                    if top:
                        self.end_unit(lexer, toks, unit_begin, i - 1, unit_commands)
                        unit_begin, unit_commands = i, len(self.commands)
                    continue
                if op in _CASE_SEPARATORS and case_stack:
                    case_stack[-1] = True
                elif op == "(" and case_stack and case_stack[-1]:
                    continue  # optional "(" before a case pattern
                self.note(top, f"shell syntax: {op}")
                continue
            level.word()
            if cur:
                cur.append(t)
                words.append(t)
                continue
            if case_stack and case_stack[-1]:
                if t.plain and t.value == "esac":
                    case_stack.pop()
                    level.close("esac")
                    self.note(top, "shell keyword: esac")
                    continue
                self.note(top, f"case pattern: {t.value}")
                i = self.skip(toks, i - 1, lambda x: x.__class__ is Op and x.op in (")", "\n"), level, lexer)
                if i < n and toks[i].op == ")":
                    i += 1
                case_stack[-1] = False
                continue
            if t.arith:
                self.note(top, "shell keyword: ((")
                level.other(lexer.line_of(t.start))
                if top:
                    self.check(level, lexer.line_of(t.start), lexer.line_of(t.end - 1), "((", [])
                continue
            v = t.value
            if not t.plain or (v not in _PREFIX_KEYWORDS and v not in _OTHER_KEYWORDS):
                cur.append(t)
                words.append(t)
            elif v in _PREFIX_KEYWORDS:
                self.note(top, f"shell keyword: {v}")
                self.keyword(level, v, lexer.line_of(t.start))
                if v == "esac" and case_stack:
                    case_stack.pop()
                elif v == "time" and i < n and toks[i].__class__ is Word and toks[i].value == "-p":
                    i += 1
            elif v in ("for", "select"):
                self.note(top, f"shell keyword: {v}")
                level.open(v, lexer.line_of(t.start))
                i = self.skip(toks, i, lambda x: x.__class__ is Op and x.op in (";", "\n", "&"), level, lexer)
            elif v == "[[":
                self.note(top, "shell keyword: [[")
                line = lexer.line_of(t.start)
                level.other(line)
                inside = level.reason() or ControlFlow(line, "[[")  # `[[ a || $(cmd) ]]`: maybe not run
                end = _test_end(toks, i)
                i = self.skip(toks, i, lambda x, last=end: x is last, level, lexer, inside)
                i += i < n and toks[i].__class__ is Word  # the "]]"
                if top:
                    self.check(level, line, lexer.line_of(toks[i - 1].end - 1) if i else line, "[[", [])
            elif v == "case":
                self.note(top, "shell keyword: case")
                level.open("case", lexer.line_of(t.start))
                i = self.skip(toks, i, lambda x: x.__class__ is Op or (x.plain and x.value == "in"), level, lexer)
                if i < n and toks[i].__class__ is Word:
                    i += 1
                case_stack.append(True)
            else:  # function NAME [()]
                name = toks[i].value if i < n and toks[i].__class__ is Word else ""
                self.note(top, f"function definition: {name}")
                level.function_definition(name, lexer.line_of(t.start))
                i += 1 if name else 0
                if i + 1 < n and is_op(toks[i], "(") and is_op(toks[i + 1], ")"):
                    i += 2
        if cur:
            self.finish(lexer, cur, words, nested, top, level)
        if top:
            self.end_unit(lexer, toks, unit_begin, n, unit_commands)

    @staticmethod
    def keyword(level: Level, v: str, line: int) -> None:
        """Follow a reserved word met at the start of a command."""
        if v in ("if", "while", "until"):
            level.open(v, line)
        elif v == "{":
            level.open("group", line)
        elif v in ("fi", "done", "esac", "}"):
            level.close(v)
        elif v in ("then", "else", "elif", "do"):
            level.middle(v)
        elif v == "!":
            level.bang(line)
        elif v == "coproc":
            level.coproc(line)

    def skip(self, toks: list, i: int, stop, level: Level, lexer: Lexer, reason: ControlFlow | None = None) -> int:
        """Skip tokens up to (not including) the first one matching ``stop``, walking their substitutions
        (with ``reason``, or the current one)."""
        n = len(toks)
        while i < n and not stop(toks[i]):
            if toks[i].__class__ is Word and toks[i].subs:
                self.walk_subs(toks[i], reason or level.reason(), lexer.line_of(toks[i].start))
            i += 1
        return i

    def finish(self, lexer: Lexer, cur: list, words: list, nested: bool, top: bool, level: Level) -> None:
        """Handle one simple command: ``cur`` all its tokens, ``words`` those not redirection targets."""
        k = 0  # skip VAR=value prefixes
        while k < len(words) and "=" in words[k].raw and ASSIGNMENT.match(words[k].raw):
            k += 1
        first_assignment = words[0] if k else None
        prefixes = k
        if k < len(words) - 1:
            k += strip_wrappers(words, k)
        line = lexer.line_of(cur[0].start)
        reason = level.reason()
        command = None
        checked = None  # the name of a command that is neither usacloud nor an expansion
        if k < len(words):
            name = words[k].value
            if name.rsplit("/", 1)[-1] == "usacloud":
                if "/" in name and not name.startswith("/"):  # `./usacloud`: that file, not the one on PATH
                    reason = reason or ControlFlow(line, f"path {name}")
                argv = words[k:]
                end_line = lexer.line_of(cur[-1].end - 1)
                assignments = assignments_of(words[:prefixes]) + assignments_of(words[prefixes:k], env=True)
                expansion = None
                redirections = file_redirections(cur)
                # as written: the prefixes first; a redirection's file too (bash may fail to open it)
                for w in (*words[:prefixes], *argv, *(target for _, target in redirections)):
                    if w.expansion is not None:
                        expansion = w.expansion
                        break
                command = Command(
                    line,
                    end_line,
                    self.text(line, end_line),
                    tuple([w.value for w in argv]),
                    expansion,
                    nested,
                    assignments,
                    redirections=tuple((op, target.value) for op, target in redirections),
                )
                self.commands.append(command)
                self.flow.mark(command, reason)
                level.found(command)
            elif words[k].expansion is not None:
                self.note(top, f"command name needs shell expansion: {name}")
                level.other(line)
            else:
                self.note(top, f"not a usacloud command: {name}")
                checked = name
                if not (words[k].plain and name in ALWAYS_SUCCEED):
                    level.other(line)
        elif first_assignment is not None:
            self.note(top, f"variable assignment: {ASSIGNMENT.match(first_assignment.raw).group(1)}")
            if any(w.subs for w in words):  # `X=$(cmd)` has cmd's exit status
                level.other(line)
            if assigns_path([w.raw for w in words]):  # which `usacloud` bash finds from now on
                self.flow.redefine(line, "PATH=")
        else:
            self.note(top, f"redirection only: {cur[0].op}")
            level.other(line)  # `< missing-file` fails
        if top:
            self.check(level, line, lexer.line_of(cur[-1].end - 1), checked, [w.value for w in words[k + 1 :]])
        self.effects(level, words, prefixes, line)
        if any(_EXITING_EXPANSION.search(w.raw) for w in words):
            level.may_exit("${:?}", line)  # `: "${CONFIRM:?set it}"`, `X=${X:?}`: bash exits when unset
        if any(t.__class__ is Word and t.subs for t in cur):
            if command is not None:  # keep source order: substitutions before the command word first
                self.commands.pop()
            for t in cur:
                if command is not None and t is words[k]:
                    self.commands.append(command)
                    command = None
                if t.__class__ is Word and t.subs:
                    self.walk_subs(t, reason, lexer.line_of(t.start))

    def check(self, level: Level, line: int, end_line: int, name: str | None, args: list[str]) -> None:
        """A top-level command for :class:`Checks` (``name`` None: not one it looks at)."""
        text = self.text(line, end_line)
        runs = not level.in_function() and not level.after_usacloud_failed()  # as the lines say
        if name in ("exit", "logout", "return"):
            if name != "return" and runs and args and args[0] != "0":
                self.checks.ends(line, text, f"`exit {args[0]}` ends the script with a failure")
            name = None
        elif name == "exec" and not args:  # `exec >log 2>&1` only redirects
            name = None
        elif name is not None and runs and self.flow.ends_the_script(name):  # `[ -s out ] || die "empty"`
            self.checks.ends(line, text, f"`{name}` is a function that can end the script")
        self.checks.command(line, text, name, args, level.status_ignored(), bool(level.frames))

    def effects(self, level: Level, words: list, prefixes: int, line: int) -> None:
        """What the simple command does to the rest of the script (:mod:`effects`), and a call of a
        function (``command f`` and ``builtin f`` skip functions)."""
        wrapped = prefixes < len(words) and literal(words[prefixes]) in BUILTIN_WRAPPERS  # `command exit 0`
        first = prefixes + 1 if wrapped else prefixes
        name = literal(words[first]) if first < len(words) else None
        if name is None:
            return
        args = [w.value for w in words[first + 1 :]]
        ender = ends_script(name, args, self.flow.ends_the_script)
        if ender is not None:
            level.may_exit(ender, line)
        how = redefines_usacloud(name, args, LOOKED_UP)
        if how is not None:
            self.flow.redefine(line, how)
        if name == "alias":
            for arg in args:
                alias, eq, body = arg.partition("=")
                if eq and alias != "usacloud":
                    self.alias_body(alias, body)
        if not wrapped:
            level.call(name, line)

    def alias_body(self, alias: str, body: str) -> None:
        """``alias NAME=BODY``: calling NAME runs BODY's commands, like a function's (``alias die='exit 1'``
        makes ``die`` end the script). Counted whether or not ``expand_aliases`` is on (a file the script
        sources may turn it on); a body that does not lex counts as one that can end the script."""
        commands = alias_commands(body)
        if commands is None or any(ends_script(name, args) is not None for name, *args in commands):
            self.flow.can_end(alias)
            return
        for name, *_ in commands:
            self.flow.calls(alias, name)
