"""SSH public keys as golang.org/x/crypto/ssh's ParseAuthorizedKey reads them (usacloud's
validate.PublicKeyFormat): some line of the text is an authorized_keys entry, options allowed, whose
base64 blob is a wire-format public key of a type x/crypto/ssh knows."""

from __future__ import annotations

import base64
import struct

_CURVES = {"nistp256": 65, "nistp384": 97, "nistp521": 133}


def authorized_key(data: bytes) -> bool:
    """Whether some line of ``data`` is an authorized_keys entry x/crypto/ssh parses: optional options,
    a key type word, then the base64 wire-format key (its structure checked, not the curve point)."""
    for raw in data.split(b"\n"):
        line = raw.split(b"\r", 1)[0].strip()
        if not line or line.startswith(b"#"):
            continue
        words = line.split(None, 1)
        if len(words) == 2 and _key_blob_ok(words[1]):
            return True
        rest = _after_options(line)
        if rest is not None:
            words = rest.split(None, 1)
            if len(words) == 2 and _key_blob_ok(words[1]):
                return True
    return False


def _after_options(line: bytes) -> bytes | None:
    quoted = False
    for i, byte in enumerate(line):
        if byte == ord('"') and (i == 0 or line[i - 1] != ord("\\")):
            quoted = not quoted
        elif not quoted and byte in b" \t":
            rest = line[i:].lstrip(b" \t")
            return rest or None
    return None


def _key_blob_ok(text: bytes) -> bool:
    encoded = text.strip().split(None, 1)[0]
    try:
        blob = base64.b64decode(encoded, validate=True)
    except ValueError:
        return False
    algo, rest = _string(blob)
    if algo is None:
        return False
    name = algo.decode("latin-1")
    parts = {
        "ssh-rsa": ("rsa-exponent", "mpint"),
        "ssh-dss": ("mpint", "mpint", "mpint", "mpint"),
        "ssh-ed25519": ("ed25519",),
        "sk-ssh-ed25519@openssh.com": ("ed25519", "string"),
    }.get(name)
    if name.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-")):
        curve = name.removeprefix("sk-").removeprefix("ecdsa-sha2-").removesuffix("@openssh.com")
        parts = ("curve:" + curve, "point:" + curve) + (("string",) if name.startswith("sk-") else ())
    if name.endswith("-cert-v01@openssh.com"):
        return len(rest) > 0  # certificates: the structure is not followed further here
    if parts is None:
        return False
    for part in parts:
        rest = _part(part, rest)
        if rest is None:
            return False
    return rest == b""


def _part(part: str, data: bytes) -> bytes | None:
    value, rest = _string(data)
    if value is None:
        return None
    if part == "mpint":
        return None if value and value[0] & 0x80 else rest
    if part == "rsa-exponent":  # non-negative, at most 24 bits, odd and at least 3
        exponent = int.from_bytes(value, "big")
        ok = not (value and value[0] & 0x80) and exponent.bit_length() <= 24 and exponent >= 3 and exponent & 1
        return rest if ok else None
    if part == "ed25519":
        return rest if len(value) == 32 else None
    if part.startswith("curve:"):
        return rest if value.decode("latin-1") == part[6:] else None
    if part.startswith("point:"):
        return rest if len(value) == _CURVES.get(part[6:], -1) and value[:1] == b"\x04" else None
    return rest


def _string(data: bytes) -> tuple[bytes | None, bytes]:
    if len(data) < 4:
        return None, data
    (length,) = struct.unpack(">I", data[:4])
    if len(data) < 4 + length:
        return None, data
    return data[4 : 4 + length], data[4 + length :]
