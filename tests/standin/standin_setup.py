"""The stand-in usacloud's set-up of a command: what usacloud 1.22.8 does before it runs one.

usacloud prints an error of this stage bare on stderr (no blank-line frame) and **exits 0 having run
nothing** (``initCommandContext`` in its ``pkg/core/command.go``); the transcripts ``prof-*``, ``exit0-*``
and ``params-*`` show each case. In order:

1. The configuration: the profile (usacloud's own loader prints ``[WARN] loading profile "X" is failed:
   profile "X" is not exists`` without a newline when a profile other than ``default`` is missing), the
   flags (``--private-key-path`` makes it print ``[WARN] reading value of "profile" flag is failed: ...``,
   ``--zones`` a Go flag error and a usage block), then its validation:
   ``validation error:\\n\\tprofile.DefaultOutputType: must be one of [table/json/yaml]`` (likewise
   ``--argument-match-mode`` and ``profile.DefaultQueryDriver``).
2. The API client: a profile named by ``--profile`` or SAKURA_PROFILE / SAKURACLOUD_PROFILE /
   USACLOUD_PROFILE (or by ``<dir>/current``) must be ``<dir>/<name>/config.json``, ``<dir>`` being the
   first of SAKURA_PROFILE_DIR, SAKURACLOUD_PROFILE_DIR, USACLOUD_PROFILE_DIR, else ``$HOME/.usacloud``:
   ``API Error - failed to open directory <dir>: ...`` or ``API Error - failed to open <name>/config.json:
   ...``. An empty name is no name; with no name only ``$HOME/.usacloud/default/config.json`` is read,
   if it is there (in a directory a ``*_PROFILE_DIR`` names, ``default`` is read only when ``current``
   names it: measured on 1.22.8). A private key file readable by others: ``API Error - private key
   file <path> permission is too lax: 644``.
3. ``--parameters``: a file (relative to the working directory, ``~/`` expanded), else the text itself,
   decoded as Go's encoding/json does (its syntax errors word for word; keys matched to the parameter
   fields case-insensitively with Unicode simple folding, so ``Deſcription`` sets ``Description``).
"""

import json
import os

PROFILE_ENV = ("SAKURA_PROFILE", "SAKURACLOUD_PROFILE", "USACLOUD_PROFILE")
PROFILE_DIR_ENV = ("SAKURA_PROFILE_DIR", "SAKURACLOUD_PROFILE_DIR", "USACLOUD_PROFILE_DIR")

#: What `--zones` makes usacloud print (it hands the flag to saclient-go's own flag set, which fails).
ZONES_NOISE = (
    'invalid value "" for flag -zones: EOF\nUsage of saclient-go:\n'
    "  -private-key-path value\n    \tpath to an RSA 2048 bit private key PEM format\n"
    "  -profile value\n    \tthe name of saved credentials\n"
    "  -secret value\n    \tthe API secret used when calling SAKURA Cloud API\n"
    "  -service-principal-id value\n    \tthe ID of the service principal\n"
    "  -service-principal-key-id kid\n    \tthe kid of the service principal\n"
    "  -token value\n    \tthe API token used when calling SAKURA Cloud API\n"
    "  -trace\n    \tenable trace logs for API calling\n"
    "  -zones value\n    \tpermitted zone names\n"
    '[WARN] argv reconstrcution failed: invalid value "" for flag -zones: EOF'
)
_OPTION_FLAG_WARN = (
    '[WARN] reading value of "profile" flag is failed: trying to get string value of flag of type option[string]'
)


def first_env(env, names):
    return next((env[n] for n in names if env.get(n)), "")


class Setup:
    """The outcome of the set-up: ``stderr`` (what usacloud printed), ``failed`` (it stops here, exit 0),
    ``profile`` (the profile's name, or "") and ``config`` (the profile's settings, e.g. its keys)."""

    def __init__(self):
        self.stderr = ""
        self.failed = False
        self.profile = ""
        self.profile_file = None
        self.config = {}

    def warn(self, text):
        self.stderr += text  # usacloud's [WARN]s of this stage end without a newline

    def fail(self, text):
        self.stderr += text + "\n"
        self.failed = True
        return self


def configure(flag_profile, private_key, zones_given, match_mode, env):
    """Steps 1 and 2; ``flag_profile``, ``private_key``, ``match_mode``: those flags' values (None: not given)."""
    s = Setup()
    home = env.get("HOME") or os.path.expanduser("~")
    given_dir = first_env(env, PROFILE_DIR_ENV)
    base = given_dir or os.path.join(home, ".usacloud")
    name = flag_profile if flag_profile is not None else first_env(env, PROFILE_ENV)
    named = bool(name)
    if not named:
        try:
            with open(os.path.join(base, "current"), encoding="utf-8") as f:
                name, named = f.read().strip(), True
        except OSError:
            # no `current`: ~/.usacloud's `default` is read, a profile directory's is not (measured on 1.22.8)
            name = "" if given_dir else "default"
    found = os.path.join(base, name, "config.json") if name else None
    exists = found is not None and os.path.isfile(found)
    if named and not exists and name != "default":
        s.warn(f'[WARN] loading profile "{name}" is failed: profile "{name}" is not exists')
    if exists:
        try:
            with open(found, encoding="utf-8") as f:
                data = json.load(f)
            s.config = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            s.config = {}
        s.profile, s.profile_file = name, found
    elif named:
        s.profile = name
    if private_key is not None:
        s.warn(_OPTION_FLAG_WARN)
    if zones_given:
        s.warn(ZONES_NOISE)
    problems = config_problems(env, s.config, match_mode)
    if problems:
        return s.fail("validation error:\n\t" + "\n\t".join(problems))
    if named and not exists:
        if not os.path.isdir(base):
            return s.fail(f"API Error - failed to open directory {base}: open {base}: no such file or directory")
        where = f"{name}/config.json"
        return s.fail(f"API Error - failed to open {where}: openat {where}: no such file or directory")
    key = private_key or first_env(env, ("SAKURA_PRIVATE_KEY_PATH", "SAKURACLOUD_PRIVATE_KEY_PATH"))
    if key:
        try:
            mode = os.stat(key).st_mode & 0o777
        except OSError:
            mode = 0
        if mode & 0o077:
            return s.fail(f"API Error - private key file {key} permission is too lax: {mode:o}")
    return s


_CONFIG_CHOICES = (
    ("DEFAULT_OUTPUT_TYPE", "DefaultOutputType", "profile.DefaultOutputType", ("table", "json", "yaml")),
    ("ARGUMENT_MATCH_MODE", "ArgumentMatchMode", "--argument-match-mode", ("partial", "exact")),
    ("DEFAULT_QUERY_DRIVER", "DefaultQueryDriver", "profile.DefaultQueryDriver", ("jmespath", "jq")),
)


def config_problems(env, config, match_mode=None):
    """usacloud's configuration validation: one line per setting outside its choices."""
    problems = []
    for variable, key, label, choices in _CONFIG_CHOICES:
        value = first_env(env, ("SAKURA_" + variable, "SAKURACLOUD_" + variable)) or str(config.get(key) or "")
        if key == "ArgumentMatchMode" and match_mode is not None:
            value = match_mode
        if value and value not in choices:
            problems.append(f"{label}: must be one of [{'/'.join(choices)}]")
    return problems


# -- --parameters -----------------------------------------------------------------------------------


def read_parameters(raw, env):
    """(parameters, error): a file's content or the text itself, decoded; error is Go's message."""
    text = raw
    path = raw
    if raw == "~" or raw.startswith("~/"):
        path = (env.get("HOME") or os.path.expanduser("~")) + raw[1:]
    elif raw.startswith("~"):
        return None, "got invalid pathOrContent"
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = path  # not a file: the text is the JSON (usacloud's BytesFromPathOrContent)
    problem = go_json_error(text)
    if problem:
        return None, problem
    data = json.loads(text)
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        kind = "array" if isinstance(data, list) else "string" if isinstance(data, str) else "number"
        if isinstance(data, bool):
            kind = "bool"
        return None, f"json: cannot unmarshal {kind} into Go value of type parameter"
    return data, None


def fold(text):
    """Unicode simple case folding, as Go's EqualFold compares (``ſ`` is ``s``, but ``ß`` is not ``ss``)."""
    out = []
    for c in text:
        up = c.upper()
        out.append(up.lower() if len(up) == 1 else c.lower())
    return "".join(out)


def param_value(params, field):
    """The value of ``field`` (``Disk.SizeGB``) in decoded --parameters; None when absent."""
    node = params
    for part in field.split("."):
        if not isinstance(node, dict):
            return None
        if part in node:
            node = node[part]
            continue
        want = fold(part)
        node = next((v for k, v in node.items() if fold(k) == want), None)
    return node


def _quote(c):
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    return "'" + json.dumps(c)[1:-1] + "'"


_WS = " \t\r\n"


def go_json_error(text):
    """The syntax error Go's encoding/json reports for ``text`` (its scanner's wording), or None."""
    scan = _Scanner(text)
    try:
        scan.value()
        scan.ws()
        if scan.i < len(text):
            return f"invalid character {_quote(text[scan.i])} after top-level value"
    except _Eof:
        return "unexpected end of JSON input"
    except _Bad as bad:
        return str(bad)
    return None


class _Eof(Exception):
    pass


class _Bad(Exception):
    pass


class _Scanner:
    def __init__(self, text):
        self.t, self.i = text, 0

    def ws(self):
        while self.i < len(self.t) and self.t[self.i] in _WS:
            self.i += 1

    def peek(self):
        if self.i >= len(self.t):
            raise _Eof
        return self.t[self.i]

    def bad(self, where):
        raise _Bad(f"invalid character {_quote(self.t[self.i])} {where}")

    def value(self):
        self.ws()
        c = self.peek()
        if c == "{":
            self.members("}", self.member, "after object key:value pair")
        elif c == "[":
            self.members("]", self.value, "after array element")
        elif c == '"':
            self.string()
        elif c == "-" or c.isdigit():
            self.number()
        elif c in "tfn":
            word = {"t": "true", "f": "false", "n": "null"}[c]
            for expected in word:
                if self.peek() != expected:
                    self.bad(f"in literal {word} (expecting {_quote(expected)})")
                self.i += 1
        else:
            self.bad("looking for beginning of value")

    def members(self, close, element, after):
        """The members of an object or array up to ``close``, each read by ``element``."""
        self.i += 1
        self.ws()
        if self.peek() == close:
            self.i += 1
            return
        while True:
            element()
            self.ws()
            c = self.peek()
            self.i += 1
            if c == close:
                return
            if c != ",":
                self.i -= 1
                self.bad(after)

    def member(self):
        self.ws()
        if self.peek() != '"':
            self.bad("looking for beginning of object key string")
        self.string()
        self.ws()
        if self.peek() != ":":
            self.bad("after object key")
        self.i += 1
        self.value()

    def string(self):
        self.i += 1
        while True:
            c = self.peek()
            self.i += 1
            if c == '"':
                return
            if c == "\\":
                if self.peek() not in '"\\/bfnrtu':
                    self.bad("in string escape code")
                self.i += 1
            elif ord(c) < 0x20:
                self.i -= 1
                self.bad("in string literal")

    def number(self):
        if self.peek() == "-":
            self.i += 1
        if not self.peek().isdigit():
            self.bad("in numeric literal")
        if self.peek() == "0":
            self.i += 1
        while self.i < len(self.t) and self.t[self.i].isdigit():
            self.i += 1
        if self.i < len(self.t) and self.t[self.i] == ".":
            self.i += 1
            if not self.peek().isdigit():
                self.bad("after decimal point in numeric literal")
            while self.i < len(self.t) and self.t[self.i].isdigit():
                self.i += 1
        if self.i < len(self.t) and self.t[self.i] in "eE":
            self.i += 1
            if self.peek() in "+-":
                self.i += 1
            if not self.peek().isdigit():
                self.bad("in exponent of numeric literal")
            while self.i < len(self.t) and self.t[self.i].isdigit():
                self.i += 1


# -- --generate-skeleton and --example --------------------------------------------------------------

#: Skeletons whose fields the recordings show (usacloud prints its parameter struct, in field order).
_SKELETONS = {
    ("server", "create"): (
        ("CPU", 1), ("Memory", 1), ("GPU", 0), ("GPUModel", ""), ("CPUModel", ""), ("Commitment", "standard"),
        ("Generation", "default"), ("InterfaceDriver", "virtio"), ("BootAfterCreate", False), ("CDROMID", 0),
        ("PrivateHostID", 0), ("NetworkInterfaces", None), ("Disks", None), ("NoWait", False),
    ),
}  # fmt: skip


def skeleton(resource, sub, zone, zoned):
    out = {"Zone": zone} if zoned else {}
    out.update(_SKELETONS.get((resource, sub), ()))
    return out


def example(resource, sub, zone, zoned, flag_names):
    """What ``--example`` prints: the usual fields filled in, else the skeleton."""
    out = skeleton(resource, sub, zone, zoned)
    filled = (
        ("name", "Name", "example"),
        ("description", "Description", "example"),
        ("tags", "Tags", ["tag1=example1", "tag2=example2"]),
        ("icon-id", "IconID", 123456789012),
    )
    out.update({key: value for flag, key, value in filled if flag in flag_names})
    return out


def dumps(obj):
    """JSON as usacloud prints a skeleton: 4-space indent, the fields in their own order."""
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"
