"""usacloud's Customize step (after validation, before any API call): the JSON list flags.

A flag such as ``dns create --records`` or ``server create --disks`` names a file (read where
usacloud runs) or holds the JSON itself; usacloud decodes it into a Go list and stops, printing Go's
error, when it cannot (``invalid character 'x' looking for beginning of value``,
``json: cannot unmarshal object into Go value of type iaas.DNSRecords``). The settings inside each
element are not looked at here.
"""

from __future__ import annotations

from pathlib import Path

from .customvalidate import Command, CustomError
from .params import JSONObject, decode_json, expand_home

#: Flags whose value (a file where one exists, else the text) usacloud decodes as a JSON list in its
#: Customize step, with the Go type it decodes into (pkg/commands/iaas/*/*.go): (resource, field) -> type.
JSON_LISTS = {
    ("auto-scale", "ScheduleScalingData"): "[]*iaas.AutoScaleScheduleScaling",
    ("certificate-authority", "ClientsData"): "[]*builder.ClientCert",
    ("certificate-authority", "ServersData"): "[]*builder.ServerCert",
    ("disk", "NotesData"): "[]*iaas.DiskEditNote",
    ("server", "NotesData"): "[]*iaas.DiskEditNote",
    ("container-registry", "UsersData"): "[]*builder.User",
    ("dns", "RecordsData"): "iaas.DNSRecords/iaas.DNSRecord",
    ("gslb", "ServersData"): "iaas.GSLBServers/iaas.GSLBServer",
    (
        "load-balancer",
        "VirtualIPAddressesData",
    ): "iaas.LoadBalancerVirtualIPAddresses/iaas.LoadBalancerVirtualIPAddress",
    ("local-router", "PeersData"): "[]*iaas.LocalRouterPeer",
    ("local-router", "StaticRoutesData"): "[]*iaas.LocalRouterStaticRoute",
    ("mobile-gateway", "SIMsData"): "[]*mobilegateway.SIMSetting",
    ("mobile-gateway", "SIMRoutesData"): "[]*mobilegateway.SIMRouteSetting",
    ("mobile-gateway", "StaticRoutesData"): "[]*iaas.MobileGatewayStaticRoute",
    ("packet-filter", "ExpressionsData"): "[]*iaas.PacketFilterExpression",
    ("proxy-lb", "BindPortsData"): "[]*iaas.ProxyLBBindPort",
    ("proxy-lb", "ServersData"): "[]*iaas.ProxyLBServer",
    ("proxy-lb", "RulesData"): "[]*iaas.ProxyLBRule",
    ("server", "NetworkInterfaceData"): "[]*server.NetworkInterface",
    ("server", "DisksData"): "[]*server.diskApplyParameter",
    ("vpc-router create", "PrivateNetworkInterfacesData"): "[]*builder.AdditionalPremiumNICSetting",
    ("vpc-router create-standard", "PrivateNetworkInterfacesData"): "[]*builder.AdditionalStandardNICSetting",
    ("vpc-router update", "PrivateNetworkInterfacesData"): "[]*vpcrouter.AdditionalPremiumNICSettingUpdate",
    ("vpc-router update-standard", "PrivateNetworkInterfacesData"): "[]*vpcrouter.AdditionalStandardNICSettingUpdate",
}


def json_list_errors(cmd: Command) -> list[CustomError]:
    """The first JSON list flag usacloud cannot decode (it stops there), as an error."""
    inv = cmd.inv
    resource = inv.resource.name if inv.resource is not None else ""
    command = f"{resource} {inv.subcommand.name}" if inv.subcommand is not None else resource
    for found in cmd.fields.flagged():
        leaf = found.flag.field.rpartition(".")[2]
        go_type = JSON_LISTS.get((command, leaf)) or JSON_LISTS.get((resource, leaf))
        value = found.value.value
        if go_type is None or not isinstance(value, str) or not value or found.source != "flag":
            continue
        problem = _json_list_problem(cmd, value, go_type)
        if problem is not None:
            flag = found.flag.name
            message = f"`{flag}` takes a JSON list (or a file holding one) and usacloud cannot decode it"
            return [CustomError(problem, message, framed=False)]
    return []


def path_or_content(cmd: Command, value: str) -> str | None:
    """The text util.MarshalJSONFromPathOrContent reads for ``value``: a file's content where one
    exists, else the value itself; None when it names a file that cannot be looked at here."""
    expanded = expand_home(value, cmd.home)
    if expanded is None:
        return None
    if cmd.base_dir is not None:
        try:
            return Path(cmd.base_dir, expanded).read_text("utf-8", errors="replace")
        except (OSError, ValueError):
            return expanded
    return expanded if expanded.lstrip().startswith(("[", "{")) else None


def json_list(cmd: Command, value: str) -> list:
    """The JSON list ``value`` (a file or the text) holds; empty when it cannot be read or decoded."""
    text = path_or_content(cmd, value)
    try:
        data = decode_json(text) if text is not None else None
    except (ValueError, RecursionError):
        return []
    return data if isinstance(data, list) and not isinstance(data, JSONObject) else []


def _json_list_problem(cmd: Command, value: str, go_type: str) -> str | None:
    """Go's complaint decoding ``value`` (util.MarshalJSONFromPathOrContent) into a list, or None."""
    if expand_home(value, cmd.home) is None:
        return "got invalid pathOrContent"
    text = path_or_content(cmd, value)
    if text is None:
        return None  # perhaps a file: it cannot be looked at here
    try:
        data = decode_json(text)
    except (ValueError, RecursionError):
        stripped = text.lstrip(" \t\r\n")
        if not stripped:
            return "unexpected end of JSON input"
        return (
            f"invalid character '{stripped[0]}' looking for beginning of value"
            if stripped[0] not in '[{"-0123456789tfn'
            else "invalid JSON"
        )
    if data is None or (isinstance(data, list) and not isinstance(data, JSONObject)):
        items = data or []
        bad = next((i for i in items if i is not None and not isinstance(i, JSONObject)), None)
        if bad is None:
            return None
        element = go_type.partition("/")[2] or go_type.removeprefix("[]*")
        return (
            f"json: cannot unmarshal {_json_kind(bad)} into Go value of type {element}" if element else "json: bad list"
        )
    return (
        f"json: cannot unmarshal {_json_kind(data)} into Go value of type {go_type.partition('/')[0]}"
        if go_type
        else "json: not a list"
    )


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, JSONObject):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if type(value) is str else "number"
