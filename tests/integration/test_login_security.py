"""Issue 10 point 4: logins that cannot be sprayed, cannot lock others out, and tokens
that end with a password reset."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from api_server import PASSWORDS, assert_envelope, live_api

from leadflow.security import hash_password

LEADFLOW = Path(sys.executable).parent / "leadflow"


def login(
    client: httpx.Client, username: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/v1/auth/token", json={"username": username, "password": password}, headers=headers
    )


def test_a_spray_with_rotating_forwarded_for_is_throttled(tmp_path: Path) -> None:
    # No trusted proxies (the default): X-Forwarded-For is the client's own say.
    with live_api(tmp_path / "data", login_attempts=5) as api, api.client() as client:
        answers = [
            login(client, f"user{i}", "guess", forwarded_for=f"203.0.113.{i}") for i in range(12)
        ]
    statuses = [response.status_code for response in answers]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}, statuses
    throttled = assert_envelope(answers[-1], 429, "too_many_requests")
    assert "failed logins" in throttled["message"]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60


def test_failures_from_one_address_do_not_lock_the_user_out_from_another(
    tmp_path: Path,
) -> None:
    # Behind a trusted proxy on loopback, X-Forwarded-For names the real client.
    with (
        live_api(tmp_path / "data", login_attempts=3, trusted_proxies="127.0.0.1/32") as api,
        api.client() as client,
    ):
        for _ in range(3):
            assert login(client, "alice", "wrong", "198.51.100.7").status_code == 401
        assert login(client, "alice", "wrong", "198.51.100.7").status_code == 429
        # the attacker's address is locked out even with the right password...
        assert login(client, "alice", PASSWORDS["alice"], "198.51.100.7").status_code == 429
        # ...while alice, from her own address, logs in.
        response = login(client, "alice", PASSWORDS["alice"], "192.0.2.10")
        assert response.status_code == 200, response.text
        # A forwarded chain is read from the right: only the hop the proxy saw counts.
        chain = "198.51.100.7, 192.0.2.11"
        assert login(client, "alice", PASSWORDS["alice"], chain).status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    with (
        live_api(tmp_path / "data", login_attempts=2, trusted_proxies="10.0.0.0/8") as api,
        api.client() as client,
    ):
        login(client, "bob", "wrong", "192.0.2.1")
        login(client, "bob", "wrong", "192.0.2.2")
        # both failures counted against the real peer, 127.0.0.1, whatever the header said
        assert login(client, "bob", PASSWORDS["bob"], "192.0.2.3").status_code == 429


def test_resetting_a_password_ends_the_tokens_issued_before(tmp_path: Path) -> None:
    with live_api(tmp_path / "data") as api, api.client() as client:
        token = login(client, "alice", PASSWORDS["alice"]).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/leads", headers=headers).status_code == 200
        api.services.users.add_user("alice", hash_password("a-new-Pa55word"), "2026-01-02")
        error = assert_envelope(client.get("/v1/leads", headers=headers), 401, "unauthorized")
        assert "password was changed" in error["message"]
        fresh = login(client, "alice", "a-new-Pa55word").json()["access_token"]
        assert (
            client.get("/v1/leads", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
        )


def test_leadflow_users_passwd_resets_and_refuses_unknown_users(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"LEADFLOW_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}

    def cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LEADFLOW), "users", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )

    unknown = cli("passwd", "nobody", stdin="long-enough-1\n")
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr
    assert cli("add", "dana", stdin="first-Pa55word\n").returncode == 0
    with live_api(data) as api, api.client() as client:
        token = login(client, "dana", "first-Pa55word").json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/leads", headers=headers).status_code == 200
        assert cli("passwd", "dana", stdin="second-Pa55word\n").returncode == 0
        assert_envelope(client.get("/v1/leads", headers=headers), 401)
        assert login(client, "dana", "second-Pa55word").status_code == 200


def test_logins_run_beside_other_requests(tmp_path: Path) -> None:
    # argon2 runs in the thread pool: while 8 logins hash, the event loop keeps answering.
    with live_api(tmp_path / "data", login_attempts=100) as api:

        def one_login(_: int) -> int:
            with api.client() as client:
                return login(client, "bob", PASSWORDS["bob"]).status_code

        with ThreadPoolExecutor(8) as pool, api.client() as probe:
            logins = pool.map(one_login, range(8))
            health = [probe.get("/healthz").status_code for _ in range(5)]
            assert list(logins) == [200] * 8
        assert health == [200] * 5


@pytest.mark.parametrize("value", ["not-an-ip", "10.0.0.0/33"])
def test_a_bad_trusted_proxy_setting_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        with live_api(tmp_path / "data", trusted_proxies=value):
            pass


def test_setting_the_same_password_again_also_ends_old_tokens(tmp_path: Path) -> None:
    with live_api(tmp_path / "data") as api, api.client() as client:
        token = login(client, "bob", PASSWORDS["bob"]).json()["access_token"]
        api.services.users.add_user("bob", hash_password(PASSWORDS["bob"]), "2026-01-02")
        # the same password set again is a reset too: argon2 salts every hash
        response = client.get("/v1/leads", headers={"Authorization": f"Bearer {token}"})
        assert_envelope(response, 401, "unauthorized")


# --- the web app's sign-in form: the same limits, counted together with the API's ---------


def web_sign_in(
    client: httpx.Client, username: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    """Post the sign-in form (with its CSRF token) as a browser behind a proxy would."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/signin", headers=headers)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    form = {"csrf": token.group(1), "username": username, "password": password}
    return client.post("/signin", data=form, headers=headers)


def test_web_sign_in_counts_failures_per_user_and_address_like_the_api(
    tmp_path: Path,
) -> None:
    with (
        live_api(tmp_path / "data", login_attempts=3, trusted_proxies="127.0.0.1/32") as api,
        httpx.Client(base_url=api.base_url) as attacker,
        httpx.Client(base_url=api.base_url) as alice,
        api.client() as client,
    ):
        # one failure through the API and two through the form: one count
        assert login(client, "alice", "wrong", "198.51.100.7").status_code == 401
        for _ in range(2):
            failed = web_sign_in(attacker, "alice", "wrong", "198.51.100.7")
            assert failed.status_code == 401 and "wrong password" in failed.text
        throttled = web_sign_in(attacker, "alice", PASSWORDS["alice"], "198.51.100.7")
        assert throttled.status_code == 429
        assert "leadflow_session" not in attacker.cookies
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 60
        assert "Too many failed sign-ins from this address" in throttled.text
        assert re.search(rf"Try again in {wait} seconds?\.", throttled.text)
        assert 'role="alert"' in throttled.text and "<form" in throttled.text
        # the API's token endpoint sees the same count
        assert login(client, "alice", PASSWORDS["alice"], "198.51.100.7").status_code == 429
        # alice, from her own address, signs in: no lock-out from another address
        signed_in = web_sign_in(alice, "alice", PASSWORDS["alice"], "192.0.2.10")
        assert signed_in.status_code == 303 and "leadflow_session" in alice.cookies


def test_web_sign_in_ignores_forwarded_for_from_an_untrusted_peer(tmp_path: Path) -> None:
    # No trusted proxies: rotating X-Forwarded-For values are all the one TCP peer.
    with (
        live_api(tmp_path / "data", login_attempts=5) as api,
        httpx.Client(base_url=api.base_url) as browser,
    ):
        statuses = [
            web_sign_in(browser, f"user{i}", "guess", f"203.0.113.{i}").status_code
            for i in range(8)
        ]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}, statuses
