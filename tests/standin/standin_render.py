"""The stand-in usacloud's output: a command's records as usacloud 1.22.8 prints them.

* ``-q``: one ID per line. ``--format``: a Go template per record (``{{.Field}}``, ``{{.A.B}}``,
  ``{{.RowNumber}}``); a field of ID type prints nothing for 0, a list prints ``[a b]``, a missing field
  ``<no value>``; an unclosed action is ``invalid output format "...": template: output:1: unclosed action``.
* ``--query`` (JSON forced): a JMESPath subset (sub-expressions, ``[]``/``[*]`` projections, ``[n]``,
  multi-select lists ``[A,B]`` and hashes ``{k:A}``, ``length(@)``), or with ``--query-driver jq`` a jq
  subset (``.[]``, ``.[n]``, ``.Field``, ``length``), one value per line. An expression that ends too
  early is ``SyntaxError: Incomplete expression``; one outside the subset prints the records unfiltered.
* JSON: prettyjson (4-space indent, keys sorted, nothing escaped). YAML: ghodss/yaml over yaml.v2 (keys
  sorted, sequences not indented under their key, strings that would read as something else quoted).
* Table: olekukonko/tablewriter (``+---+`` borders, headers centred, cells left-aligned, widths in
  terminal columns, East Asian wide characters count two) with each resource's columns from usacloud's
  ``columns.go``; an empty cell is ``-``.
An empty result prints nothing in every form.
"""

import json
import re
import unicodedata


class RenderError(Exception):
    """An output option usacloud refuses (printed as its error, exit 1)."""


class Unsupported(Exception):
    """A query outside the stand-in's subset: the records are printed unfiltered."""


def render(recs, resource, *, quiet=False, fmt=None, query=None, driver="jmespath", output="table"):
    if not recs:
        return ""
    if quiet:
        return "".join(f"{r.get('ID', '')}\n" for r in recs)
    if fmt:
        return "".join(template(fmt, r, n) + "\n" for n, r in enumerate(recs, 1))
    if query:
        try:
            if driver == "jq":
                return "".join(pretty(x) for x in query_jq(query, recs))
            return pretty(query_jmespath(query, recs))
        except Unsupported:
            return pretty(recs)
    if output == "json":
        return pretty(recs)
    if output == "yaml":
        return "\n".join(yaml_lines(recs, 0)) + "\n\n"
    return table(recs, columns(resource, recs))


def pretty(obj):
    return json.dumps(obj, indent=4, ensure_ascii=False, sort_keys=True) + "\n"


# -- Go values as text/template prints them ---------------------------------------------------------


def go_text(value, key=""):
    if value is None:
        return "<nil>"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_text(x) for x in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(v, k)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, int) and value == 0 and key.endswith("ID"):
        return ""  # types.ID prints nothing for 0
    return str(value)


_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_FIELD = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def template(fmt, rec, row=1):
    if fmt.count("{{") > len(_ACTION.findall(fmt)):
        raise RenderError(f'invalid output format "{fmt}": template: output:1: unclosed action')
    scope = dict(rec, RowNumber=str(row), __ORDER__=str(row))

    def action(m):
        expr = m.group(1)
        if not _FIELD.fullmatch(expr):
            return m.group(0)
        cur, key = scope, ""
        for key in expr[1:].split("."):
            if not isinstance(cur, dict) or key not in cur:
                return "<no value>"
            cur = cur[key]
        return go_text(cur, key)

    return _ACTION.sub(action, fmt)


# -- JMESPath and jq subsets ------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<sym>\[\*\]|\[\]|[][.,:{}()@*]))")


def _tokens(expr):
    out, pos = [], 0
    while pos < len(expr.rstrip()):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise Unsupported(expr)
        kind = m.lastgroup
        out.append((kind, int(m.group(kind)) if kind == "num" else m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Compiles a JMESPath subset to a function of the data."""

    def __init__(self, expr):
        self.toks, self.i = _tokens(expr), 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        if self.i >= len(self.toks):
            raise RenderError("SyntaxError: Incomplete expression")
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise Unsupported(tok)
        self.i += 1
        return tok

    def parse(self):
        fn = self.expression()
        if self.i != len(self.toks):
            raise Unsupported(self.toks[self.i :])
        return fn

    def expression(self):
        fn = self.primary()
        while True:
            _kind, val = self.peek()
            if val == ".":
                self.take()
                step = self.after_dot()
                fn = _chain(fn, step)
            elif val in ("[]", "[*]"):
                self.take()
                rest = self.projected()
                fn = _projection(fn, rest, flatten=val == "[]")
            elif val == "[":
                self.take()
                index = self.take()[1]
                self.take("]")
                fn = _chain(fn, _index(index))
            else:
                return fn

    def projected(self):
        """What follows a projection, applied to each element (None: the element itself)."""
        fn = None
        while True:
            _kind, val = self.peek()
            if val == ".":
                self.take()
                step = self.after_dot()
            elif val == "[":
                self.take()
                index = self.take()[1]
                self.take("]")
                step = _index(index)
            else:
                return fn
            fn = step if fn is None else _chain(fn, step)

    def after_dot(self):
        kind, val = self.peek()
        if kind == "name":
            self.take()
            return _field(val)
        return self.multi_select(val)

    def multi_select(self, val):
        if val == "[":
            return self.multi_list()
        if val == "{":
            return self.multi_hash()
        self.take()
        raise Unsupported(val)

    def primary(self):
        kind, val = self.peek()
        if kind == "name":
            self.take()
            if self.peek()[1] == "(":
                self.take("(")
                arg = self.expression()
                self.take(")")
                if val != "length":
                    raise Unsupported(val)
                return lambda d: len(arg(d)) if isinstance(arg(d), (list, dict, str)) else None
            return _field(val)
        if val == "@":
            self.take()
            return lambda d: d
        if val in ("[]", "[*]"):
            self.take()
            rest = self.projected()
            return _projection(lambda d: d, rest, flatten=val == "[]")
        if val == "[" and self.i + 1 < len(self.toks) and self.toks[self.i + 1][0] == "num":
            self.take()
            index = self.take()[1]
            self.take("]")
            return _index(index)
        return self.multi_select(val)

    def multi_list(self):
        self.take("[")
        items = [self.expression()]
        while self.peek()[1] == ",":
            self.take()
            items.append(self.expression())
        self.take("]")
        return lambda d: None if d is None else [f(d) for f in items]

    def multi_hash(self):
        self.take("{")
        pairs = []
        while True:
            key = self.take()[1]
            self.take(":")
            pairs.append((key, self.expression()))
            if self.peek()[1] != ",":
                break
            self.take()
        self.take("}")
        return lambda d: None if d is None else {k: f(d) for k, f in pairs}


def _field(name):
    return lambda d: d.get(name) if isinstance(d, dict) else None


def _index(n):
    return lambda d: d[n] if isinstance(d, list) and -len(d) <= n < len(d) else None


def _chain(first, then):
    return lambda d: None if (v := first(d)) is None else then(v)


def _projection(base, each, flatten):
    def run(d):
        items = base(d)
        if not isinstance(items, list):
            return None
        if flatten:
            flat = []
            for x in items:
                flat.extend(x if isinstance(x, list) else [x])
            items = flat
        out = [x if each is None else each(x) for x in items]
        return [x for x in out if x is not None]

    return run


def query_jmespath(expr, data):
    expr = expr.strip()
    if not expr:
        return data
    return _Parser(expr).parse()(data)


def query_jq(expr, data):
    """The jq outputs, a list."""
    expr = expr.strip()
    if expr in ("", "."):
        return [data]
    if expr == "length":
        return [len(data)]
    toks = re.findall(r"\.\[\]|\.?\[-?\d+\]|\.[A-Za-z_][A-Za-z0-9_]*", expr)
    if "".join(toks) != expr:
        raise Unsupported(expr)
    streams = [data]
    for t in toks:
        nxt = []
        for cur in streams:
            if t == ".[]":
                nxt.extend(cur if isinstance(cur, list) else [])
            elif "[" in t:
                k = int(t[t.index("[") + 1 : -1])
                nxt.append(cur[k] if isinstance(cur, list) and -len(cur) <= k < len(cur) else None)
            else:
                nxt.append(cur.get(t[1:]) if isinstance(cur, dict) else None)
        streams = nxt
    return streams


# -- YAML -------------------------------------------------------------------------------------------
_YAML_SPECIAL = re.compile(
    r"(?:~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|[0-9][0-9_]*)"
    r"|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?)"
)


def yaml_scalar(v):
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if s == "" or _YAML_SPECIAL.fullmatch(s):
        return json.dumps(s, ensure_ascii=False)  # it would read as null, a bool, a number or a time
    plain = (
        s.strip() == s
        and s[0] not in "-?:,[]{}#&*!|>'\"%@`"
        and ": " not in s
        and " #" not in s
        and not s.endswith(":")
        and all(c.isprintable() for c in s)
    )
    if plain or (s[0] in "-?:" and len(s) > 1 and s[1] != " " and ": " not in s and " #" not in s and s.strip() == s):
        return s
    return "'" + s.replace("'", "''") + "'"


def yaml_lines(v, ind):
    pad = " " * ind
    lines = []
    if isinstance(v, list):
        for item in v:
            if isinstance(item, (dict, list)) and item:
                sub = yaml_lines(item, ind + 2)
                sub[0] = pad + "- " + sub[0].lstrip()
                lines.extend(sub)
            else:
                lines.append(pad + "- " + _yaml_inline(item, ind + 2))
    elif isinstance(v, dict):
        for k in sorted(v):
            val = v[k]
            if isinstance(val, dict) and val:
                lines.append(pad + k + ":")
                lines.extend(yaml_lines(val, ind + 2))
            elif isinstance(val, list) and val:
                lines.append(pad + k + ":")
                lines.extend(yaml_lines(val, ind))
            else:
                lines.append(pad + k + ": " + _yaml_inline(val, ind + 2))
    else:
        lines.append(pad + _yaml_inline(v, ind))
    return lines


def _yaml_inline(v, ind):
    if isinstance(v, list):
        return "[]"
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, str) and "\n" in v:  # a literal block
        body = v[:-1] if v.endswith("\n") else v
        chomp = "" if v.endswith("\n") else "-"
        return f"|{chomp}\n" + "\n".join((" " * ind + line) if line else "" for line in body.split("\n"))
    return yaml_scalar(v)


# -- tables -----------------------------------------------------------------------------------------


def width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(recs, cols):
    rows = [[_cell(fn(r)) for _head, fn in cols] for r in recs]
    heads = [head for head, _fn in cols]
    widths = [max([width(h)] + [width(row[k]) for row in rows]) for k, h in enumerate(heads)]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(cells, centre):
        out = []
        for cell, w in zip(cells, widths, strict=True):
            gap = w - width(cell)
            left = gap // 2 if centre else 0
            out.append(" " + " " * left + cell + " " * (gap - left) + " ")
        return "|" + "|".join(out) + "|\n"

    return border + line(heads, True) + border + "".join(line(r, False) for r in rows) + border


def _cell(text):
    return "-" if text in ("", "<no value>") else text


def ellipsis(n, text):
    return text[:n] + "..." if len(text) > n else text


def _value(key):
    return lambda r: go_text(r.get(key), key) if key in r else "<no value>"


def _tags(r):
    return ellipsis(20, go_text(r.get("Tags"))) if r.get("Tags") else ""


def _zone(r):
    z = r.get("Zone")
    return z.get("Name", "") if isinstance(z, dict) else go_text(z)


_ZONE, _ID = ("Zone", _zone), ("ID", _value("ID"))
_NAME = ("Name", lambda r: ellipsis(30, go_text(r.get("Name", ""))))
_TAGS = ("Tags", _tags)
_DESCRIPTION = ("Description", lambda r: ellipsis(20, go_text(r.get("Description", ""))).replace("\n", "\\n"))
_SCOPE = ("Scope", lambda r: go_text(r.get("Scope", "")))
_SIZE = ("Size", lambda r: f"{int(r.get('SizeMB') or 0) // 1024}GB")
_STATUS = (
    "InstanceStatus",
    lambda r: (
        go_text(r.get("InstanceStatus", ""))
        + ("" if r.get("Availability") == "available" else f"({go_text(r.get('Availability', ''))})")
    ),
)


def _server_ip(r):
    if not r.get("Interfaces"):
        return ""
    nic = r["Interfaces"][0]
    if nic.get("IPAddress"):
        return f"{nic['IPAddress']}/{nic.get('SubnetNetworkMaskLen', 0)}"
    return f"{nic.get('UserIPAddress', '')}/{nic.get('UserSubnetNetworkMaskLen', 0)}"


def _upstream(r):
    if not r.get("Interfaces"):
        return ""
    nic = r["Interfaces"][0]
    return f"{nic.get('UpstreamType', '')}/{nic.get('SubnetBandWidthMbps', 0)}"


#: Each resource's table columns (usacloud's columns.go): (header, record -> cell text).
COLUMNS = {
    "switch": (_ZONE, _ID, _NAME, _TAGS, _DESCRIPTION, ("Type", lambda r: "switch")),
    "server": (
        _ZONE,
        _ID,
        _NAME,
        _TAGS,
        ("CPU", _value("CPU")),
        ("Memory", lambda r: str(int(r.get("MemoryMB") or 0) // 1024)),
        ("GPU", _value("GPU")),
        ("IPAddress", _server_ip),
        ("Upstream(Mbps)", _upstream),
        _STATUS,
        ("InstanceHost", _value("InstanceHostName")),
    ),
    "disk": (
        _ZONE,
        _ID,
        _NAME,
        _TAGS,
        ("Server", lambda r: f"{r['ServerID']}({r.get('ServerName', '')})" if r.get("ServerID") else ""),
        ("Plan", lambda r: {4: "ssd", 2: "hdd"}.get(r.get("DiskPlanID"), "")),
        _SIZE,
        ("Connection", _value("Connection")),
        ("Storage", lambda r: go_text((r.get("Storage") or {}).get("Name", ""))),
        _DESCRIPTION,
    ),
    "dns": (
        _ID,
        _NAME,
        _TAGS,
        _DESCRIPTION,
        ("DNS Servers", lambda r: " / ".join(r.get("DNSNameServers") or [])),
        ("Records", lambda r: str(len(r.get("Records") or []))),
    ),
    "note": (_ID, ("Class", _value("Class")), _SCOPE, _NAME, _TAGS, _DESCRIPTION),
    "packet-filter": (
        _ZONE,
        _ID,
        _NAME,
        _DESCRIPTION,
        ("Expression", lambda r: str(len(r.get("Expression") or []))),
        ("ExpressionHash", _value("ExpressionHash")),
    ),
    "zone": (
        _ID,
        _NAME,
        _DESCRIPTION,
        ("IsDummy", _value("IsDummy")),
        ("Region", lambda r: f"{r['Region']['ID']}:{r['Region']['Name']}"),
        ("DNS Servers", lambda r: " / ".join(r["Region"].get("NameServers") or [])),
    ),
    "archive": (_ZONE, _ID, _NAME, _TAGS, _SCOPE, _DESCRIPTION),
    "cdrom": (_ZONE, _ID, _NAME, _TAGS, _SCOPE, _DESCRIPTION),
    "ipaddress": (
        ("IPAddress", _value("IPAddress")),
        ("HostName", _value("HostName")),
        ("InterfaceID", _value("InterfaceID")),
        ("SubnetID", _value("SubnetID")),
    ),
    "auth-status": tuple(
        (name, _value(name))
        for name in ("AccountID", "AccountCode", "AccountName", "MemberCode", "Permission", "ExternalPermission")
    ),
}


def columns(resource, recs):
    found = COLUMNS.get(resource)
    if found is not None:
        return found
    cols = [_ID, _NAME, _TAGS, _DESCRIPTION]
    if any("Zone" in r for r in recs):
        cols.insert(0, _ZONE)
    if any("InstanceStatus" in r for r in recs):
        cols.append(_STATUS)
    return tuple(cols)
