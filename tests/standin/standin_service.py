"""The stand-in's model of what usacloud 1.22.8's service layer (iaas-service-go) refuses after usacloud's
own checks and the confirmation passed, before any change: the error alone, exit 1 (as measured with
the real binary). ``values`` is the stand-in's parameter view (``get(field)``, ``flags`` by field).
"""

import json


def _listed(values, json_name, struct, data_field):
    """The service's list: --parameters' list, the flags' struct when set, the JSON list flag's entries."""
    items = list(values.get(json_name) or [])
    items += [struct] if struct is not None else []
    data = values.get(data_field)
    if data:
        try:
            decoded = json.loads(_read(data))
        except ValueError:
            decoded = None
        items += decoded if isinstance(decoded, list) else []
    return [i for i in items if isinstance(i, dict)]


def _read(value):
    try:
        with open(value, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return value


def _struct_set(values, prefix):
    """Whether some field of the struct ``prefix`` has a non-zero value."""
    fields = [f for f in values.flags if f.startswith(prefix + ".")]
    return any(values.get(f) not in (None, "", 0, False, []) for f in fields)


def _id(values, field):
    """types.ID's value: a word that is no number is 0."""
    value = values.get(field)
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else 0


def _archive(v):
    if v.get("SourceFile") and v.get("NoWait") is True:
        return "NoWait=true is not supported when uploading files and creating archives"
    if not (v.get("SourceFile") or _id(v, "SourceDiskID") or _id(v, "SourceArchiveID")):
        return "SourceDiskID or SourceArchiveID is required"
    return None


def _database(v):
    if v.get("EnableBackup") is True and not v.get("ReplicaUserPassword"):
        return "1 error occurred:\n\t* ReplicaUserPassword: required_with=EnableReplication\n\n"
    return None


def _internet(v):
    if v.get("EnableIPv6") is True and v.get("NoWait") is True:
        return "NoWait=true is not supported when EnableIPv6=true"
    return None


def _mobile_gateway(v):
    private = _struct_set(v, "PrivateInterface")
    if private and not _id(v, "PrivateInterface.SwitchID"):
        return "switch id is required when specified private interface"
    if private and not v.get("PrivateInterface.NetworkMaskLen"):
        return "ip address is required when specified private interface"
    parts = private or _struct_set(v, "DNS") or _struct_set(v, "TrafficConfig")
    if v.get("NoWait") is True and parts:
        return "NoWait=true is not supported with PrivateInterface/StaticRoutes/SIMRoutes/DNS/SIMs/TrafficConfig"
    return None


def _server(v):
    nic = {"Upstream": v.get("NetworkInterface.Upstream")} if _struct_set(v, "NetworkInterface") else None
    if any(n.get("Upstream") == "shared" for n in _listed(v, "NetworkInterfaces", nic, "NetworkInterfaceData")[1:]):
        return "upstream=shared is not supported for additional NICs"
    if v.get("NoWait") is not True:
        return None
    disk = {"NoWait": v.get("Disk.NoWait") is True} if _struct_set(v, "Disk") else None
    if any(d.get("NoWait") is not True for d in _listed(v, "Disks", disk, "DisksData")):
        return "NoWait=true is not supported if the disks contain NoWait=false"
    if v.get("BootAfterCreate") is True:
        return "NoWait=true is not supported with BootAfterCreate=true"
    return None


def _vpc_router(v, standard):
    if v.get("NoWait") is True and (standard or _struct_set(v, "PublicNetworkInterface")):
        return "NoWait=true is not supported with AdditionalNICSettings and RouterSetting"
    return None


REFUSALS = {
    ("archive", "create"): _archive,
    ("database", "create"): _database,
    ("internet", "create"): _internet,
    ("mobile-gateway", "create"): _mobile_gateway,
    ("server", "create"): _server,
    ("vpc-router", "create"): lambda v: _vpc_router(v, False),
    ("vpc-router", "create-standard"): lambda v: _vpc_router(v, True),
}


def refusal(resource, subcommand, values):
    """The error usacloud's service prints for this command, or None."""
    check = REFUSALS.get((resource, subcommand))
    return None if check is None else check(values)
