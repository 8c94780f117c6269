"""Secrets: find them (environment, credential flags) and mask them in every text we show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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

# Values this short are not worth masking: they would turn ordinary words into ***.
_MIN_SECRET_LEN = 4


def flag_secrets(words: Sequence[str]) -> list[str]:
    """Values given to credential flags in an argv (`--token X` and `--token=X`)."""
    found = []
    for index, word in enumerate(words):
        name, eq, value = word.partition("=")
        if name in SECRET_FLAGS:
            if eq:
                found.append(value)
            elif index + 1 < len(words):
                found.append(words[index + 1])
    return found


@dataclass(frozen=True)
class Masker:
    """Replaces every known secret value with ``***``."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_sources(cls, env: Mapping[str, str], words: Iterable[str] = ()) -> Masker:
        values = [env.get(name, "") for name in SECRET_ENV]
        values.extend(flag_secrets(list(words)))
        return cls(_normalise(values))

    def with_words(self, words: Sequence[str]) -> Masker:
        extra = flag_secrets(words)
        if not extra:
            return self
        return Masker(_normalise([*self.secrets, *extra]))

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

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
