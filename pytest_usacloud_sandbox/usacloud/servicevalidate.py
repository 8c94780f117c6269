"""What usacloud 1.22.8's service layer refuses (iaas-service-go's request and builder Validate), by :data:`SERVICE`.

Once usacloud's validation, its Customize step and the confirmation passed, the command hands its
parameters to iaas-service-go, which validates its request and builder before calling the API. Some
of those checks refuse what usacloud's own rules accept; usacloud then prints the error alone (no
``validation error:`` frame) and exits 1. Each rule here was read from the Go source and measured
with the real binary. Server create's NoWait checks come after a read-only plan lookup; the others
run before any API call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .customize import json_list
from .customvalidate import Command
from .params import JSONObject, member


@dataclass(frozen=True)
class ServiceRule:
    refuses: Callable[[Command], bool]
    line: str  # what usacloud prints, unframed
    message: str  # the same in plain words, with what to do
    fix: str | None = None
    code: str = "service-refused"


def _on(cmd: Command, field: str) -> bool:
    return cmd.value(field) is True


def _listed(cmd: Command, json_name: str, struct: JSONObject | None, data_field: str) -> list:
    """A list the service gets, in usacloud's order: ``--parameters``' list, the flags' struct (when
    set), then the JSON list flag's entries (a file or the text)."""
    items = list(cmd.json_list(json_name)) + ([struct] if struct is not None else [])
    data = cmd.value(data_field)
    return items + (json_list(cmd, data) if isinstance(data, str) and data else [])


def _archive_has_no_source(cmd: Command) -> bool:
    """The standard archive builder (no --source-file) needs a disk or an archive to copy."""
    return not any(cmd.nonempty(f) for f in ("SourceFile", "SourceDiskID", "SourceArchiveID"))


def _mobile_gateway_interface(cmd: Command) -> bool:
    return cmd.struct_set("PrivateInterface")


def _server_shared_after_first(cmd: Command) -> bool:
    nic = JSONObject([("Upstream", cmd.value("NetworkInterface.Upstream"))])
    nics = _listed(
        cmd, "NetworkInterfaces", nic if cmd.struct_set("NetworkInterface") else None, "NetworkInterfaceData"
    )
    return any(member(nic, "Upstream")[1] == "shared" for nic in nics[1:])


def _server_disk_waits(cmd: Command) -> bool:
    """--no-wait while a disk to build waits (--disk-* without --disk-no-wait, a --disks entry without NoWait)."""
    if not _on(cmd, "NoWait"):
        return False
    disk = JSONObject([("NoWait", _on(cmd, "Disk.NoWait"))]) if cmd.struct_set("Disk") else None
    disks = _listed(cmd, "Disks", disk, "DisksData")
    return any(isinstance(d, JSONObject) and member(d, "NoWait")[1] is not True for d in disks)


_MGW_PARTS = ("PrivateInterface", "DNS", "TrafficConfig")

#: Each command's refusals in the order its service checks them (the first that applies is the one printed).
SERVICE: dict[tuple[str, str], tuple[ServiceRule, ...]] = {
    ("archive", "create"): (
        ServiceRule(
            lambda c: c.nonempty("SourceFile") and _on(c, "NoWait"),
            "NoWait=true is not supported when uploading files and creating archives",
            "an archive made from --source-file is uploaded and waited for: remove --no-wait",
            "remove --no-wait",
        ),
        ServiceRule(
            _archive_has_no_source,
            "SourceDiskID or SourceArchiveID is required",
            "`archive create` needs a source: --source-archive-id, --source-disk-id, or --source-file with --size",
            "--source-archive-id",
            "missing-required",
        ),
    ),
    ("database", "create"): (
        ServiceRule(
            lambda c: _on(c, "EnableBackup") and not c.nonempty("ReplicaUserPassword"),
            "1 error occurred:\n\t* ReplicaUserPassword: required_with=EnableReplication\n",
            "with --enable-backup the service also turns on replication settings and needs"
            " --replica-user-password (an iaas-service-go quirk)",
            "--replica-user-password",
            "missing-required",
        ),
    ),
    ("internet", "create"): (
        ServiceRule(
            lambda c: _on(c, "EnableIPv6") and _on(c, "NoWait"),
            "NoWait=true is not supported when EnableIPv6=true",
            "--enable-ipv6 waits for the router to enable IPv6: remove --no-wait",
            "remove --no-wait",
        ),
    ),
    ("mobile-gateway", "create"): (
        ServiceRule(
            lambda c: _mobile_gateway_interface(c) and not c.nonempty("PrivateInterface.SwitchID"),
            "switch id is required when specified private interface",
            "a private interface needs --private-interface-switch-id",
            "--private-interface-switch-id",
            "missing-required",
        ),
        ServiceRule(
            lambda c: _mobile_gateway_interface(c) and not c.nonempty("PrivateInterface.NetworkMaskLen"),
            "ip address is required when specified private interface",
            "a private interface needs --private-interface-network-mask-len (usacloud's message names the address)",
            "--private-interface-network-mask-len",
            "missing-required",
        ),
        ServiceRule(
            lambda c: _on(c, "NoWait") and any(c.struct_set(p) for p in _MGW_PARTS),
            "NoWait=true is not supported with PrivateInterface/StaticRoutes/SIMRoutes/DNS/SIMs/TrafficConfig",
            "--no-wait cannot be used with a private interface, DNS or traffic settings: remove --no-wait",
            "remove --no-wait",
        ),
    ),
    ("server", "create"): (
        ServiceRule(
            _server_shared_after_first,
            "upstream=shared is not supported for additional NICs",
            "only the first network interface can be connected to the shared segment (upstream shared)",
            "disconnected",
        ),
        ServiceRule(
            _server_disk_waits,
            "NoWait=true is not supported if the disks contain NoWait=false",
            "with --no-wait every disk it builds needs no-wait too: add --disk-no-wait (or NoWait in --disks)",
            "--disk-no-wait",
        ),
        ServiceRule(
            lambda c: _on(c, "NoWait") and _on(c, "BootAfterCreate"),
            "NoWait=true is not supported with BootAfterCreate=true",
            "--boot-after-create waits for the server: remove --no-wait",
            "remove --no-wait",
        ),
    ),
    ("vpc-router", "create"): (
        ServiceRule(
            lambda c: _on(c, "NoWait") and c.struct_set("PublicNetworkInterface"),
            "NoWait=true is not supported with AdditionalNICSettings and RouterSetting",
            "a VPC router is configured after it is created, so it is waited for: remove --no-wait",
            "remove --no-wait",
        ),
    ),
    ("vpc-router", "create-standard"): (
        ServiceRule(
            lambda c: _on(c, "NoWait"),
            "NoWait=true is not supported with AdditionalNICSettings and RouterSetting",
            "a VPC router is configured after it is created, so it is waited for: remove --no-wait",
            "remove --no-wait",
        ),
    ),
}


def service_error(resource: str, subcommand: str, cmd: Command) -> ServiceRule | None:
    """The refusal usacloud's service prints for this command, if any (it stops at the first)."""
    return next((rule for rule in SERVICE.get((resource, subcommand), ()) if rule.refuses(cmd)), None)
