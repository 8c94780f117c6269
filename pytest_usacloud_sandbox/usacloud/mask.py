"""Secrets: find them (environment, credential flags) and mask them in every text we show."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MASK = "***"

#: Environment variables whose values are credentials (usacloud reads SAKURA_X as SAKURACLOUD_X).
SECRET_ENV = tuple(
    prefix + name
    for prefix in ("SAKURACLOUD_", "SAKURA_")
    for name in ("ACCESS_TOKEN", "ACCESS_TOKEN_SECRET", "SERVICE_PRINCIPAL_KEY_ID")
)

#: Flags whose value is a credential or a password.
SECRET_FLAGS = frozenset(
    {
        "--token",
        "--secret",
        "--access-token",
        "--access-token-secret",
        "--password",
        "--pass-phrase",
        "--passcode",
        "--pass-code",
        "--edit-disk-password",
        "--disk-edit-password",
        "--replica-user-password",
        "--health-check-basic-auth-password",
        "--change-password",
        "--key",
        "--service-principal-key-id",
    }
)

# Values this short are not masked wherever they appear (they would turn ordinary words into ***);
# after a credential flag or under a secret JSON key they are masked whatever their length.
_MIN_SECRET_LEN = 4
_SECRET_KEY = re.compile(r"(?i)(password|secret|token|passcode|pass_?phrase|private_?key)")
_FLAG_VALUE = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(f) for f in sorted(SECRET_FLAGS, key=len, reverse=True))
    + r")(=|[ \t]+)('[^']*'|\"[^\"]*\"|[^\s'\"]+)"
)
_JSON_SECRET = re.compile(r'(?i)("[A-Za-z_]*(?:password|secret|token|passcode|privatekey)[A-Za-z_]*"\s*:\s*)"[^"]*"')
_AUTH_HEADER = re.compile(r"(?im)^(\s*authorization:\s*).*$")
_URL_USERINFO = re.compile(r"(?is)^(rediss?://)(.*)@")
_URL_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")
PROFILE_DIR_ENV = "USACLOUD_PROFILE_DIR"


def mask_url(url: str) -> str:
    """A redis URL with any password hidden: `redis://:pw@host`, `redis://user:pw@host`, `redis://pw@host`
    (a common slip) and `?password=` (a password may hold `/`, `#` or `?`: no URL parsing here)."""
    match = _URL_USERINFO.match(url)
    if match:
        userinfo = match.group(2)
        user = userinfo.split(":", 1)[0] + ":" if ":" in userinfo else ""
        url = f"{match.group(1)}{user}{MASK}@{url[match.end() :]}"
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
                if isinstance(value, str) and _SECRET_KEY.search(str(key)):
                    found.append(value)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def profile_secrets(env: Mapping[str, str]) -> list[str]:
    """Credentials kept in usacloud profiles (`~/.usacloud/<name>/config.json`), best effort."""
    base = Path(env.get(PROFILE_DIR_ENV) or Path(env.get("HOME") or "~").expanduser() / ".usacloud")
    found: list[str] = []
    try:
        files = sorted(base.glob("*/config.json"))[:100]
    except OSError:
        return found
    for path in files:
        try:
            found += json_secrets(path.read_text(encoding="utf-8", errors="replace")[:1_000_000])
        except OSError:
            continue
    return found


def flag_secrets(words: Sequence[str]) -> list[str]:
    """Values given to credential flags in an argv (`--token X` and `--token=X`)."""
    found = []
    for index, word in enumerate(words):
        name, eq, value = word.partition("=")
        if not eq:
            value = words[index + 1] if index + 1 < len(words) else ""
        if name in SECRET_FLAGS:
            found.append(value)
        elif name == "--parameters":
            found += json_secrets(value)
    return found


@dataclass(frozen=True)
class Masker:
    """Replaces every known secret value with ``***``."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_sources(cls, env: Mapping[str, str], words: Iterable[str] = ()) -> Masker:
        values = [env.get(name, "") for name in SECRET_ENV]
        values.extend(flag_secrets(list(words)))
        values.extend(profile_secrets(env))
        return cls(_normalise(values))

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
        # whatever their length: values after credential flags, under secret JSON keys, auth headers
        text = _FLAG_VALUE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        text = _JSON_SECRET.sub(lambda m: m.group(1) + '"' + MASK + '"', text)
        return _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)

    def words(self, words: Sequence[str]) -> tuple[str, ...]:
        """Mask an argv: flag values by position, and any secret inside other words."""
        out = []
        hide_next = False
        for word in words:
            if hide_next:
                out.append(MASK)
                hide_next = False
                continue
            name, eq, _value = word.partition("=")
            if name in SECRET_FLAGS:
                out.append(f"{name}={MASK}" if eq else word)
                hide_next = not eq
                continue
            out.append(self.text(word))
        return tuple(out)


def _normalise(values: Iterable[str]) -> tuple[str, ...]:
    unique = {v for v in values if v and len(v) >= _MIN_SECRET_LEN}
    # Longest first, so a secret containing another is masked whole.
    return tuple(sorted(unique, key=len, reverse=True))
