"""The shared stop signal and secret masking."""

import multiprocessing as mp

from pytest_usacloud_sandbox.state.stop import StopReason, StopSignal
from pytest_usacloud_sandbox.usacloud.mask import MASK, Masker, flag_secrets


def _trigger(path, n, results):
    results.put((n, StopSignal(path).trigger(StopReason(f"s{n}", "auth", "m"))))


def test_first_writer_wins_across_processes(tmp_path):
    path = tmp_path / "stop"
    results = mp.get_context("fork").Queue()
    procs = [mp.get_context("fork").Process(target=_trigger, args=(path, n, results)) for n in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
    won = [n for n, ok in (results.get(timeout=5) for _ in procs) if ok]
    assert len(won) == 1
    signal = StopSignal(path)
    assert signal() is True
    assert signal.reason().nodeid == f"s{won[0]}"
    assert signal.reason().describe() == f"run stopped by s{won[0]} (auth): m"
    assert [p.name for p in tmp_path.iterdir()] == ["stop"]  # no temporary files left


def test_unset_signal(tmp_path):
    signal = StopSignal(tmp_path / "stop")
    assert signal() is False and signal.reason() is None


def test_masker_from_env_and_flags():
    env = {"SAKURACLOUD_ACCESS_TOKEN": "token-abcdef", "SAKURA_ACCESS_TOKEN_SECRET": "secret-123456", "OTHER": "x"}
    words = ["usacloud", "server", "list", "--token", "flagtok-999", "--secret=flagsec-888", "--password", "pw-7777"]
    masker = Masker.from_sources(env, words)
    assert set(flag_secrets(words)) == {"flagtok-999", "flagsec-888", "pw-7777"}
    text = "a token-abcdef b secret-123456 c flagtok-999 d flagsec-888 e pw-7777"
    assert masker.text(text) == f"a {MASK} b {MASK} c {MASK} d {MASK} e {MASK}"
    assert masker.words(words) == (
        "usacloud",
        "server",
        "list",
        "--token",
        MASK,
        f"--secret={MASK}",
        "--password",
        MASK,
    )


def test_masker_ignores_tiny_values_and_masks_longest_first():
    masker = Masker.from_sources({"SAKURACLOUD_ACCESS_TOKEN": "ab"}, ["--token", "abcdef", "--secret", "abcdefgh"])
    assert masker.text("ab abcdefgh abcdef") == f"ab {MASK} {MASK}"


def test_short_flag_values_parameters_json_and_auth_headers(tmp_path):
    masker = Masker.from_sources(
        {"HOME": str(tmp_path)}, ["--password=abc", "--parameters", '{"Disk": {"Password": "Sup3r"}}']
    )
    text = masker.text(
        "usacloud disk edit --password=abc --edit-disk-password 'p w' --parameters '{\"Password\":\"x\"}'"
    )
    assert text == 'usacloud disk edit --password=*** --edit-disk-password *** --parameters \'{"Password":"***"}\''
    assert masker.text("output Sup3r here") == "output *** here"
    assert masker.text("GET /x\nAuthorization: Basic dG9rZW46c2VjcmV0\nok") == "GET /x\nAuthorization: ***\nok"
    assert (
        masker.text("--key-id 12345 --health-check-basic-auth-password pw")
        == "--key-id 12345 --health-check-basic-auth-password ***"
    )


def test_profile_credentials_are_masked(tmp_path):
    profile = tmp_path / ".usacloud" / "default"
    profile.mkdir(parents=True)
    (profile / "config.json").write_text(
        '{"AccessToken": "prof-token-1", "AccessTokenSecret": "prof-secret-2", "Zone": "is1a"}'
    )
    masker = Masker.from_sources({"HOME": str(tmp_path)})
    assert masker.text("token prof-token-1 secret prof-secret-2 zone is1a") == "token *** secret *** zone is1a"


def test_redis_urls_are_masked_without_parsing():
    from pytest_usacloud_sandbox.usacloud.mask import mask_url

    assert mask_url("redis://:pa/ss#w?rd@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert mask_url("redis://alice:pw@h:1/0") == "redis://alice:***@h:1/0"
    assert mask_url("redis://slip@h/0") == "redis://***@h/0"
    assert mask_url("redis://h/0?password=QueryPw123&x=1") == "redis://h/0?password=***&x=1"
    assert mask_url("redis://h:6379/0") == "redis://h:6379/0"
