"""The 19 subcommands' own ``Validate`` functions in usacloud 1.22.8 (their ``ValidateFunc``), by :data:`CUSTOM`.

Read from each command's Go source: flags that conflict, a download's destination, SSH public keys,
``key=value`` lists, a plan's address count, a NIC's upstream. Each runs only after the validator's
rules passed, except ``config create``, which skips them (:func:`skips_rules`). Not checked, because
only the machine or the API knows: whether a profile exists, ``--user-data`` being YAML, a rest URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .commands import Invocation
from .fields import DEFAULT, Fields
from .params import JSONObject, Parameters, expand_home, member
from .pflag import string_id
from .sshkey import authorized_key


@dataclass(frozen=True)
class CustomError:
    line: str  # what usacloud prints (inside `validation error:` unless ``framed`` is False)
    message: str  # the same in plain words, with what to do
    code: str = "bad-value"
    fix: str | None = None
    framed: bool = True


@dataclass(frozen=True)
class Command:
    """One command's parameters as the custom functions see them."""

    inv: Invocation
    fields: Fields
    params: Parameters | None
    base_dir: str | Path | None
    home: str | None

    def value(self, field: str) -> object:
        found = self.fields.get(field)
        return None if found is None else found.value.value

    def nonempty(self, field: str) -> bool:
        """util.IsEmpty's opposite for a field (a usacloud default counts as set)."""
        value = self.value(field)
        return value is DEFAULT or value not in (None, "", 0, False, [])

    def struct_set(self, prefix: str) -> bool:
        """util.IsEmpty's opposite for the struct ``prefix`` ("Disk")."""
        return self.fields.struct_set(prefix)

    def json_list(self, name: str) -> list:
        if self.params is None or self.params.data is None:
            return []
        found, value = member(self.params.data, name)
        return value if found and isinstance(value, list) and not isinstance(value, JSONObject) else []


def skips_rules(resource: str, subcommand: str) -> bool:
    """``config create`` validates the profile name itself and never runs the validator's rules."""
    return (resource, subcommand) == ("config", "create")


def profile_name_from_argument(resource: str, subcommand: str, inv: Invocation) -> str | None:
    """config create/edit/delete/path/show/use take the profile name from the argument when ``--name``
    is empty: the value the rules then see."""
    if resource != "config" or subcommand not in ("create", "edit", "delete", "path", "show", "use"):
        return None
    named = [u for u in inv.flag_uses("--name") if u.value]
    return inv.positionals[0] if inv.positionals and not named else None


def conflict(cmd: Command, targets: list[tuple[str, bool]]) -> list[CustomError]:
    """validate.ConflictWith: more than one of ``targets`` (flag, has a value) is an error."""
    if sum(1 for _, has in targets if has) <= 1:
        return []
    names = " & ".join(name for name, _ in targets)
    given = [name for name, has in targets if has]
    return [
        CustomError(
            f"{names}: only one of them can be specified",
            f"{' and '.join(given)} cannot be used together: give one of {', '.join(n for n, _ in targets)}",
            "conflicting-flags",
            given[-1],
        )
    ]


def _archive_create(cmd: Command) -> list[CustomError]:
    names = ("--source-file", "--source-archive-id", "--source-disk-id")
    fields = ("SourceFile", "SourceArchiveID", "SourceDiskID")
    return conflict(cmd, [(n, cmd.nonempty(f)) for n, f in zip(names, fields, strict=True)])


def _disk_create(cmd: Command) -> list[CustomError]:
    names = ("--os-type", "--source-archive-id", "--source-disk-id")
    fields = ("OSType", "SourceArchiveID", "SourceDiskID")
    return conflict(cmd, [(n, cmd.nonempty(f)) for n, f in zip(names, fields, strict=True)])


def _download(cmd: Command) -> list[CustomError]:
    destination = cmd.value("Destination")
    if not destination or destination is DEFAULT or cmd.base_dir is None:
        return []
    try:
        os.stat(Path(cmd.base_dir, str(destination)))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        line = f'--destination: opening file "{destination}" failed'
        return [CustomError(line, f"`--destination {destination}` cannot be looked at where usacloud runs")]
    if cmd.value("Force") in (True, DEFAULT):
        return []
    message = f"`--destination {destination}` already exists in the script's directory: usacloud will not overwrite it"
    return [CustomError("--destination: file already exists", message, "bad-file", "--force")]


_KEY_VALUE = re.compile(r"[0-9A-Za-z_]+=[0-9A-Za-z_]*\Z")


def _database_parameters(cmd: Command) -> list[CustomError]:
    errors = []
    for item in cmd.value("DatabaseParametersData") or ():
        if item is not DEFAULT and not _KEY_VALUE.match(item):
            line = f"--database-parameters: must be in a format like 'key=value': {item}"
            errors.append(CustomError(line, f"`{item}` is not key=value (letters, digits and _ only)"))
    return errors


def _load_balancer_create(cmd: Command) -> list[CustomError]:
    plan = cmd.value("PlanID")
    addresses = cmd.value("IPAddresses")
    count = len(addresses) if isinstance(addresses, list) else 0
    if plan in ("standard", DEFAULT):
        if count != 1:
            line = "--ip-addresses: for the standard plan, specify only one IP address"
            return [CustomError(line, f"the standard plan takes one --ip-address, not {count}", fix="--ip-address")]
    elif count != 2:
        line = "--ip-addresses: for the highspec plan, specify two IP addresses"
        return [CustomError(line, f"the {plan} plan takes two --ip-address values, not {count}", fix="--ip-address")]
    return []


def _proxy_lb_tos(cmd: Command) -> list[CustomError]:
    enabled, accepted = cmd.value("LetsEncrypt.Enabled"), cmd.value("LetsEncrypt.AcceptTOS")
    if enabled is True and accepted is not True:
        line = "--lets-encrypt-accept-tos: required when --lets-encrypt-enabled=true"
        message = "--lets-encrypt-enabled needs --lets-encrypt-accept-tos (Let's Encrypt's terms)"
        return [CustomError(line, message, "missing-required", "--lets-encrypt-accept-tos")]
    return []


def _ssh_key_create(cmd: Command) -> list[CustomError]:
    key = cmd.value("PublicKey")
    if not key or key is DEFAULT:
        return []
    return _public_key(cmd, "--public-key", str(key))


def _public_key(cmd: Command, flag: str, value: str) -> list[CustomError]:
    """validate.PublicKeyFormat: the value is a file's content where one exists, else the text."""
    expanded = expand_home(value, cmd.home)
    if expanded is None:
        return [CustomError(f"{flag}: got invalid pathOrContent", f"{flag} `{value}`: `~user` paths are not expanded")]
    data = expanded.encode("utf-8", "surrogateescape")
    if cmd.base_dir is not None:
        try:
            data = Path(cmd.base_dir, expanded).read_bytes()
        except (OSError, ValueError):
            pass
    elif not _looks_like_key(data):
        return []  # a path that cannot be looked at here
    if authorized_key(data):
        return []
    message = f"{flag} is not an SSH public key (an authorized_keys line such as `ssh-ed25519 AAAA...`, or its file)"
    return [CustomError(f"{flag}: must be in a valid format", message)]


def _looks_like_key(data: bytes) -> bool:
    return b" " in data.strip()


def _server_create(cmd: Command) -> list[CustomError]:
    errors = conflict(
        cmd,
        [
            ("--network-interface", cmd.struct_set("NetworkInterface")),
            ("--network-interfaces", cmd.nonempty("NetworkInterfaceData")),
        ],
    )
    disks = cmd.json_list("Disks")
    errors += conflict(
        cmd,
        [("--disk", cmd.struct_set("Disk")), ("--disks", bool(disks)), ("--disk-ids", cmd.nonempty("DiskIDs"))],
    )
    key_lists = [cmd.value("Disk.EditDisk.SSHKeys")] if cmd.struct_set("Disk") else []
    for disk in disks:
        edit = member(disk, "EditDisk")[1]
        key_lists.append(member(edit, "SSHKeys")[1])
    for keys in key_lists:
        for key in keys if isinstance(keys, list) else ():
            found = _public_key(cmd, "--SSHKey", key) if isinstance(key, str) else []
            if found:
                errors += found
                break
    upstreams = [cmd.value("NetworkInterface.Upstream")] if cmd.struct_set("NetworkInterface") else []
    upstreams += [member(nic, "Upstream")[1] for nic in cmd.json_list("NetworkInterfaces")]
    for upstream in upstreams:
        if isinstance(upstream, str) and upstream not in ("", "shared", "disconnected") and not _switch_id(upstream):
            line = f'upstream require to be "shared" or "disconnected" or SwitchID. value:{upstream}'
            message = f"network interface upstream `{upstream}`: shared, disconnected or a switch ID"
            errors.append(CustomError(line, message, fix="shared"))
    return errors


def _switch_id(text: str) -> bool:
    return string_id(text) != 0


def _config_create(cmd: Command) -> list[CustomError]:
    if cmd.value("Name") or profile_name_from_argument("config", "create", cmd.inv):
        return []
    message = "`config create` needs a profile name: --name NAME or the name as argument"
    return [CustomError("--name or name argument required", message, "missing-required", "--name", framed=False)]


CUSTOM: dict[tuple[str, str], Callable[[Command], list[CustomError]]] = {
    ("archive", "create"): _archive_create,
    ("archive", "download"): _download,
    ("cdrom", "download"): _download,
    ("config", "create"): _config_create,
    ("database", "create"): _database_parameters,
    ("database", "update"): _database_parameters,
    ("disk", "create"): _disk_create,
    ("load-balancer", "create"): _load_balancer_create,
    ("proxy-lb", "create"): _proxy_lb_tos,
    ("proxy-lb", "update"): _proxy_lb_tos,
    ("server", "create"): _server_create,
    ("ssh-key", "create"): _ssh_key_create,
}
#: Custom functions with nothing to add offline: config edit/delete/path/show/use (the name from the
#: argument, see above; the profile's existence is the machine's), rest request (its zone and
#: argument count are the check's own rules), server boot (user data must be YAML: not checked).
NOTHING_OFFLINE = {("config", n) for n in ("edit", "delete", "path", "show", "use")}
NOTHING_OFFLINE |= {("rest", "request"), ("server", "boot")}


def custom_errors(resource: str, subcommand: str, cmd: Command) -> list[CustomError]:
    """The subcommand's own Validate errors."""
    check = CUSTOM.get((resource, subcommand))
    return [] if check is None else check(cmd)
