"""Fake mode's rules: dummy credentials, the verdict on a timed-out command, the store seeded once."""

import json
import threading

import pytest
from standin_tools import FAKE_PEM

from pytest_usacloud_sandbox.fakemode import credentials, evidence
from pytest_usacloud_sandbox.fakemode import stores as fakestore
from pytest_usacloud_sandbox.fakemode.stores import FakeStores
from pytest_usacloud_sandbox.record.vocabulary import ResultClass
from pytest_usacloud_sandbox.usacloud import mask, profiles
from pytest_usacloud_sandbox.usacloud.classify import (
    FAKE_CHANGE_TIMEOUT_HINT,
    FAKE_TIMEOUT_HINT,
    classify,
    classify_fake,
)
from pytest_usacloud_sandbox.usacloud.result import RunResult

D_TOKEN, D_SECRET = credentials.DUMMY_TOKEN, credentials.DUMMY_SECRET


def words(text):
    return ["usacloud", *text.split()]


# -- dummy credentials --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("server list --token REAL --secret SEC", f"server list --token {D_TOKEN} --secret {D_SECRET}"),
        ("--token=REAL server list --secret=SEC", f"--token={D_TOKEN} server list --secret={D_SECRET}"),
        ("server list --profile prod -q", "server list -q"),  # a profile it could not open: a no-op
        ("--profile=prod server list", "server list"),
        ("--profile default --token=REAL zone list", f"--token={D_TOKEN} zone list"),
        (
            "config create --token REAL --access-token-secret SEC x",
            f"config create --token {D_TOKEN} --access-token-secret {D_SECRET} x",
        ),
        ("server list --private-key-path /k.pem --service-principal-id 12 -q", "server list -q"),
        ("server list --service-principal-key-id=kid", "server list"),
        ("note create -y --name n --content x -- --token REAL", "note create -y --name n --content x -- --token REAL"),
        ("server list", "server list"),
    ],
)
def test_credential_words_get_dummies(given, expected):
    assert credentials.dummy_words(words(given)) == tuple(words(expected))


def test_environment_gets_dummies_and_an_empty_profile_place(tmp_path):
    env = {
        "SAKURACLOUD_ACCESS_TOKEN": "real-token",
        "SAKURACLOUD_ACCESS_TOKEN_SECRET": "real-secret",
        "SAKURA_ACCESS_TOKEN": "real-token-2",
        "SAKURA_ACCESS_TOKEN_SECRET": "real-secret-2",
        "SAKURACLOUD_SERVICE_PRINCIPAL_ID": "sp",
        "SAKURA_SERVICE_PRINCIPAL_KEY_ID": "kid",
        "SAKURACLOUD_PRIVATE_KEY_PATH": "/home/me/key.pem",
        "SAKURACLOUD_PROFILE": "prod",
        "USACLOUD_PROFILE_DIR": "/home/me",
        "PATH": "/bin",
    }
    out = credentials.apply_env(env, tmp_path)
    assert not {v for v in out.values()} & {"real-token", "real-secret", "real-token-2", "real-secret-2", "sp", "kid"}
    assert out["SAKURACLOUD_ACCESS_TOKEN"] == out["SAKURA_ACCESS_TOKEN"] == D_TOKEN
    assert out["SAKURACLOUD_ACCESS_TOKEN_SECRET"] == out["SAKURA_ACCESS_TOKEN_SECRET"] == D_SECRET
    assert not any("PRIVATE_KEY" in k or "SERVICE_PRINCIPAL" in k for k in out)
    for name in profiles.PROFILE_ENV:  # no profile named: usacloud 1.22.8 cannot open one there (exit 0, no-op)
        assert name not in out
    for name in profiles.PROFILE_DIR_ENV:
        assert out[name] == str(tmp_path)
    assert out["PATH"] == "/bin"


def test_every_other_credential_variable_is_removed(tmp_path):
    env = {name: f"real-{name.lower()}" for name in mask.SECRET_ENV}
    env["SAKURA_PRIVATE_KEY"] = FAKE_PEM
    out = credentials.apply_env(env, tmp_path)
    assert not set(out.values()) & set(env.values())
    assert set(out) & set(mask.SECRET_ENV) == {*credentials.TOKEN_ENV, *credentials.SECRET_ENV}
    assert {"SAKURA_PRIVATE_KEY", "SAKURACLOUD_PRIVATE_KEY", "SAKURA_SERVICE_PRINCIPAL_KEY_KID"} <= set(
        credentials.REMOVED_ENV
    )


@pytest.mark.parametrize(
    ("text", "effect"),
    [
        ("switch create -y --name a", "output"),
        ("iaas switch update -y a --name b", "output"),
        ("server rm -y a", "store"),
        ("server boot -y a", "store"),
        ("disk connect-to-server -y d --server-id 1", "store"),
        ("server list", None),
        ("server read a", None),
        ("server wait-until-ready a", None),
        ("config create x", None),
        ("servr list", None),
    ],
)
def test_what_shows_that_a_command_did_its_work(text, effect):
    assert evidence.effect(words(text)) == effect


def test_the_store_a_command_uses(tmp_path):
    env = {"SAKURACLOUD_FAKE_STORE_PATH": str(tmp_path / "env.json")}
    assert evidence.store_path(words("switch list"), env) == tmp_path / "env.json"
    assert evidence.store_path(words(f"--fake-store {tmp_path}/w.json switch list"), env) == tmp_path / "w.json"
    assert evidence.store_path(words("switch list"), {}) is None
    store = tmp_path / "s.json"
    assert evidence.fingerprint(store) is None
    store.write_text("{}")
    first = evidence.fingerprint(store)
    store.write_text('{"a": 1}')
    assert evidence.fingerprint(store) not in (None, first)


# -- a timeout in fake mode ---------------------------------------------------------------------


def result(stdout="", stderr="", timed_out=True, code=-15):
    return RunResult(
        argv=("usacloud",),
        exit_code=code,
        signal=-code if code and code < 0 else None,
        stdout=stdout,
        stderr=stderr,
        truncated=False,
        started=0.0,
        ended=30.0,
        duration=30.0,
        timed_out=timed_out,
    )


@pytest.mark.parametrize("effect", ["output", "store"])
def test_a_change_that_printed_its_output_counts_as_done(effect):
    out = classify_fake(result(stdout="100000000010\n"), effect, store_changed=False)
    assert out.cls == ResultClass.FAKE_HANG and out.ok and not out.critical
    assert "printed its output" in out.message and "not retried" in out.message


def test_a_silent_change_seen_in_the_store_counts_as_done():
    out = classify_fake(result(), "store", store_changed=True)
    assert out.cls == ResultClass.FAKE_HANG and "fake store had changed" in out.message


def test_a_create_that_printed_nothing_fails_even_if_the_store_changed():
    out = classify_fake(result(), "output", store_changed=True)
    assert out.cls == ResultClass.TIMEOUT and "printed nothing, and a script may need its output" in out.message


@pytest.mark.parametrize(
    ("res", "effect", "changed", "hint"),
    [
        (result(), "store", False, FAKE_CHANGE_TIMEOUT_HINT),  # nothing visible
        (result(), "output", False, FAKE_CHANGE_TIMEOUT_HINT),
        (result(stdout="x\n", stderr="\nError: something\n"), "output", True, FAKE_CHANGE_TIMEOUT_HINT),
        (result(stdout="[]\n"), None, False, FAKE_TIMEOUT_HINT),  # a list or a wait: never done by a timeout
        (result(), None, True, FAKE_TIMEOUT_HINT),
    ],
)
def test_a_timeout_without_a_visible_effect_fails(res, effect, changed, hint):
    out = classify_fake(res, effect, store_changed=changed)
    assert out.cls == ResultClass.TIMEOUT and not out.ok
    assert out.hint == hint and "--usacloud-fake-timeout" in out.hint


def test_without_a_timeout_fake_mode_classifies_as_usual():
    done = result(stdout="1\n", timed_out=False, code=0)
    assert classify_fake(done, "output", True) == classify(done)
    failed = result(stderr='\ntarget resource not found: query=["x"]\n', timed_out=False, code=1)
    assert classify_fake(failed, "store", True).cls == ResultClass.NOT_FOUND


# -- the store seeded once per run ---------------------------------------------------------------


class Seeder:
    """A seeding command: writes a store (or fails) and counts its runs."""

    def __init__(self, code=0, writes=True, delay=0.0):
        self.runs = 0
        self.code, self.writes, self.delay = code, writes, delay

    def __call__(self, path):
        import time

        self.runs += 1
        time.sleep(self.delay)
        if self.writes:
            path.write_text(json.dumps({"catalogue": "x" * 1000}))
        return RunResult(
            argv=("usacloud", "zone", "list", "-q"),
            exit_code=self.code,
            signal=None,
            stdout="21001\n",
            stderr="" if self.code == 0 else "\nError: boom\n",
            truncated=False,
            started=0.0,
            ended=0.0,
            duration=0.0,
        )


def test_seeded_once_per_run_and_copied_per_script(tmp_path):
    seeder = Seeder(delay=0.3)
    workers = [FakeStores(tmp_path, seeder, worker=f"gw{i}") for i in range(3)]
    stores = {}

    def work(i, stores_):
        stores[i] = stores_.store_for(f"scripts/s{i}.usacloud::s{i}")
        assert not stores[i].exists()  # made by the script's first command
        stores_.prepare(stores[i], lambda: False)

    threads = [threading.Thread(target=work, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seeder.runs == 1  # one seeding for the run, the others waited for it
    assert len(set(stores.values())) == 3  # still one store per script
    seed = (tmp_path / fakestore.SEED_FILE).read_bytes()
    assert all(path.read_bytes() == seed for path in stores.values())
    stores[0].write_text("{}")  # a script's changes stay in its own copy
    assert stores[1].read_bytes() == seed
    info = fakestore.read_info(tmp_path)
    assert info.ok and "seeded once for the run" in info.describe()
    # a script that runs again starts from a fresh copy
    again = workers[0].store_for("scripts/s0.usacloud::s0")
    workers[0].prepare(again, lambda: False)
    assert again.read_bytes() == seed
    workers[0].prepare(again, lambda: False)  # later commands leave the script's store as it is
    again.write_text("{}")
    workers[0].prepare(again, lambda: False)
    assert again.read_text() == "{}"
    assert seeder.runs == 1


def test_a_first_command_on_the_shared_segment_gets_a_new_store(tmp_path):
    """usacloud's fake driver connects to the shared segment only in the process that created the
    store: a script whose first command does so starts on a store that usacloud creates itself."""
    seeder = Seeder()
    stores = FakeStores(tmp_path, seeder)
    shared = stores.store_for("a.usacloud::a")
    asked = []
    stores.prepare(shared, lambda: asked.append(1) or True)
    assert asked == [1] and not shared.exists() and seeder.runs == 0  # nothing seeded for it
    plain = stores.store_for("b.usacloud::b")
    stores.prepare(plain, lambda: False)
    assert plain.read_bytes() == (tmp_path / fakestore.SEED_FILE).read_bytes() and seeder.runs == 1
    stores.prepare(shared, lambda: asked.append(2) or False)  # asked only for the first command
    assert asked == [1] and not shared.exists()
    other = tmp_path / "elsewhere.json"  # not a script's store (a --fake-store of its own): left alone
    stores.prepare(other, lambda: False)
    assert not other.exists()


def test_a_store_made_meanwhile_is_not_overwritten(tmp_path):
    stores = FakeStores(tmp_path, Seeder())
    path = stores.store_for("a.usacloud::a")
    path.write_text('{"made": "by a direct call"}')  # shell mode: bash ran usacloud itself first
    stores.prepare(path, lambda: False)
    assert path.read_text() == '{"made": "by a direct call"}'


@pytest.mark.parametrize(
    ("seeder", "reason"),
    [(Seeder(code=1), "exit code 1: Error: boom"), (Seeder(writes=False), "wrote no store file")],
)
def test_failed_seeding_falls_back_to_a_fresh_store_per_script(tmp_path, seeder, reason):
    first = FakeStores(tmp_path, seeder)
    path = first.store_for("a.usacloud::a")
    first.prepare(path, lambda: False)
    assert not path.exists()  # usacloud seeds it on the script's first command, as without seeding
    second = FakeStores(tmp_path, seeder)
    other = second.store_for("b.usacloud::b")
    second.prepare(other, lambda: False)
    assert other != path and not other.exists()
    assert seeder.runs == 1  # tried once per run, not by every worker
    info = fakestore.read_info(tmp_path)
    assert not info.ok and reason in info.message and "every script seeds its own store" in info.describe()


def test_no_seeding_without_a_seed_command(tmp_path):
    stores = FakeStores(tmp_path, None)  # dry-run
    assert not stores.store_for("a.usacloud::a").exists()
    assert fakestore.read_info(tmp_path) is None


def test_a_stop_ends_the_wait_for_another_seeder(tmp_path):
    import filelock

    lock = filelock.FileLock(str(tmp_path / fakestore.SEED_LOCK))
    lock.acquire()
    try:
        seeder = Seeder()
        assert FakeStores(tmp_path, seeder, stop=lambda: True).seed() is None
        assert seeder.runs == 0
    finally:
        lock.release()


@pytest.mark.parametrize(
    ("line", "shared"),
    [
        ("usacloud server create -y --name a --network-interface-upstream shared -q", True),
        ("usacloud iaas server create -y --name a --network-interface-upstream=shared", True),
        ("usacloud server create -y --name a --network-interface-upstream disconnected", False),
        ("usacloud server create -y --name a", False),
        ("usacloud mobile-gateway create -y --name m", True),
        ("usacloud vpc-router create-standard -y --name v", True),
        ("usacloud vpc-router create -y --name v --plan premium", False),
        ("usacloud server list --network-interface-upstream shared", False),
        ("usacloud switch create -y --name shared", False),
        ("""usacloud server create -y --parameters {"networkinterface":{"upstream":"shared"}}""", True),
        ("usacloud server create -y --network-interface-upstream shared --parameters {}", False),
    ],
)
def test_which_commands_connect_to_the_shared_segment(line, shared):
    assert fakestore.connects_shared_segment(line.split()) is shared


def test_shared_segment_parameters_from_a_file(tmp_path):
    (tmp_path / "p.json").write_text('{"NetworkInterface": {"Upstream": "shared"}}')
    words = ["usacloud", "server", "create", "-y", "--parameters", "p.json"]
    assert fakestore.connects_shared_segment(words, tmp_path)
    assert not fakestore.connects_shared_segment(words, tmp_path / "elsewhere")
