"""go-playground/validator v10.30.3 as usacloud 1.22.8 uses it: the rules of a field's ``validate`` tag,
usacloud's named validators (pkg/vdef), and the ``FLAG: rule`` text usacloud prints for each failure.

A field stops at its first failing rule; usacloud reports every failing field (``validation error:``
then one line each), printing the rule inside an alias (``tags`` fails as ``max=32``).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .params import decode_json

#: usacloud's validator aliases (pkg/vdef/validators.go and the `definitions` it turns into
#: ``oneof=KEYS``, in definition order; the zone alias is made at run time and checked elsewhere).
ALIASES = {
    "description": "max=512",
    "tags": "unique,max=10,dive,max=32",
    "profile_name": "excludesrune=:",
    "output_type": "oneof=table json yaml",
    "weekdays": "unique,dive,oneof=all sun mon tue wed thu fri sat",
    "backup_start_minute": "oneof=0 15 30 45",
    "cdrom_sizes": "oneof=5 10 20",
    "container_registry_access_level": "oneof=readonly none",
    "database_plan": "oneof=10g 30g 90g 240g 500g 1t",
    "database_type": "oneof=postgresql postgres mariadb",
    "disk_plan": "oneof=ssd hdd",
    "disk_connection": "oneof=virtio ide",
    "disk_encryption_algorithm": "oneof=none aes256_xts",
    "enhanced_db_type": "oneof=tidb mariadb",
    "enhanced_db_region": "oneof=is1 tk1",
    "gslb_protocol": "oneof=http https ping tcp",
    "interface_driver": "oneof=virtio e1000",
    "internet_network_mask_len": "oneof=28 27 26",
    "internet_bandwidth": "oneof=" + " ".join(str(n) for n in (100, 250, *range(500, 10001, 500))),
    "loadbalancer_plan": "oneof=standard highspec",
    "nfs_plan": "oneof=ssd hdd",
    "note_class": "oneof=shell yaml_cloud_config",
    "os_type": "oneof=almalinux almalinux10 almalinux9 almalinux8 rockylinux rockylinux10 rockylinux9 "
    "rockylinux8 miracle miraclelinux miracle9 miraclelinux9 miracle8 miraclelinux8 ubuntu ubuntu2404 "
    "ubuntu2204 debian debian12 debian11 kusanagi",
    "private_host_class": "oneof=dynamic ms_windows",
    "proxylb_plan": "oneof=100 500 1000 5000 10000 50000 100000 400000",
    "proxylb_protocol": "oneof=http tcp",
    "proxylb_region": "oneof=tk1 is1 anycast",
    "rest_method": "oneof=get post patch put delete GET POST PATCH PUT DELETE",
    "scope": "oneof=user shared",
    "server_plan_commitment": "oneof=standard dedicatedcpu",
    "server_plan_generation": "oneof=default g100 g200",
    "simple_monitor_protocol": "oneof=http https ping tcp dns ssh smtp pop3 snmp sslcertificate ftp",
    "simple_monitor_ftps": "oneof=explicit implicit",
    "vpc_router_plan_premium": "oneof=premium highspec highspec4000",
}
#: Rules that run on a nil pointer too (validator registers them "nil-checkable").
_RUN_ON_NIL = frozenset({"required_with", "required_without"})
#: The whole validator module, for the README: rules this engine applies.
RULES = ("required", "omitempty", "dive", "min", "max", "gt", "oneof", "unique", "ipv4", "ipv6")
RULES += ("cidrv4", "fqdn", "mac", "file", "json", "excludesrune", "required_with", "required_without")
_FQDN = re.compile(
    r"([a-zA-Z0-9]{1}[a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]{1}[a-zA-Z0-9-]{0,62})*?(\.[a-zA-Z]{1}[a-zA-Z0-9-]{0,62})\.?\Z"
)
_ONEOF_PARAM = re.compile(r"'[^']*'|\S+")


@dataclass(frozen=True)
class Rule:
    name: str  # "max", "oneof", or "a|b" for an or-group
    param: str = ""
    alias: str = ""  # the alias it came from ("tags"), or ""
    options: tuple[Rule, ...] = ()  # an or-group's rules


@functools.cache
def parse_tag(tag: str) -> tuple[Rule, ...]:
    """A ``validate`` tag as rules, aliases expanded (each rule remembers its alias)."""
    rules: list[Rule] = []
    for part in (tag or "").split(","):
        if not part:
            continue
        if "|" in part:
            options = tuple(_rule(p, "") for p in part.split("|"))
            rules.append(Rule(part, "", "", options))
            continue
        name = part.partition("=")[0]
        if name in ALIASES:
            rules.extend(Rule(r.name, r.param, name) for r in parse_tag(ALIASES[name]))
        else:
            rules.append(_rule(part, ""))
    return tuple(rules)


def _rule(part: str, alias: str) -> Rule:
    name, _, param = part.partition("=")
    return Rule(name, param, alias)


@dataclass(frozen=True)
class Value:
    """A field's value as the validator sees it.

    ``kind``: "int" (ints and IDs), "string", "bool" or "list" (of strings or IDs); ``pointer``: the
    field is a Go pointer; ``value``: the Go value, None for a nil pointer or a nil list."""

    kind: str
    value: object
    pointer: bool = False


@dataclass(frozen=True)
class FieldError:
    field: str  # the field's path, an element with its index ("Tags[0]")
    rule: Rule
    value: object  # the failing value (the element's, for an element)
    index: int | None = None

    def detail(self) -> str:
        """What usacloud prints after the flag name."""
        text = self.rule.name + (f"={self.rule.param}" if self.rule.param else "")
        return f"invalid file path: {self.value}" if text == "file" else text


Sibling = Callable[[str], "Value | None"]


@dataclass(frozen=True)
class Context:
    """What rules need besides the field: a sibling field by name (required_with...) and the
    directory usacloud runs in (``file``; None: not known here, so ``file`` passes)."""

    sibling: Sibling
    base_dir: str | Path | None = None


def validate(field: str, tag: str, value: Value, context: Context) -> list[FieldError]:
    """The failures of ``value`` (field ``field``) under ``tag``: none, one, or one per failing element.

    As validator.go's ``traverseField`` runs a tag: a nil pointer stops at ``omitempty`` and otherwise
    fails on the first rule (the required_* rules still run); ``omitempty`` stops when the field has no
    value (a set pointer always has one); ``dive`` applies the rest to each element; ``a|b`` passes
    when either does. Sizes go by Go kind: a number's value, a string's runes, a list's elements."""
    return _run(field, parse_tag(tag), value, context, None)


def _run(field: str, rules: tuple[Rule, ...], value: Value, ctx: Context, index: int | None) -> list[FieldError]:
    if not rules:
        return []
    if value.pointer and value.value is None:
        first = rules[0]
        if first.name == "omitempty":
            return []
        if first.name not in _RUN_ON_NIL:
            return [FieldError(field, first, None, index)]
    for i, rule in enumerate(rules):
        if rule.name == "omitempty":
            if not has_value(value):
                return []
            continue
        if rule.name == "dive":
            errors = []
            element_kind = "int" if isinstance(next(iter(value.value or ()), ""), int) else "string"
            for j, element in enumerate(value.value or ()):
                errors += _run(f"{field}[{j}]", rules[i + 1 :], Value(element_kind, element), ctx, j)
            return errors
        ok = any(_passes(r, value, ctx) for r in rule.options) if rule.options else _passes(rule, value, ctx)
        if not ok:
            return [FieldError(field, rule, value.value, index)]
    return []


def has_value(value: Value) -> bool:
    """validator's hasValue: a set pointer or a non-nil list has one; anything else is non-zero."""
    if value.pointer or value.kind == "list":
        return value.value is not None
    return value.value not in (None, 0, "", False)


def _size(value: Value, param: str) -> tuple[int, int]:
    """(the measured size, the bound): runes of a string, elements of a list, the value of a number."""
    bound = int(param)
    if value.kind == "string":
        return len(value.value or ""), bound
    if value.kind == "list":
        return len(value.value or ()), bound
    return int(value.value or 0), bound


def _passes(rule: Rule, value: Value, ctx: Context) -> bool:
    name, param, v = rule.name, rule.param, value.value
    if name == "required":
        return has_value(value)
    if name in ("min", "max", "gt"):
        size, bound = _size(value, param)
        return size >= bound if name == "min" else size <= bound if name == "max" else size > bound
    if name == "oneof":
        options = [o.strip("'") for o in _ONEOF_PARAM.findall(param)]
        return (str(v) if value.kind == "int" else v) in options
    if name == "unique":
        items = list(v or ())
        return len(items) == len(set(items))
    if name in ("required_with", "required_without"):
        present = [_present(ctx.sibling(p)) for p in param.split()]
        trigger = any(present) if name == "required_with" else not all(present)
        return has_value(value) if trigger else True
    if name == "excludesrune":
        return param not in str(v)
    return _FORMATS[name](str(v), ctx)


def _present(sibling: Value | None) -> bool:
    """The opposite of validator's requireCheckFieldKind: a field not found counts as absent."""
    return sibling is not None and has_value(sibling)


# -- formats ------------------------------------------------------------------------------------------
def parse_ip(text: str) -> bytes | None:
    """Go's net.ParseIP: 4 bytes for dotted IPv4 (no leading zeros), 16 for IPv6 (no zone), else None."""
    if "%" in text:
        return None
    try:
        if ":" not in text:
            return ipaddress.IPv4Address(text).packed
        return ipaddress.IPv6Address(text).packed
    except ValueError:
        return None


def to4(ip: bytes | None) -> bytes | None:
    """Go's IP.To4: an IPv4 address, or an IPv4-mapped IPv6 one (::ffff:a.b.c.d)."""
    if ip is None:
        return None
    if len(ip) == 4:
        return ip
    return ip[12:] if ip[:12] == b"\x00" * 10 + b"\xff\xff" else None


def is_ipv4(text: str, _ctx: Context | None = None) -> bool:
    return to4(parse_ip(text)) is not None


def is_ipv6(text: str, _ctx: Context | None = None) -> bool:
    ip = parse_ip(text)
    return ip is not None and to4(ip) is None


def is_cidrv4(text: str, _ctx: Context | None = None) -> bool:
    """net.ParseCIDR, an IPv4 address, and no host bits set (the address is the network's)."""
    address, slash, prefix = text.partition("/")
    ip = parse_ip(address)
    if not slash or ip is None or not prefix.isascii() or not prefix.isdigit():
        return False
    bits = int(prefix)
    if bits > len(ip) * 8 or to4(ip) is None:
        return False
    number = int.from_bytes(ip, "big")
    host = (1 << (len(ip) * 8 - bits)) - 1
    return number & host == 0


def is_mac(text: str, _ctx: Context | None = None) -> bool:
    """net.ParseMAC: 6, 8 or 20 bytes as xx:xx.., xx-xx.. or xxxx.xxxx.. hex groups."""
    if len(text) < 14:
        return False
    if text[2] in ":-":
        sep = text[2]
        if (len(text) + 1) % 3 or (len(text) + 1) // 3 not in (6, 8, 20):
            return False
        groups = text.split(sep)
        return all(len(g) == 2 and _hex(g) for g in groups)
    if text[4] == ".":
        if (len(text) + 1) % 5 or 2 * (len(text) + 1) // 5 not in (6, 8, 20):
            return False
        return all(len(g) == 4 and _hex(g) for g in text.split("."))
    return False


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def is_fqdn(text: str, _ctx: Context | None = None) -> bool:
    return text != "" and _FQDN.match(text) is not None


def is_file(text: str, ctx: Context) -> bool:
    """An existing path that is not a directory, as os.Stat sees it where usacloud runs (no ``~``)."""
    if ctx.base_dir is None:
        return True  # not knowable here
    try:
        return not Path(ctx.base_dir, text).is_dir() and os.path.exists(Path(ctx.base_dir, text))
    except (OSError, ValueError):
        return False


def is_json(text: str, _ctx: Context | None = None) -> bool:
    try:
        decode_json(text)
    except (ValueError, RecursionError):
        return False
    return True


_FORMATS: dict[str, Callable[[str, Context], bool]] = {
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "cidrv4": is_cidrv4,
    "mac": is_mac,
    "fqdn": is_fqdn,
    "file": is_file,
    "json": is_json,
}
