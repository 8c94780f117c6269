"""Quotes and expansions inside a word: double quotes, ``$...`` (``$X``, ``${...}``, ``$(...)``,
``$((...))``, ``$'...'``, ``$"..."``) and backticks, for :class:`~.shellwords.Lexer`.

Read statically: ANSI-C strings are resolved, everything that needs the shell stays verbatim in the
word and its first piece is noted; substitution bodies are tokenized recursively.
"""

from __future__ import annotations

import re

from .tokens import WordBuilder

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DQ_PLAIN = re.compile(r"[^\"\\$`]+")
_BT_PLAIN = re.compile(r"[^`\\]+")
_BR_PLAIN = re.compile(r"[^}\\'\"$`]+")
_AR_PLAIN = re.compile(r"[^()'\"\\]+")
_ANSI_PLAIN = re.compile(r"[^'\\]+")
_OCT = re.compile(r"[0-7]{1,3}")
_HEX = {
    "x": re.compile(r"[0-9A-Fa-f]{1,2}"),
    "u": re.compile(r"[0-9A-Fa-f]{1,4}"),
    "U": re.compile(r"[0-9A-Fa-f]{1,8}"),
}
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


class Expansions:
    """The readers a :class:`~.shellwords.Lexer` uses inside a word (a mixin: they move ``self.pos``)."""

    def read_dquote(self, b: WordBuilder) -> None:
        text, n = self.text, self.n
        start = self.pos
        pos = start + 1
        b.quoted = True
        while True:
            m = _DQ_PLAIN.match(text, pos)
            if m:
                b.parts.append(m.group())
                pos = m.end()
            if pos >= n:
                self._error(start, "double quote")
            c = text[pos]
            if c == '"':
                self.pos = pos + 1
                return
            if c == "\\":
                nxt = text[pos + 1 : pos + 2]
                if nxt == "\n":
                    self._cont(pos)
                    pos += 2
                elif nxt and nxt in '$`"\\':
                    b.parts.append(nxt)
                    pos += 2
                else:
                    b.parts.append("\\")
                    pos += 1
            else:
                self.pos = pos
                if c == "$":
                    self.read_dollar(b, True)
                else:
                    self.read_backtick(b, True)
                pos = self.pos

    def read_dollar(self, b: WordBuilder, in_dq: bool) -> None:
        text = self.text
        pos = q = self.pos
        while text.startswith("\\\n", q + 1):  # "$\<newline>X" is "$X"
            self._cont(q + 1)
            q += 2
        nxt = text[q + 1 : q + 2]
        if nxt == "'" and not in_dq:
            self.read_ansi_c(b, q + 2)
        elif nxt == '"' and not in_dq:  # $"..." locale translation: a double-quoted string
            self.pos = q + 1
            self.read_dquote(b)
        elif nxt == "(":
            if text.startswith("((", q + 1):
                end = self._scan_arith(pos, q + 3, "$((")
                if end is not None:
                    self.pos = end
                    b.verbatim(pos, "$" + text[q + 1 : end])
                    return
            b.subs.append(self._sub_tokens(pos, q + 2, "$("))
            b.verbatim(pos, "$" + text[q + 1 : self.pos])
        elif nxt == "{":
            self.read_braced(b, in_dq, q + 2)
        else:
            m = _NAME.match(text, q + 1)
            if m:
                end = m.end()
            elif nxt and nxt in "0123456789@*#?$!-":
                end = q + 2
            else:  # a lone "$" is literal
                b.parts.append("$")
                self.pos = pos + 1
                return
            self.pos = end
            b.verbatim(pos, "$" + text[q + 1 : end])

    def read_braced(self, b: WordBuilder, in_dq: bool, body: int) -> None:
        """``${...}`` (its body at ``body``): scanned for nested quotes and substitutions (kept in ``b.subs``)."""
        text, n = self.text, self.n
        start = self.pos
        pos = body
        first_sub = len(b.subs)
        inner = WordBuilder(b.subs)
        while True:
            m = _BR_PLAIN.match(text, pos)
            if m:
                pos = m.end()
            if pos >= n:
                self._error(start, "${")
            c = text[pos]
            if c == "}":
                pos += 1
                break
            if c == "\\":
                pos += 2
            elif c == "'":
                if in_dq:
                    pos += 1
                    continue
                end = text.find("'", pos + 1)
                if end < 0:
                    self._error(pos, "single quote")
                pos = end + 1
            else:
                self.pos = pos
                if c == '"':
                    self.read_dquote(inner)
                elif c == "$":
                    self._nest(pos)
                    self.depth += 1
                    try:
                        self.read_dollar(inner, in_dq)
                    finally:
                        self.depth -= 1
                else:
                    self.read_backtick(inner, in_dq)
                pos = self.pos
        self.pos = pos
        b.braced.update(range(first_sub, len(b.subs)))  # `${X:-$(cmd)}`: bash runs cmd only if X is unset
        b.verbatim(start, "${" + text[body:pos])

    def read_backtick(self, b: WordBuilder, in_dq: bool) -> None:
        text, n = self.text, self.n
        start = self.pos
        pos = start + 1
        first_line = self.line_of(pos)
        chunks = []
        while True:
            m = _BT_PLAIN.match(text, pos)
            if m:
                chunks.append(m.group())
                pos = m.end()
            if pos >= n:
                self._error(start, "backtick")
            if text[pos] == "`":
                pos += 1
                break
            nxt = text[pos + 1 : pos + 2]
            if nxt and (nxt in "$`\\" or (in_dq and nxt == '"')):
                chunks.append(nxt)
                pos += 2
            else:
                chunks.append("\\")
                pos += 1
        self._nest(start)
        sub = type(self)("".join(chunks), first_line, self.cont_lines, self.depth + 1)
        b.subs.append((sub, sub.tokens()))
        self.pos = pos
        b.verbatim(start, text[start:pos])

    def read_ansi_c(self, b: WordBuilder, pos: int) -> None:
        """``$'...'`` (its body at ``pos``): resolved statically, a literal like a quoted string."""
        text, n = self.text, self.n
        start = self.pos
        out = []
        while True:
            m = _ANSI_PLAIN.match(text, pos)
            if m:
                out.append(m.group())
                pos = m.end()
            if pos >= n:
                self._error(start, "$'...' string")
            if text[pos] == "'":
                pos += 1
                break
            e = text[pos + 1 : pos + 2]
            pos += 2
            if e in _ANSI_SIMPLE:
                out.append(_ANSI_SIMPLE[e])
            elif e == "\n":  # not a line continuation inside $'...': the backslash and the newline stay
                out.append("\\\n")
            elif e and e in "01234567":
                m = _OCT.match(text, pos - 1)
                out.append(chr(int(m.group(), 8)))
                pos = m.end()
            elif e in _HEX:
                m = _HEX[e].match(text, pos)
                code = int(m.group(), 16) if m else -1
                if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    out.append(chr(code))
                    pos = m.end()
                else:
                    out.append("\\" + e)
            elif e == "c" and pos < n and text[pos] != "'":
                out.append(chr(ord(text[pos]) & 0x1F))
                pos += 1
            elif e:
                out.append("\\" + e)
            else:
                self._error(start, "$'...' string")
        value = "".join(out)
        b.parts.append(value.split("\0", 1)[0])  # like bash, a NUL ends the string
        b.quoted = True
        self.pos = pos

    def _scan_arith(self, start: int, pos: int, what: str) -> int | None:
        """End of ``$((...))`` / ``((...))`` beginning at ``start`` (body at ``pos``), or None when
        the first unmatched ``)`` is not followed by another one (then it is ``$( (...) )``)."""
        text, n = self.text, self.n
        depth = 0
        while True:
            m = _AR_PLAIN.match(text, pos)
            if m:
                pos = m.end()
            if pos >= n:
                self._error(start, what)
            c = text[pos]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return pos + 2 if text.startswith("))", pos) else None
                depth -= 1
            elif c == "\\":
                pos += 1
            else:
                end = text.find(c, pos + 1)
                if end < 0:
                    self._error(pos, "single quote" if c == "'" else "double quote")
                pos = end
            pos += 1
