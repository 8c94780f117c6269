"""A small loopback stand-in of Sakura Cloud's IaaS API, for the real usacloud (the real-usacloud tier).

usacloud reaches it through ``SAKURACLOUD_API_ROOT_URL=http://127.0.0.1:PORT/cloud/zone``: it forms
every URL as ``{root}/{zone}/api/cloud/1.1/{resource}[/{id}]`` (iaas-api-go's ``buildURL``), where
the zone is the command's for zoned resources and the API's default zone (``is1a`` unless
``SAKURACLOUD_DEFAULT_ZONE``) for global ones and auth-status. A Find sends its conditions as raw
JSON in the query string; they are ignored here (usacloud filters names and tags itself).

What it serves, as the real API answers (iaas-api-go's envelopes):

* ``GET auth-status``: the account, flat (not wrapped);
* ``GET zone``: the zones; ``GET region``: nothing;
* switch, server, disk, note, ...: Find (``GET resource`` -> ``{"Total", "From", "Count", "<Plural>"}``),
  Read (``GET resource/ID`` -> ``{"<Name>": ..., "is_ok": true}``), Create (``POST resource`` with
  ``{"<Name>": ...}``, 201), Update (``PUT``), Delete (``DELETE``); each zone its own, in memory;
* every request needs ``Authorization: Basic base64(token:secret)`` of the configured key, else
  ``401`` with the API's JSON error body; a missing resource is ``404`` (``not_found``);
* **seed** (``{"switch": [{"Name": "theirs"}], ...}``): resources in tk1v before the first request;
* **rules** force an answer: ``{"method": "GET", "path": "/switch", "status": 503, "code": "busy",
  "message": "...", "times": N, "raw": "<html>..."}`` (first match wins; ``path`` is a substring of
  the path after ``/api/cloud/1.1``; ``times`` limits how often; ``raw`` sends a non-JSON body).

Every request is logged as one JSON line (method, zone, path, whether it was authorised, status).
Run alone, ``python3 sakura_api.py CONFIG.json`` prints the port and serves until killed.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

API_PREFIX = "/api/cloud/1.1/"
STATUS_TEXT = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    409: "409 Conflict",
    423: "423 Locked",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
ZONES = [
    {"ID": "21001", "Name": "tk1a", "Description": "東京第1ゾーン", "DisplayOrder": 1},
    {"ID": "21002", "Name": "tk1b", "Description": "東京第2ゾーン", "DisplayOrder": 2},
    {"ID": "31001", "Name": "is1a", "Description": "石狩第1ゾーン", "DisplayOrder": 3},
    {"ID": "31002", "Name": "is1b", "Description": "石狩第2ゾーン", "DisplayOrder": 4},
    {"ID": "29001", "Name": "tk1v", "Description": "Sandbox", "DisplayOrder": 5, "IsDummy": True},
]
#: resource path -> (envelope name, plural of a Find)
RESOURCES = {
    "switch": ("Switch", "Switches"),
    "server": ("Server", "Servers"),
    "disk": ("Disk", "Disks"),
    "archive": ("Archive", "Archives"),
    "cdrom": ("CDROM", "CDROMs"),
    "note": ("Note", "Notes"),
    "icon": ("Icon", "Icons"),
    "sshkey": ("SSHKey", "SSHKeys"),
    "packetfilter": ("PacketFilter", "PacketFilters"),
    "internet": ("Internet", "Internet"),
    "bridge": ("Bridge", "Bridges"),
    "ipaddress": ("IPAddress", "IPAddress"),
    "product/server": ("ServerPlan", "ServerPlans"),
    "product/disk": ("DiskPlan", "DiskPlans"),
    "product/internet": ("InternetPlan", "InternetPlans"),
    "region": ("Region", "Regions"),
}
ACCOUNT = {
    "Account": {"ID": "123456789012", "Name": "loopback", "Code": "loopback", "Class": "member"},
    "Member": {"Code": "loopback-member", "Class": "member"},
    "AuthClass": "account",
    "AuthMethod": "apikey",
    "ExternalPermission": "bill+eventlog+cdn",
    "IsAPIKey": True,
    "OperationPenalty": "none",
    "Permission": "create",
}


class Api:
    """The API's state and its answers (thread-safe: the server handles requests in threads)."""

    def __init__(
        self,
        token: str,
        secret: str,
        rules: list[dict] | None = None,
        log: str | None = None,
        seed: dict[str, list[dict]] | None = None,
    ) -> None:
        self.expected = "Basic " + base64.b64encode(f"{token}:{secret}".encode()).decode()
        self.rules = [dict(rule) for rule in rules or ()]
        self.log_path = log
        self.store: dict[tuple[str, str], dict[str, dict]] = {}  # (zone, resource) -> id -> record
        self.next_id = 113000000001
        self.lock = threading.Lock()
        for resource, records in (seed or {}).items():  # resources that were there before the run, in tk1v
            for given in records:
                self._crud("POST", "tk1v", resource, "", json.dumps({RESOURCES[resource][0]: given}).encode())

    def answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, bytes, str]:
        zone, resource, rest = _split(path)
        authorised = headers.get("Authorization") == self.expected
        with self.lock:
            status, payload, kind = self._answer(method, zone, resource, rest, authorised, body)
            self._log(
                {
                    "method": method,
                    "zone": zone,
                    "path": f"/{resource}/{rest}".rstrip("/"),
                    "auth": authorised,
                    "status": status,
                }
            )
        return status, payload, kind

    def _answer(self, method, zone, resource, rest, authorised, body) -> tuple[int, bytes, str]:
        where = f"/{resource}/{rest}".rstrip("/")
        rule = self._rule(method, where)
        if rule is not None:
            if "raw" in rule:
                return int(rule.get("status", 502)), str(rule["raw"]).encode(), "text/html"
            return _error(int(rule.get("status", 500)), rule.get("code", "error"), rule.get("message", "forced"))
        if zone is None:
            return _error(404, "not_found", "unknown path")
        if not authorised:
            return _error(401, "unauthorized", "authentication failed (loopback)")
        if resource == "auth-status":
            return _json(200, ACCOUNT)
        if resource == "zone":
            return _json(200, {"Total": len(ZONES), "From": 0, "Count": len(ZONES), "Zones": ZONES})
        if resource not in RESOURCES:
            return _error(404, "not_found", f"no such API: {resource}")
        return self._crud(method, zone, resource, rest, body)

    def _crud(self, method, zone, resource, rest, body) -> tuple[int, bytes, str]:
        name, plural = RESOURCES[resource]
        table = self.store.setdefault((zone, resource), {})
        if not rest and method == "GET":
            found = list(table.values())
            return _json(200, {"Total": len(found), "From": 0, "Count": len(found), plural: found})
        if not rest and method == "POST":
            given = _payload(body).get(name) or {}
            record = {
                **given,
                "ID": str(self.next_id),
                "Zone": next((z for z in ZONES if z["Name"] == zone), {"Name": zone}),
                "CreatedAt": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
                "Tags": given.get("Tags") or [],
                "Availability": "available",  # usacloud waits for it after creating a disk or an archive
            }
            if resource == "switch":
                record.update({"Scope": "user", "ServerCount": 0, "Subnets": []})
            self.next_id += 1
            table[record["ID"]] = record
            return _json(201, {name: record, "is_ok": True, "Success": True})
        record = table.get(rest.split("/")[0])
        if record is None:
            return _error(404, "not_found", f"{resource} {rest} does not exist")
        if method == "GET":
            return _json(200, {name: record, "is_ok": True})
        if method == "PUT":
            record.update(_payload(body).get(name) or {})
            return _json(200, {name: record, "is_ok": True, "Success": True})
        if method == "DELETE":
            del table[record["ID"]]
            return _json(200, {name: record, "is_ok": True, "Success": True})
        return _error(405, "method_not_allowed", method)

    def _rule(self, method: str, where: str) -> dict | None:
        for rule in self.rules:
            if rule.get("method", method) != method or rule.get("path", "") not in where:
                continue
            if rule.get("times") is not None:
                if rule["times"] <= 0:
                    continue
                rule["times"] -= 1
            return rule
        return None

    def _log(self, entry: dict) -> None:
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")


def _split(path: str) -> tuple[str | None, str, str]:
    """``/cloud/zone/tk1v/api/cloud/1.1/switch/123?{...}`` -> ("tk1v", "switch", "123")."""
    path = path.split("?", 1)[0]
    head, sep, tail = path.partition(API_PREFIX)
    if not sep:
        return None, "", ""
    zone = head.rstrip("/").rsplit("/", 1)[-1]
    parts = tail.strip("/").split("/")
    if parts[0] == "product" and len(parts) > 1:  # the plans live under product/
        parts = ["/".join(parts[:2]), *parts[2:]]
    return zone, parts[0], "/".join(parts[1:])


def _payload(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _json(status: int, data: dict) -> tuple[int, bytes, str]:
    return status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=UTF-8"


def _error(status: int, code: str, message: str) -> tuple[int, bytes, str]:
    return _json(
        status,
        {
            "is_fatal": True,
            "serial": "loopback0000",
            "status": STATUS_TEXT.get(status, str(status)),
            "error_code": code,
            "error_msg": message,
        },
    )


def serve(api: Api) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``api`` on a free loopback port in a daemon thread; returns the server and usacloud's root URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload, kind = api.answer(self.command, self.path, self.headers, body)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, format, *args) -> None:  # quiet: the API's own log is the JSON lines
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/cloud/zone"


def main(argv: list[str]) -> None:
    config = json.loads(Path(argv[1]).read_text())
    api = Api(config["token"], config["secret"], config.get("rules"), config.get("log"), config.get("seed"))
    _server, root = serve(api)
    print(root, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv)
