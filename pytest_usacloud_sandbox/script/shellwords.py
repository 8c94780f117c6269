"""A POSIX-shell (plus common bash syntax) tokenizer that never executes anything.

:class:`Lexer` turns script text into :class:`~.tokens.Word` and :class:`~.tokens.Op` tokens: quotes
and escapes resolved, expansions kept verbatim (the first one noted), ``$(...)``/``<(...)``/backtick
bodies tokenized recursively, continuations (their lines kept in ``cont_lines``) and comments dropped,
here-document bodies skipped. The scan is linear: regex fast paths, no backtracking patterns.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from .expansions import Expansions
from .tokens import REDIRECTIONS, SEPARATORS, Op, ShellSyntaxError, Word, WordBuilder, is_word

MAX_NESTING = 100

_OPS3 = frozenset({"<<<", "<<-", ";;&", "&>>"})
_OPS2 = frozenset({"&&", "||", "|&", ";;", ";&", "&>", ">>", ">|", ">&", "<>", "<&", "<<"})
# words after which the next word is in command position (for `((` and `case` tracking)
_KW_BEFORE_CMD = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "for"})

_PLAIN = re.compile(r"[^ \t\n;&|()<>'\"\\$`*?\[\]{}~]+")
# A "simple" word: only ordinary characters and quotes without escapes or expansions, followed
# by a blank or a separator.  _FAST matches blanks, then a newline or a run of simple words.
_SIMPLE = (
    r"(?:[^ \t\n;&|()<>'\"\\$`*?\[\]{}~#]|'[^']*+'|\"[^\"\\$`]*+\")"
    r"(?:[^ \t\n;&|()<>'\"\\$`*?\[\]{}~]++|'[^']*+'|\"[^\"\\$`]*+\")*+(?=[ \t\n;&|)]|\Z)"
)
_FAST = re.compile(rf"[ \t]*+(?:(\n)|({_SIMPLE}(?:[ \t]++{_SIMPLE})*+))?")
_SIMPLE_WORD = re.compile(_SIMPLE)
#: Only bash's blanks separate words: U+3000, a no-break space and the like are word characters.
_BLANKS = re.compile(r"[ \t]+")
_PIECES = re.compile(r"'([^']*)'|\"([^\"]*)\"|([^'\"]+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
#: What may stand right before a redirection operator: an IO number, or ``{NAME}`` (bash gives NAME a new descriptor)
_IO_WORD = re.compile(r"[0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\}")


class Lexer(Expansions):
    """Tokenize ``text``; ``first_line`` is the line number of ``text[0]``."""

    def __init__(self, text: str, first_line: int = 1, cont_lines: set | None = None, depth: int = 0):
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.first_line = first_line
        self.nl: list[int] | None = None
        self.cont_lines = set() if cont_lines is None else cont_lines
        # (delimiter, strip tabs, offset of <<, delimiter quoted: no backslash-newline joining in the body)
        self.heredocs: list[tuple[str, bool, int, bool]] = []
        self.depth = depth

    # -- helpers ------------------------------------------------------------------------------
    def line_of(self, pos: int) -> int:
        """1-based line number (in the whole script) of offset ``pos`` of this lexer's text."""
        if self.nl is None:
            self.nl = [m.start() for m in re.finditer("\n", self.text)]
        return self.first_line + bisect_left(self.nl, pos)

    def _error(self, pos: int, what: str):
        line = self.line_of(pos)
        raise ShellSyntaxError(line, f"unterminated {what} starting at line {line}")

    def _cont(self, pos: int) -> None:
        self.cont_lines.add(self.line_of(pos))

    def _nest(self, pos: int) -> None:
        if self.depth >= MAX_NESTING:
            line = self.line_of(pos)
            raise ShellSyntaxError(line, f"substitutions nested more than {MAX_NESTING} deep at line {line}")

    def _sub_tokens(self, pos: int, body: int, what: str) -> tuple[Lexer, list]:
        """Tokenize from ``body`` up to the ``)`` closing the construct that starts at ``pos``."""
        self._nest(pos)
        self.depth += 1
        self.pos = body
        try:
            return self, self.tokens(closer_at=pos, what=what)
        finally:
            self.depth -= 1

    # -- tokens -------------------------------------------------------------------------------
    def tokens(self, closer_at: int | None = None, what: str = "$(") -> list:
        """Tokens up to EOF, or (``closer_at`` given) up to the matching ``)``, consumed."""
        text, n = self.text, self.n
        toks: list = []
        paren = case_depth = 0
        cmd_pos = True  # is the next token in command position?
        heredoc_op = None
        word_end = -1
        fast = _FAST.match
        while True:
            m = fast(text, self.pos)
            pos = m.end()
            group = m.lastindex
            if group == 2:  # the common case: a run of simple words
                run = m.group(2)
                self.pos = word_end = pos
                quotes = "'" in run or '"' in run
                parts = _SIMPLE_WORD.findall(run) if quotes else _BLANKS.split(run)
                if (
                    heredoc_op is not None
                    or "\n" in run
                    or not _KW_BEFORE_CMD.isdisjoint(parts)
                    or (cmd_pos and parts[0] in ("case", "esac"))
                ):
                    for w in _SIMPLE_WORD.finditer(text, m.start(2), pos):
                        raw = w.group()
                        if "'" in raw or '"' in raw:
                            tok = Word(_unquote(raw), raw, w.start(), w.end(), None, True)
                        else:
                            tok = Word(raw, raw, w.start(), w.end(), None, False)
                        if heredoc_op is not None:
                            self.heredocs.append((tok.value, heredoc_op[0] == "<<-", heredoc_op[1], tok.quoted))
                            heredoc_op = None
                        elif cmd_pos and not tok.quoted:
                            if raw == "case":
                                case_depth += 1
                            elif raw == "esac" and case_depth:
                                case_depth -= 1
                        toks.append(tok)
                        cmd_pos = raw in _KW_BEFORE_CMD
                else:  # all on one line: the words share the run's offsets (only lines matter)
                    start = m.start(2)
                    if quotes:
                        toks += [
                            Word(_unquote(w), w, start, pos, None, True)
                            if "'" in w or '"' in w
                            else Word(w, w, start, pos, None, False)
                            for w in parts
                        ]
                    else:
                        toks += [Word(w, w, start, pos, None, False) for w in parts]
                    cmd_pos = False
                continue
            elif group == 1:
                tok = Op("\n", pos - 1)
                self.pos = pos
                if heredoc_op is not None:
                    self._no_delimiter(*heredoc_op)
                if self.heredocs:
                    self._skip_heredocs()
                toks.append(tok)
                cmd_pos = True
                continue
            else:
                self.pos = pos
                if pos >= n:
                    if closer_at is not None:
                        self._error(closer_at, what)
                    if heredoc_op is not None:
                        self._no_delimiter(*heredoc_op)
                    if self.heredocs:
                        self._skip_heredocs()  # raises: the here-document has no body
                    return toks
                c = text[pos]
                if c == "\\" and text.startswith("\n", pos + 1):
                    self._cont(pos)
                    self.pos = pos + 2
                    continue
                if c == "#":
                    end = text.find("\n", pos)
                    self.pos = n if end < 0 else end
                    continue
                if c in ";&|()<>" and not (c in "<>" and text.startswith("(", pos + 1)):
                    if heredoc_op is not None:
                        self._no_delimiter(*heredoc_op)
                    if c == "(" and text.startswith("((", pos) and (cmd_pos or (toks and is_word(toks[-1], "for"))):
                        end = self._scan_arith(pos, pos + 2, "((")
                        if end is not None:
                            raw = text[pos:end]
                            toks.append(Word(raw, raw, pos, end, None, False, (), True))
                            self.pos = end
                            cmd_pos = False
                            continue
                    op = text[pos : pos + 3]
                    if op not in _OPS3:
                        op = op[:2] if op[:2] in _OPS2 else c
                    self.pos = pos + len(op)
                    if op == ")":
                        if closer_at is not None and paren == 0 and case_depth == 0:
                            return toks
                        paren = max(0, paren - 1)
                    elif op == "(":
                        paren += 1
                    fd = None
                    if op in REDIRECTIONS and word_end == pos and _IO_WORD.fullmatch(toks[-1].raw):
                        fd = toks.pop().raw  # IO number: "2" in 2>&1, or a descriptor variable: {fd}>log
                    toks.append(Op(op, pos, fd))
                    if op in ("<<", "<<-"):
                        heredoc_op = (op, pos)
                    cmd_pos = op in SEPARATORS
                    continue
                tok = self.read_word()
                word_end = self.pos
            if heredoc_op is not None:
                self.heredocs.append((tok.value, heredoc_op[0] == "<<-", heredoc_op[1], tok.quoted))
                heredoc_op = None
            elif cmd_pos and tok.plain:
                if tok.value == "case":
                    case_depth += 1
                elif tok.value == "esac" and case_depth:
                    case_depth -= 1
            toks.append(tok)
            cmd_pos = tok.value in _KW_BEFORE_CMD and tok.plain

    def _no_delimiter(self, op: str, pos: int):
        line = self.line_of(pos)
        raise ShellSyntaxError(line, f"here-document operator {op} without a delimiter word at line {line}")

    def _skip_heredocs(self) -> None:
        n = self.n
        for delim, strip_tabs, op_pos, quoted in self.heredocs:
            while True:
                if self.pos >= n:  # bash only warns, but the rest of the script would silently vanish
                    line = self.line_of(op_pos)
                    raise ShellSyntaxError(
                        line, f"unterminated here-document starting at line {line}: no line {delim!r} closes it"
                    )
                if self._body_line(strip_tabs, quoted) == delim:
                    break
        self.heredocs.clear()

    def _body_line(self, strip_tabs: bool, quoted: bool) -> str:
        """The next logical line of a here-document body (consumed), as bash compares it with the
        delimiter: with an unquoted delimiter a line ending in an odd number of backslashes goes on
        on the next line (``a \\`` then ``EOF`` is the line ``a EOF``; ``E\\`` then ``OF`` is ``EOF``)."""
        text, n = self.text, self.n
        logical = []
        first = True
        while True:
            end = text.find("\n", self.pos)
            if end < 0:
                end = n
            line = text[self.pos : end]
            self.pos = min(end + 1, n)
            if first and strip_tabs:
                line = line.lstrip("\t")
            first = False
            trailing = len(line) - len(line.rstrip("\\"))
            if quoted or trailing % 2 == 0 or end >= n:
                logical.append(line)
                return "".join(logical)
            logical.append(line[:-1])

    # -- words --------------------------------------------------------------------------------
    def _assignment_tilde(self, start: int, pos: int) -> bool:
        """A ``~`` at ``pos`` that bash expands in a word shaped like an assignment (``note=~/x``,
        ``a=b:~/x``, also as an argument): right after its first ``=`` or an unquoted ``:`` in the value."""
        text = self.text
        if text[pos - 1] not in "=:":
            return False
        name = _ASSIGN_PREFIX.match(text, start)
        return name is not None and name.end() <= pos

    def read_word(self) -> Word:
        text, n = self.text, self.n
        start = pos = self.pos
        b = WordBuilder()
        bracket = brace = None
        while pos < n:
            m = _PLAIN.match(text, pos)
            if m:
                b.parts.append(m.group())
                pos = m.end()
                if pos >= n:
                    break
            c = text[pos]
            if c in " \t\n;&|()<>":
                if c in "<>" and pos == start and text.startswith("(", pos + 1):  # process substitution
                    b.subs.append(self._sub_tokens(pos, pos + 2, c + "("))
                    b.verbatim(pos, text[pos : self.pos])
                    pos = self.pos
                    continue
                if c == "(" and _ASSIGN_PREFIX.fullmatch(text, start, pos):  # array assignment A=( ... )
                    for tok in self._sub_tokens(pos, pos + 1, "(")[1]:
                        if isinstance(tok, Word):
                            b.braced.update(len(b.subs) + i for i in tok.braced)
                            b.subs.extend(tok.subs)
                    b.verbatim(pos, text[pos : self.pos])
                    pos = self.pos
                    continue
                break
            if c == "\\":
                nxt = text[pos + 1 : pos + 2]
                if nxt == "\n":
                    self._cont(pos)
                elif nxt:
                    b.parts.append(nxt)
                    b.quoted = True
                else:
                    b.parts.append("\\")
                pos += 2
            elif c == "'":
                end = text.find("'", pos + 1)
                if end < 0:
                    self._error(pos, "single quote")
                b.parts.append(text[pos + 1 : end])
                b.quoted = True
                pos = end + 1
            elif c in '"$`':
                self.pos = pos
                if c == '"':
                    self.read_dquote(b)
                elif c == "$":
                    self.read_dollar(b, False)
                else:
                    self.read_backtick(b, False)
                pos = self.pos
            else:
                if c in "*?" or (c == "~" and (pos == start or self._assignment_tilde(start, pos))):
                    b.note(pos, c)
                elif c == "[" and bracket is None:
                    bracket = pos
                elif c == "]" and bracket is not None:
                    b.note(bracket, "[")
                    bracket = None
                elif c == "{" and brace is None:
                    brace = pos
                elif c == "}" and brace is not None:
                    inner = text[brace + 1 : pos]
                    if "," in inner or ".." in inner:
                        b.note(brace, text[brace : pos + 1])
                    brace = None
                b.parts.append(c)
                pos += 1
        self.pos = pos
        braced = frozenset(b.braced)
        return Word("".join(b.parts), text[start:pos], start, pos, b.exp, b.quoted, b.subs, False, braced)


def _unquote(raw: str) -> str:
    """Quote removal for a simple word (its quoted parts contain no escapes)."""
    if '"' not in raw:
        return raw.replace("'", "")  # a '...' part cannot contain "'"
    if "'" not in raw:
        return raw.replace('"', "")
    return "".join(a or b or c for a, b, c in _PIECES.findall(raw))
