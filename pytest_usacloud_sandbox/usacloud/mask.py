"""Secrets: find them (environment, inline prefixes, credential flags, profiles) and mask them in every text we show.

Which flags carry a secret comes from the command table: a flag that takes a value and whose name
says so (secretnames, the same rule as for the keys of JSON, YAML and tables, outputmask). A boolean
such as ``--change-password`` carries none: the word after it is not masked. The table is read
lazily: shell mode needs SECRET_ENV before any flag scan.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .outputmask import MASK, mask_output, yaml_secrets
from .secretnames import is_secret_flag, is_secret_key

#: The credentials usacloud 1.22.8 reads from its environment: the API key (usacloud's own config and
#: saclient-go), and the service principal's ID, key ID and private key (a PEM, or the path of a PEM
#: file) that saclient-go v0.4.0 reads for bearer authentication (``SAKURA_SERVICE_PRINCIPAL_KEY_KID``
#: is its older spelling of the key ID).
CREDENTIALS = (
    "ACCESS_TOKEN",
    "ACCESS_TOKEN_SECRET",
    "SERVICE_PRINCIPAL_ID",
    "SERVICE_PRINCIPAL_KEY_ID",
    "SERVICE_PRINCIPAL_KEY_KID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
)
#: Environment variables whose values are credentials: every credential under each of usacloud's
#: prefixes. usacloud reads them as SAKURA_X and SAKURACLOUD_X; the USACLOUD_ forms (which it reads
#: for the profile and tracing only) are treated alike: never in bash's environment, always masked.
SECRET_ENV = tuple(prefix + name for prefix in ("SAKURACLOUD_", "SAKURA_", "USACLOUD_") for name in CREDENTIALS)


def long_name(name: str) -> str:
    """A flag name as ``--NAME`` however many dashes it was written with (``-token`` is ``--token``):
    Go's flag package takes one dash, and a credential written so is still a credential."""
    body = name.lstrip("-")
    return f"--{body}" if body and body != name else name


@functools.cache
def secret_flags() -> frozenset[str]:
    """Long flag names (aliases included) that take a value and carry a secret, from the command table."""
    from . import commands  # lazily: the table is large, and the shim only needs SECRET_ENV

    return frozenset(
        name
        for names, takes_value in commands.flag_names()
        if takes_value and any(is_secret_flag(n) for n in names)
        for name in names
        if name.startswith("--")
    )


@functools.cache
def _flag_value_pattern() -> re.Pattern:
    names = "|".join(re.escape(f.lstrip("-")) for f in sorted(secret_flags(), key=len, reverse=True))
    # `--password X`, `--password=X` and usacloud v0's `--password = X` (whose `=` v1 reads as the
    # value, leaving X a stray word: the check refuses it, and the failure text still quotes it);
    # with any number of dashes (`-token X`, as Go's flag package writes it)
    return re.compile(r"(?<![\w-])(-+(?:" + names + r"))(=|[ \t]+=[ \t]+|[ \t]+)('[^']*'|\"[^\"]*\"|[^\s'\"]+)")


# Values this short are not masked wherever they appear (they would turn ordinary words into ***);
# after a credential flag, in a credential assignment or under a secret JSON key they are masked
# whatever their length.
_MIN_SECRET_LEN = 4
_KEY_FILE_BYTES = 64 * 1024  # a PEM private key is a few KB
_ENV_VALUE = re.compile(r"(?<![\w])(" + "|".join(SECRET_ENV) + r")(=)('[^']*'|\"[^\"]*\"|[^\s'\";|&)]+)")
_AUTH_HEADER = re.compile(r"(?im)^([ \t]*authorization:[ \t]*).*$")  # [ \t]: \s would rescan blank lines
#: HTTP credentials wherever a trace prints them (`map[Authorization:[Basic dG9r...]]`, `Bearer ...`)
_AUTH_SCHEME = re.compile(r"(?i)\b(basic|bearer)(\s+)[A-Za-z0-9+/._~-]{8,}=*")
#: a URL's user information, wherever the URL starts in the text (a value with a leading blank)
_URL_USERINFO = re.compile(r"(?is)([a-z][a-z0-9+.-]*://)(.*)@")
_URL_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")
#: Where usacloud looks for profiles, in its order (SAKURA_ first, as for every setting).
PROFILE_DIR_ENV = ("SAKURA_PROFILE_DIR", "SAKURACLOUD_PROFILE_DIR", "USACLOUD_PROFILE_DIR")


def mask_url(url: str) -> str:
    """A redis URL with any password hidden: `redis://:pw@host`, `redis://user:pw@host`, `redis://pw@host`
    (a common slip) and `?password=` (a password may hold `/`, `#` or `?`: no URL parsing here). The
    URL may start anywhere in the text (` redis://...`, any `scheme://user:pw@`)."""
    match = _URL_USERINFO.search(url)
    if match:
        userinfo = match.group(2)
        user = userinfo.split(":", 1)[0] + ":" if ":" in userinfo else ""
        url = f"{url[: match.start()]}{match.group(1)}{user}{MASK}@{url[match.end() :]}"
    return _URL_PASSWORD.sub(lambda m: m.group(1) + MASK, url)


def json_secrets(text: str) -> list[str]:
    """Values under secret-looking keys of a JSON document (`--parameters '{"Password": ...}'`)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    found: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if not is_secret_key(str(key)):
                    stack.append(value)
                elif isinstance(value, str):
                    found.append(value)
                elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                    found.extend(value)
                else:
                    stack.append(value)  # an object under a secret key: its own keys decide
        elif isinstance(item, list):
            stack.extend(item)
    return found


def profile_dirs(env: Mapping[str, str]) -> list[Path]:
    """Every directory usacloud may read profiles from (``<dir>/<name>/config.json|yaml``).

    The profile directory variables as usacloud reads them: the directory itself (saclient-go,
    usacloud 1.2x) and its ``.usacloud`` (older usacloud joined that name to the variable's value);
    ``$XDG_CONFIG_HOME/usacloud`` and ``/sakura``; and ``~/.usacloud``. Masking more places than
    usacloud reads costs nothing.
    """
    dirs: list[Path] = []
    for name in PROFILE_DIR_ENV:
        value = env.get(name)
        if value:
            dirs += [Path(value), Path(value) / ".usacloud"]
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg:
        dirs += [Path(xdg) / "usacloud", Path(xdg) / "sakura"]
    home = env.get("HOME")
    dirs.append((Path(home) if home else Path("~").expanduser()) / ".usacloud")
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def profile_secrets(env: Mapping[str, str]) -> list[str]:
    """Credentials kept in usacloud profiles wherever usacloud looks for them, best effort."""
    found: list[str] = []
    for base in profile_dirs(env):
        try:
            files = sorted([*base.glob("*/config.json"), *base.glob("*/config.yaml")])[:100]
        except OSError:
            continue
        for path in files:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")[:1_000_000]
            except OSError:
                continue
            found += json_secrets(text)
            found += yaml_secrets(text)
    return found


def key_files(env: Mapping[str, str]) -> list[str]:
    """The private keys in the files the ``*_PRIVATE_KEY_PATH`` variables name (best effort)."""
    found = []
    for name in SECRET_ENV:
        if name.endswith("_PRIVATE_KEY_PATH") and env.get(name):
            try:
                with open(os.path.expanduser(env[name]), encoding="utf-8", errors="replace") as fh:
                    found.append(fh.read(_KEY_FILE_BYTES))
            except (OSError, ValueError):
                continue
    return found


def basic_credentials(env: Mapping[str, str]) -> list[str]:
    """The HTTP Basic credentials usacloud sends (base64 of ``token:secret``), as ``--trace`` shows them."""
    found = []
    for prefix in ("SAKURACLOUD_", "SAKURA_"):
        token, secret = env.get(prefix + "ACCESS_TOKEN", ""), env.get(prefix + "ACCESS_TOKEN_SECRET", "")
        if token and secret:
            raw = base64.b64encode(f"{token}:{secret}".encode()).decode()
            found += [raw, raw.rstrip("=")]
    return found


def flag_secrets(words: Sequence[str]) -> list[str]:
    """Values given to credential flags (`--token X`, `--token=X`) in one or several argvs, by name,
    and the values under secret keys of every word that is JSON (`--parameters`, `--users`,
    `--site-to-site-vpn` ..., also as `--flag=JSON`): the script's text shows them in any quoting."""
    secret = secret_flags()
    found = []
    for index, word in enumerate(words):
        name, eq, value = word.partition("=")
        if eq and value.lstrip().startswith(("{", "[")):
            found += json_secrets(value)
        elif word.lstrip().startswith(("{", "[")):
            found += json_secrets(word)
        if not eq:
            value = words[index + 1] if index + 1 < len(words) else ""
        if long_name(name) in secret:
            found.append(value)
            if not eq and value == "=" and index + 2 < len(words):  # v0: `--password = X`
                found.append(words[index + 2])
    return found


def _secret_use(use) -> bool:
    """A flag use (commands.FlagUse) whose value is a secret: known flags by the table, unknown by name."""
    if use.flag is not None:
        return use.flag.takes_value and any(is_secret_flag(n) for n in use.flag.names)
    return use.name in secret_flags()


@dataclass(frozen=True, repr=False)
class Masker:
    """Replaces every known secret value with ``***`` (its repr shows how many, never which)."""

    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Masker({len(self.secrets)} secrets)"

    @classmethod
    def from_sources(cls, env: Mapping[str, str], words: Iterable[str] = ()) -> Masker:
        values = [env.get(name, "") for name in SECRET_ENV]
        values.extend(key_files(env))
        values.extend(basic_credentials(env))
        values.extend(flag_secrets(list(words)))
        values.extend(profile_secrets(env))
        return cls(_normalise(values))

    @classmethod
    def for_commands(cls, env: Mapping[str, str], commands: Iterable) -> Masker:
        """For a parsed script's commands (script.parse.Command): their flags and their ``VAR=value`` prefixes."""
        commands = list(commands)
        masker = cls.from_sources(env, (w for c in commands for w in c.words))
        inline = [value for c in commands for name, value in c.assignments if name in SECRET_ENV]
        return masker.with_values(inline)

    def with_words(self, words: Sequence[str]) -> Masker:
        return self.with_values(flag_secrets(words))

    def with_values(self, values: Iterable[str]) -> Masker:
        extra = _normalise(values)
        if not set(extra) - set(self.secrets):
            return self
        return Masker(_normalise([*self.secrets, *extra]))

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        # whatever their length: values after credential flags, credential assignments
        # (`SAKURACLOUD_ACCESS_TOKEN_SECRET=... usacloud`), under secret keys of JSON and YAML and in
        # secret table columns (usacloud's output), auth headers
        text = _flag_value_pattern().sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        text = _ENV_VALUE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        text = mask_output(text)
        text = _AUTH_SCHEME.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        return _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)

    def words(self, words: Sequence[str]) -> tuple[str, ...]:
        """Mask a usacloud argv: credential flag values by position (as usacloud parses it), and any
        secret inside other words."""
        from .commands import resolve  # lazily, as in secret_flags

        out = list(words)
        hidden = set()
        for use in resolve(words).flags:
            if not _secret_use(use) or use.value is None:
                continue
            if use.value_index is not None:
                out[use.value_index] = MASK
                hidden.add(use.value_index)
                after = use.value_index + 1
                if use.value == "=" and after < len(out):  # v0: `--password = X`
                    out[after] = MASK
                    hidden.add(after)
            elif use.word.startswith("--"):
                out[use.index] = f"{use.name}={MASK}"
                hidden.add(use.index)
            else:  # an attached short value: -ikeyfile
                out[use.index] = use.word[: len(use.word) - len(use.value)] + MASK
                hidden.add(use.index)
        for index, word in enumerate(words):  # `-token X`: pflag reads shorthand flags, X is still a secret
            name, eq, _ = word.partition("=")
            if word.startswith("-") and long_name(name) in secret_flags():
                at = index if eq else index + 1
                if at < len(out) and at not in hidden:
                    out[at] = f"{name}={MASK}" if eq else MASK
                    hidden.add(at)
        return tuple(word if i in hidden else self.text(word) for i, word in enumerate(out))


def _normalise(values: Iterable[str]) -> tuple[str, ...]:
    # a multi-line secret (a PEM private key) is masked whole, and each of its lines wherever one
    # is printed alone (or with other line endings, or quoted by `printf %q`)
    parts = [part for v in values if v for part in (v, *_lines(v))]
    unique = {v for v in parts if len(v) >= _MIN_SECRET_LEN}
    # Longest first, so a secret containing another is masked whole.
    return tuple(sorted(unique, key=len, reverse=True))


def _lines(value: str) -> list[str]:
    """The lines of a multi-line secret, without their blanks (none for a one-line secret)."""
    if "\n" not in value and "\r" not in value:
        return []
    return [line.strip() for line in value.splitlines()]
