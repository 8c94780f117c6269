"""The loopback stand-in of Sakura's API (sakura_api.py) and the network namespace helper (netns.py)
that the real-usacloud tier runs in: they answer as the tier relies on, without the real binary."""

import base64
import json
import sys
import urllib.error
import urllib.request

import netns
import pytest
from sakura_api import Api, serve

KEY = ("tok", "sec")
AUTH = {"Authorization": "Basic " + base64.b64encode(b"tok:sec").decode()}


@pytest.fixture
def api(tmp_path):
    """(root URL, call(method, path, body=None, headers=AUTH) -> (status, json), log path, rules list)."""
    log = tmp_path / "api.jsonl"
    rules: list[dict] = []
    state = Api(*KEY, rules, str(log))
    server, root = serve(state)

    def call(method, path, body=None, headers=AUTH):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(root + path, data=data, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode()

    yield root, call, log, state
    server.shutdown()


def test_the_api_answers_in_its_envelopes_and_keeps_zones_apart(api):
    root, call, log, _ = api
    assert root.startswith("http://127.0.0.1:") and root.endswith("/cloud/zone")
    status, account = call("GET", "/is1a/api/cloud/1.1/auth-status")
    assert status == 200 and account["Permission"] == "create" and "AuthStatus" not in account  # flat
    status, zones = call("GET", '/is1a/api/cloud/1.1/zone?{"Count":0,"From":0}')
    assert status == 200 and "tk1v" in [z["Name"] for z in zones["Zones"]] and zones["Total"] == len(zones["Zones"])
    status, made = call("POST", "/tk1v/api/cloud/1.1/switch", {"Switch": {"Name": "sw1", "Tags": ["a"]}})
    assert (
        status == 201 and made["is_ok"] and made["Switch"]["Name"] == "sw1" and made["Switch"]["Zone"]["Name"] == "tk1v"
    )
    new_id = made["Switch"]["ID"]
    assert call("GET", f"/tk1v/api/cloud/1.1/switch/{new_id}")[1]["Switch"]["Tags"] == ["a"]
    assert call("GET", "/tk1v/api/cloud/1.1/switch")[1]["Switches"][0]["ID"] == new_id
    assert call("GET", "/is1a/api/cloud/1.1/switch")[1]["Switches"] == []  # another zone
    assert call("DELETE", f"/tk1v/api/cloud/1.1/switch/{new_id}")[0] == 200
    status, error = call("GET", f"/tk1v/api/cloud/1.1/switch/{new_id}")
    assert status == 404 and error["error_code"] == "not_found" and error["status"] == "404 Not Found"
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged[0] == {"method": "GET", "zone": "is1a", "path": "/auth-status", "auth": True, "status": 200}
    assert [e["zone"] for e in logged if e["path"].startswith("/switch")] == [
        "tk1v",
        "tk1v",
        "tk1v",
        "is1a",
        "tk1v",
        "tk1v",
    ]


def test_every_request_needs_the_key(api):
    _, call, _, _ = api
    for headers in ({}, {"Authorization": "Basic " + base64.b64encode(b"tok:wrong").decode()}):
        status, error = call("GET", "/tk1v/api/cloud/1.1/server", headers=headers)
        assert status == 401 and error["status"] == "401 Unauthorized" and error["is_fatal"] is True


def test_rules_force_answers_a_number_of_times(api):
    _, call, _, state = api
    state.rules += [
        {"path": "/switch", "status": 503, "code": "busy", "message": "busy", "times": 2},
        {"method": "POST", "path": "/server", "status": 502, "raw": "<html>bad gateway</html>"},
    ]
    assert [call("GET", "/tk1v/api/cloud/1.1/switch")[0] for _ in range(3)] == [503, 503, 200]
    assert call("POST", "/tk1v/api/cloud/1.1/server", {"Server": {}}) == (502, "<html>bad gateway</html>")
    assert call("GET", "/tk1v/api/cloud/1.1/server")[0] == 200  # only POST


@pytest.mark.netns
def test_the_namespace_has_only_a_loopback_and_the_api_serves_there(tmp_path):
    reason = netns.unavailable()
    if reason:
        pytest.skip(reason)
    probe = (
        "import os, socket, urllib.request\n"
        "s = socket.socket(); print(s.connect_ex(('192.0.2.1', 443)))\n"
        "url = os.environ['SAKURACLOUD_API_ROOT_URL'] + '/is1a/api/cloud/1.1/zone'\n"
        "try:\n    urllib.request.urlopen(url, timeout=10)\nexcept Exception as exc:\n    print(exc.code)\n"
    )
    api = {"token": "tok", "secret": "sec", "rules": [], "log": str(tmp_path / "api.jsonl")}
    done = netns.run([sys.executable, "-c", probe], {"PATH": "/usr/bin:/bin"}, api=api, timeout=60)
    unreachable, status = done.stdout.split()
    assert unreachable != "0" and status == "401", done  # no route out; the API answers (no key given)
    assert json.loads((tmp_path / "api.jsonl").read_text())["status"] == 401
