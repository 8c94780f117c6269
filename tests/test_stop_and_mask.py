"""The shared stop signal and secret masking."""

import json
import multiprocessing as mp

import pytest
from standin_tools import FAKE_PEM, FAKE_PEM_LINES

from pytest_usacloud_sandbox.state.stop import StopReason, StopSignal
from pytest_usacloud_sandbox.usacloud.mask import MASK, SECRET_ENV, Masker, flag_secrets


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


@pytest.mark.parametrize("dashes", ["-", "---"])
def test_credential_flags_with_any_number_of_dashes_are_masked(dashes):
    """`-token X` (Go's flag package's spelling; pflag reads it as shorthand flags and usacloud refuses
    the command): its value is still a credential, in the words, the text and the failure text."""
    words = ["usacloud", "zone", "list", f"{dashes}token", "tok-LEAK-I9", f"{dashes}secret=sec-LEAK-J1", "-o", "json"]
    masker = Masker.from_sources({}, words)
    assert set(flag_secrets(words)) == {"tok-LEAK-I9", "sec-LEAK-J1"}
    assert masker.words(words) == (*words[:4], MASK, f"{dashes}secret={MASK}", "-o", "json")
    line = f"usacloud zone list {dashes}token ab {dashes}secret 'c d' {dashes}password=ef"
    assert Masker().text(line) == f"usacloud zone list {dashes}token *** {dashes}secret *** {dashes}password=***"


def test_fake_mode_gives_single_dash_credential_flags_the_dummies_too():
    from pytest_usacloud_sandbox.fakemode import credentials

    words = credentials.dummy_words(["usacloud", "zone", "list", "-token", "real-token", "-secret=real-secret"])
    assert words == (
        "usacloud",
        "zone",
        "list",
        "-token",
        credentials.DUMMY_TOKEN,
        f"-secret={credentials.DUMMY_SECRET}",
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


@pytest.mark.parametrize(
    "words",
    [
        ["--users", '[{"UserName":"u","Password":"Pa55word-reg","Permission":"all"}]'],
        ['--users=[{"UserName":"u","Password":"Pa55word-reg"}]'],
        ["--site-to-site-vpn", '[{"Peer":"192.0.2.1","PreSharedSecret":"Pa55word-reg"}]'],
        ["--parameters", '{"Disk": {"Password": "Pa55word-reg"}}'],
    ],
)
def test_secrets_in_any_json_flag_value_are_masked_in_any_quoting(words):
    """A password under a secret key of any flag's JSON value is a secret, whatever the flag: the
    script's text shows it in double quotes (`\\"Password\\":\\"...\\"`), where no pattern sees it."""
    assert "Pa55word-reg" in flag_secrets(["usacloud", "vpc-router", "create", *words])
    masker = Masker.from_sources({}, ["usacloud", "vpc-router", "create", *words])
    written = 'usacloud x --users "[{\\"UserName\\":\\"u\\",\\"Password\\":\\"Pa55word-reg\\"}]"'
    assert "Pa55word-reg" not in masker.text(written)


def test_secret_json_values_are_masked_by_pattern_in_double_quoted_words_too():
    """Values too short to mask wherever they appear are masked under their key, also escaped."""
    text = Masker().text('--users "[{\\"Password\\":\\"ab\\",\\"x\\":1}]" {"Password": "c\\"d"}')
    assert text == '--users "[{\\"Password\\":\\"***\\",\\"x\\":1}]" {"Password": "***"}'


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
    # wherever the URL starts: a value with a leading blank, any scheme
    assert mask_url(" redis://:Pw-Redis-D@127.0.0.1:1/0") == " redis://:***@127.0.0.1:1/0"
    assert mask_url("\trediss://u:pw@h/0") == "\trediss://u:***@h/0"
    assert mask_url("x unix://u:pw@/run/redis.sock") == "x unix://u:***@/run/redis.sock"


# -- inline secrets are masked -------------------------------------------------------------------------------------
def test_secret_flags_come_from_the_command_table_and_take_a_value():
    from pytest_usacloud_sandbox.usacloud.commands import GLOBAL_FLAGS, all_resources
    from pytest_usacloud_sandbox.usacloud.mask import secret_flags

    flags = [*GLOBAL_FLAGS, *(f for r in all_resources() for s in r.subcommands for f in s.flags)]
    table = {n for f in flags if f.takes_value for n in f.names}
    assert secret_flags() <= table
    passwords = {n for f in flags if f.takes_value for n in f.names if "password" in n and n.startswith("--")}
    assert passwords <= secret_flags()
    assert {"--token", "--secret", "--access-token-secret", "--passcode", "--pass-phrase"} <= secret_flags()
    assert "--change-password" not in secret_flags()  # a boolean: nothing after it is a secret


def test_boolean_change_password_masks_nothing():
    words = ["usacloud", "cdrom", "download", "-y", "--change-password", "myisoimage", "--destination", "o.iso"]
    masker = Masker.from_sources({}, words)
    assert masker.secrets == ()
    assert masker.words(words) == tuple(words)
    stderr = 'target resource not found: query=["myisoimage"]'
    assert masker.text(stderr) == stderr
    assert masker.text(" ".join(words)) == " ".join(words)


def test_secret_values_are_masked_where_usacloud_reads_them():
    masker = Masker()
    assert masker.words(["usacloud", "server", "ssh", "-ikeyfile.pem", "web"]) == (
        "usacloud",
        "server",
        "ssh",
        f"-i{MASK}",
        "web",
    )
    # a value that looks like a flag is still the value of a flag that takes one
    assert masker.words(["usacloud", "--token", "-tok-", "zone", "list"]) == (
        "usacloud",
        "--token",
        MASK,
        "zone",
        "list",
    )


def test_inline_secret_prefixes_are_masked():
    from pytest_usacloud_sandbox.script.parse import parse_script

    src = "SAKURACLOUD_ACCESS_TOKEN_SECRET=inline-secret-77 SAKURA_ACCESS_TOKEN='abc' usacloud zone list\n"
    (command,) = parse_script(src).commands
    masker = Masker.for_commands({}, [command])
    assert (
        masker.text(command.text)
        == f"SAKURACLOUD_ACCESS_TOKEN_SECRET={MASK} SAKURA_ACCESS_TOKEN={MASK} usacloud zone list"
    )
    assert masker.text("usacloud echoed inline-secret-77") == f"usacloud echoed {MASK}"
    # whatever the masker knows: an export line in bash's trace
    assert Masker().text("+ export SAKURACLOUD_ACCESS_TOKEN=xy") == f"+ export SAKURACLOUD_ACCESS_TOKEN={MASK}"


def _profile(base, name, body, file="config.json"):
    directory = base / name
    directory.mkdir(parents=True)
    (directory / file).write_text(body)


def test_profiles_are_found_where_usacloud_looks(tmp_path):
    home, sakura, old, xdg = (tmp_path / d for d in ("home", "sakura", "old", "xdg"))
    _profile(home / ".usacloud", "default", '{"AccessToken": "home-token-1"}')
    _profile(sakura, "ci", '{"AccessTokenSecret": "sakura-dir-secret-2"}')
    _profile(old / ".usacloud", "prod", '{"AccessToken": "old-layout-token-3"}')  # USACLOUD_PROFILE_DIR=<base>
    _profile(xdg / "usacloud", "dev", "credentials:\n  access_token: yaml-token-4\n", "config.yaml")
    env = {"HOME": str(home), "SAKURACLOUD_PROFILE_DIR": str(sakura), "USACLOUD_PROFILE_DIR": str(old)}
    env["XDG_CONFIG_HOME"] = str(xdg)
    text = "home-token-1 sakura-dir-secret-2 old-layout-token-3 yaml-token-4"
    assert Masker.from_sources(env).text(text) == " ".join([MASK] * 4)
    # USACLOUD_PROFILE_DIR naming the profile directory itself (usacloud 1.2x) works as well
    assert Masker.from_sources({"USACLOUD_PROFILE_DIR": str(sakura)}).text("sakura-dir-secret-2") == MASK


def test_v0_spaced_equals_secret_is_masked():
    # usacloud v0's `--password = X`: v1 reads `=` as the value and X as a stray word; the check
    # refuses the command, and its failure text must still not quote X
    words = ["server", "create", "--name", "web", "--password", "=", "hunter2secret", "-y"]
    masker = Masker().with_words(words)
    assert "hunter2secret" in flag_secrets(words)
    assert "hunter2secret" not in masker.words(words)
    assert masker.words(words)[5:7] == (MASK, MASK)
    assert "hunter2" not in Masker().text("usacloud server create --password = hunter2 -y")


def test_trace_credentials_are_masked_in_any_layout():
    """Hostile review: `--trace` prints the Basic credential (base64 of token:secret) in a Go map."""
    import base64

    token, secret = "TOKENAAAA1111", "SECRETBBBB2222"
    encoded = base64.b64encode(f"{token}:{secret}".encode()).decode()
    masker = Masker.from_sources({"SAKURACLOUD_ACCESS_TOKEN": token, "SAKURACLOUD_ACCESS_TOKEN_SECRET": secret})
    trace = f"[TRACE] header map[Authorization:[Basic {encoded}] User-Agent:[usacloud]]"
    assert encoded not in masker.text(trace)
    assert encoded[:16] not in masker.text(f"base64 only: {encoded}")  # no scheme word before it
    assert "Bearer ***" in Masker().text("Authorization = Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig")


def test_every_credential_variable_usacloud_reads_is_a_secret():
    """From usacloud 1.22.8's config and saclient-go v0.4.0: the API key, the service principal's ID
    and key ID, and its private key (a PEM, or its file), under SAKURA_ and SAKURACLOUD_ (USACLOUD_ too)."""
    names = {"ACCESS_TOKEN", "ACCESS_TOKEN_SECRET", "SERVICE_PRINCIPAL_ID", "SERVICE_PRINCIPAL_KEY_ID"}
    names |= {"PRIVATE_KEY", "PRIVATE_KEY_PATH"}
    expected = {prefix + name for prefix in ("SAKURA_", "SAKURACLOUD_", "USACLOUD_") for name in names}
    assert expected | {"SAKURA_SERVICE_PRINCIPAL_KEY_KID"} <= set(SECRET_ENV)
    env = {name: f"value-of-{name.lower()}" for name in SECRET_ENV}
    masker = Masker.from_sources(env)
    for name, value in env.items():
        assert masker.text(f"{name}={value}") == f"{name}={MASK}"
        assert masker.text(f"seen: {value}.") == f"seen: {MASK}."


def test_a_pem_private_key_is_masked_whole_and_line_by_line():
    masker = Masker.from_sources({"SAKURA_PRIVATE_KEY": FAKE_PEM, "PATH": "/bin"})
    assert masker.text(f"key={FAKE_PEM}end") == f"key={MASK}end"
    for shown in (
        FAKE_PEM.replace("\n", "\r\n"),  # other line endings
        json.dumps(FAKE_PEM),  # a JSON string: the lines joined by \n escapes
        FAKE_PEM_LINES[1],  # one line alone
        "  " + FAKE_PEM.replace("\n", "\n  "),  # indented
    ):
        masked = masker.text(shown)
        assert not any(line in masked for line in FAKE_PEM_LINES), masked


def test_the_private_key_a_key_path_names_is_masked_too(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text(FAKE_PEM)
    masker = Masker.from_sources({"SAKURACLOUD_PRIVATE_KEY_PATH": str(key)})
    assert masker.text(f"path {key}") == f"path {MASK}"
    masked = masker.text("read: " + FAKE_PEM)
    assert not any(line in masked for line in FAKE_PEM_LINES), masked
    Masker.from_sources({"SAKURA_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem")})  # best effort: no error
