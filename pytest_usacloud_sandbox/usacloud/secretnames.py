"""Which names carry a secret: one rule for flag names, JSON and YAML keys and table column heads.

A name carries a secret when, lowercased and without ``-``/``_``, it contains one of SECRET_WORDS:
``--replica-user-password``, ``--slack-webhooks-url``, usacloud's Go field names (``UserPassword``,
``PreSharedSecret``, ``SlackWebhooksURL``, ``Community``), a profile's ``access_token_secret``, the
``Password`` column of ``ftp-open``. A flag carries one only
if it takes a value (the command table says which).
"""

from __future__ import annotations

import re

#: A Slack incoming-webhook URL is a bearer credential (anyone holding it posts to the channel), an
#: SNMP community a password.
SECRET_WORDS = ("password", "passwd", "passcode", "passphrase", "secret", "token", "privatekey", "community", "webhook")
#: Whole names that carry a secret without such a word: the service principal's key ID.
_SECRET_NAMES = frozenset({"serviceprincipalkeyid"})
#: Flags only: ``--key`` is a private key (``server ssh``, the web accelerator's certificates); a key
#: named ``Key`` in usacloud's output is not (a database parameter's name).
_SECRET_FLAGS = frozenset({"key"})
_SEPARATORS = re.compile(r"[-_\s]")


def is_secret_key(name: str) -> bool:
    """Whether a JSON/YAML key or a column head (``UserPassword``, ``private_key``) names a secret."""
    normal = _SEPARATORS.sub("", name).lower()
    return normal in _SECRET_NAMES or any(word in normal for word in SECRET_WORDS)


def is_secret_flag(name: str) -> bool:
    """Whether a flag named ``name`` (``--edit-disk-password``) would carry a secret if it takes a value."""
    body = name.lstrip("-")
    return body in _SECRET_FLAGS or is_secret_key(body)
