"""state/shared.py: one owner for what crosses processes (stop, counters, failures, children), per transport.

The execnet channels are replaced by in-process pairs with the same small surface (setcallback with
an endmarker, send, isclosed, close); tests/test_e2e_hosts.py runs the real thing across hosts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from redis_tools import private_redis
from standin_tools import wait_until

from pytest_usacloud_sandbox.errorpolicy import ErrorPolicy
from pytest_usacloud_sandbox.state import links, shared
from pytest_usacloud_sandbox.state.shared import LOST_CONTROLLER, RUN_INPUT, SharedState
from pytest_usacloud_sandbox.state.stop import StopReason

REASON = StopReason("scripts/a.usacloud::a", "auth", "invalid access token")


class End:
    """One end of an in-process channel pair."""

    def __init__(self) -> None:
        self.peer: End | None = None
        self.callback = None
        self.endmarker = None
        self.closed = False
        self.queue: list = []

    def setcallback(self, callback, endmarker=None) -> None:
        self.callback, self.endmarker = callback, endmarker
        for item in self.queue:
            callback(item)

    def send(self, item) -> None:
        assert not self.closed
        peer = self.peer
        if peer.callback is None:
            peer.queue.append(item)
        else:
            peer.callback(item)

    def isclosed(self) -> bool:
        return self.closed

    def close(self) -> None:
        for end in (self, self.peer):
            if not end.closed:
                end.closed = True
                if end.callback is not None:
                    end.callback(end.endmarker)


class Gateway:
    def __init__(self) -> None:
        self.local: End | None = None  # the controller's end
        self.remote: End | None = None  # the worker's

    def newchannel(self) -> End:
        here, there = End(), End()
        here.peer, there.peer = there, here
        self.local, self.remote = here, there
        return here

    def controller_gone(self) -> None:
        """The channel ends, as when the controller's process dies."""
        self.local.close()


def start_worker(
    controller: SharedState, worker: str, private: bool = False, gateway: Gateway | None = None
) -> SharedState:
    """What xdist does: configure_node on the controller, workerinput to the worker (its end of the channel)."""
    gateway, workerinput = gateway or Gateway(), {"workerid": worker}
    controller.configure_node(worker, gateway, workerinput)
    run = dict(workerinput[RUN_INPUT], channel=gateway.remote)
    if private:
        run["token"] = "another host"  # the token in the run directory is not the one it was given
    return SharedState.open_worker({"workerid": worker, RUN_INPUT: run})


@pytest.fixture
def run():
    states: list[SharedState] = []
    controller = SharedState.open_run()
    states.append(controller)
    yield controller, states
    for state in reversed(states):
        state.close()


@pytest.fixture
def hosts(run):
    """The run's controller, a worker on its host and one on another (a private run directory)."""
    controller, states = run
    local = start_worker(controller, "gw0")
    remote = start_worker(controller, "gw1", private=True)
    states += [local, remote]
    return controller, local, remote


def test_execnet_and_the_stand_ins_offer_what_the_links_use():
    execnet = pytest.importorskip("execnet")
    assert issubclass(execnet.Channel, links.Channel) and issubclass(execnet.Gateway, links.Gateway)
    assert isinstance(End(), links.Channel) and isinstance(Gateway(), links.Gateway)


def test_a_worker_uses_the_run_directory_only_when_it_reads_the_token(hosts):
    controller, local, remote = hosts
    assert local.shared and local.home == controller.home
    assert not remote.shared and remote.home != controller.home and remote.home.is_dir()
    assert controller.sees_run_dir("gw0") is True and controller.sees_run_dir("gw1") is False
    assert controller.remote_workers() == ["gw1"]
    assert controller.sees_run_dir("gw9") is None


@pytest.mark.parametrize("origin", ["local", "remote", "controller"])
def test_a_stop_anywhere_reaches_every_worker_once(run, origin):
    controller, states = run
    local = start_worker(controller, "gw0")
    remotes = [start_worker(controller, f"gw{n}", private=True) for n in (1, 2)]
    states += [local, *remotes]
    first = {"local": local, "remote": remotes[0], "controller": controller}[origin]
    assert first.request_stop(REASON)
    for state in (controller, local, *remotes):
        assert state.stop() and state.stop.reason() == REASON, state.worker
        assert state.stop.path.exists()  # the shim of shell mode watches this host's file
    assert not remotes[1].request_stop(StopReason("other", "auth", "late"))  # first stop wins everywhere


def test_a_stop_from_a_local_worker_that_won_the_file_is_still_forwarded(hosts):
    """A local worker writes the shared file before the controller hears of it: the controller forwards anyway."""
    _, local, remote = hosts
    assert local.request_stop(REASON)  # the file is the controller's too: its own trigger will lose
    assert remote.stop.reason() == REASON


def test_counters_from_every_worker_reach_the_controller(run, monkeypatch):
    controller, states = run
    workers = [start_worker(controller, "gw0"), start_worker(controller, "gw1", private=True)]
    states += workers
    clock = [100.0]
    monkeypatch.setattr(shared.time, "monotonic", lambda: clock[0])
    workers[0].publish({"commands": 1})
    workers[1].publish({"commands": 2})
    workers[1].publish({"commands": 3})  # within PUBLISH_EVERY: not sent
    assert controller.counters() == {"gw0": {"commands": 1}, "gw1": {"commands": 2}}
    workers[1].publish({"commands": 4}, force=True)
    clock[0] += shared.PUBLISH_EVERY
    workers[0].publish({"commands": 5})
    assert controller.counters() == {"gw0": {"commands": 5}, "gw1": {"commands": 4}}


def test_a_lone_process_publishes_to_itself():
    state = SharedState.open_run()
    try:
        state.publish({"commands": 7})
        assert state.counters() == {"main": {"commands": 7}}
    finally:
        state.close()


def test_maxfail_counts_failures_of_every_host(hosts):
    controller, local, remote = hosts
    remote.note_failure(StopReason("r.usacloud::r", "not-found", "m"), maxfail=3)
    local.note_failure(StopReason("l.usacloud::l", "not-found", "m"), maxfail=3)
    assert not controller.stop() and not remote.stop()
    remote.note_failure(REASON, maxfail=3)
    assert controller.stop.reason() == REASON and local.stop() and remote.stop()


def test_a_worker_that_loses_its_controller_kills_its_children(run):
    controller, states = run
    gateways = [Gateway(), Gateway()]
    local = start_worker(controller, "gw0", gateway=gateways[0])
    remote = start_worker(controller, "gw1", private=True, gateway=gateways[1])
    states += [local, remote]
    procs = []
    for state in (local, remote):
        proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
        state.children.add(proc)
        procs.append(proc)
    for gateway in gateways:
        gateway.controller_gone()
    for proc in procs:
        assert proc.wait(5) is not None
    for state in (local, remote):
        assert state.stop() and state.stop.reason() == LOST_CONTROLLER
    assert not controller.stop(), "a lost controller stops the worker itself, not the shared run directory"


def test_a_channel_closing_after_the_session_is_the_normal_end(run):
    controller, states = run
    gateway = Gateway()
    worker = start_worker(controller, "gw0", private=True, gateway=gateway)
    states.append(worker)
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    worker.children.add(proc)
    worker.finish()
    gateway.controller_gone()
    assert not worker.stop()
    assert proc.poll() is None
    worker.children.terminate_all(grace=1)


def test_close_removes_what_the_process_made(run):
    controller, states = run
    remote = start_worker(controller, "gw1", private=True)
    home = remote.home
    remote.close()
    assert not home.exists()
    run_dir = controller.home
    controller.close()
    assert not run_dir.exists()
    states.clear()


def test_the_crash_hook_decides_from_its_arguments(run):
    """No matching of xdist's "crashed while running" text: pytest_handlecrashitem is the controller's only cue."""
    controller, _ = run

    class Config:
        class pluginmanager:
            @staticmethod
            def getplugin(name):
                return object()  # the controller: dsession is there

    policy = ErrorPolicy(Config(), "stop", 1, controller)
    report = pytest.TestReport("s.usacloud::s", ("s.usacloud", None, "s"), {}, "failed", "worker gone", "???")
    policy.pytest_runtest_logreport(report)
    assert not controller.stop(), "a relayed report is the worker's to decide"
    policy.pytest_handlecrashitem(crashitem="s.usacloud::s", report=report, sched=None)
    assert controller.stop.reason() == StopReason("s.usacloud::s", "failed", "failed")


def group_member(url: str, name: str, shard: str) -> SharedState:
    state = SharedState.open_run()
    state.join_group(url, name, shard)
    return state


def test_shards_of_a_run_group_share_the_stop(tmp_path: Path):
    with private_redis(tmp_path) as server:
        a, b = group_member(server.url, "run-1", "a"), group_member(server.url, "run-1", "b")
        other = SharedState.open_run()
        other_group = other.join_group(server.url, "run-2", "c")
        try:
            assert a.request_stop(REASON)
            reads = other_group.reads  # the stop is in Redis from now on
            wait_until(b.stop, 5, "the stop reaching another shard of the group", interval=0.02)
            assert b.stop.reason() == StopReason(REASON.nodeid, REASON.cls, REASON.message, "a")
            assert "shard 'a'" in b.stop.reason().describe()
            late = group_member(server.url, "run-1", "d")  # a shard that starts after the stop
            try:
                assert late.stop.reason() == b.stop.reason()
            finally:
                late.close()
            # another group's shard has read its own key twice since (a read may have begun before)
            wait_until(
                lambda: other.stop() or other_group.reads >= reads + 2, 10, "two reads of the other group's stop"
            )
            assert not other.stop(), "another group is not stopped"
        finally:
            for state in (a, b, other):
                state.close()
