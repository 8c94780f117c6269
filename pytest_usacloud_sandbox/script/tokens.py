"""The lexer's tokens: :class:`Word` and :class:`Op`, and the error it raises."""

from __future__ import annotations

SEPARATORS = frozenset({";", "&", "&&", "||", "|", "|&", "\n", ";;", ";&", ";;&", "(", ")"})
REDIRECTIONS = frozenset({"<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<", "<<-", "<<<"})
_NO_FILE = frozenset({"<<", "<<-", "<<<"})  # here-documents and here-strings open no file


class ShellSyntaxError(Exception):
    """Raised by the lexer; ``line`` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(line, message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return self.message


class Word:
    """One shell word.  ``value``: quotes removed, escapes resolved, expansions verbatim."""

    __slots__ = ("arith", "braced", "end", "expansion", "quoted", "raw", "start", "subs", "value")

    def __init__(self, value, raw, start, end, expansion, quoted, subs=(), arith=False, braced=frozenset()):
        self.value = value
        self.raw = raw
        # offsets in the lexer's text, for Lexer.line_of only: the words of a one-line run of
        # simple words all get the run's offsets
        self.start = start
        self.end = end
        self.expansion = expansion  # first piece needing expansion, or None
        self.quoted = quoted  # any quoting/escaping used (keywords must be unquoted)
        self.subs = subs  # (lexer, tokens) of each $( ), <( ), `...` in the word, in order
        self.arith = arith  # an arithmetic command ((...))
        self.braced = braced  # indexes of the subs inside a parameter expansion ${...}: bash may not run them

    @property
    def plain(self) -> bool:
        """Unquoted and without expansions: may be a reserved word."""
        return not self.quoted and self.expansion is None and not self.arith

    def __repr__(self) -> str:
        return f"Word({self.value!r}, start={self.start})"


class Op:
    """An operator: a separator (``;`` ``&&`` ``|`` newline ...), ``(``/``)`` or a redirection."""

    __slots__ = ("end", "fd", "op", "start")

    def __init__(self, op, start, fd=None):
        self.op = op
        self.start = start
        self.end = start + len(op)
        self.fd = fd  # IO number before a redirection ("2" in 2>&1)

    def __repr__(self) -> str:
        return f"Op({self.op!r}, start={self.start})"


class WordBuilder:
    """The pieces of the word being read: its value so far, its first expansion, its substitutions."""

    __slots__ = ("braced", "exp", "exp_pos", "parts", "quoted", "subs")

    def __init__(self, subs=None):
        self.parts = []
        self.exp = None
        self.exp_pos = -1
        self.quoted = False
        self.subs = [] if subs is None else subs
        self.braced: set[int] = set()  # indexes of ``subs`` read inside a ``${...}``

    def note(self, pos, piece):
        if self.exp is None or pos < self.exp_pos:
            self.exp, self.exp_pos = piece, pos

    def verbatim(self, pos, piece):
        self.note(pos, piece)
        self.parts.append(piece)


def is_op(token, op: str) -> bool:
    return isinstance(token, Op) and token.op == op


def is_word(token, value: str) -> bool:
    return isinstance(token, Word) and token.plain and token.value == value


def file_redirections(tokens: list) -> list[tuple[str, Word]]:
    """The redirections among a simple command's tokens that open a file or a descriptor, with their
    target words (each target follows its operator)."""
    found = []
    for index, token in enumerate(tokens[:-1]):
        if token.__class__ is Op and token.op in REDIRECTIONS and token.op not in _NO_FILE:
            target = tokens[index + 1]
            if target.__class__ is Word:
                found.append((token.op, target))
    return found
