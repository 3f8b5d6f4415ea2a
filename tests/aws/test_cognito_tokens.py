"""Seed 004's sign-in: the API accepts the Cognito user pool's JWTs beside its own tokens.

The pool's key set is served by a real HTTP server on 127.0.0.1 (the JWKS endpoint),
with RSA keys made here; the tokens are signed with them as Cognito signs its own.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from leadflow.api.app import create_app
from leadflow.bootstrap import bootstrap
from leadflow.security import issue_token
from leadflow.settings import Settings

CLIENT_ID = "4tq0example0client0id"
POOL = "us-east-1_Example"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY = new_key()
STRANGER_KEY = new_key()  # not in the pool's key set


class Jwks(BaseHTTPRequestHandler):
    fetches = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != f"/{POOL}/.well-known/jwks.json":
            self.send_error(404)
            return
        Jwks.fetches += 1
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(POOL_KEY.public_key()))
        body = json.dumps({"keys": [public | {"kid": "pool-key-1", "alg": "RS256", "use": "sig"}]})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/{POOL}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(issuer: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key="s" * 48,
        cognito_issuer=issuer,
        cognito_client_id=CLIENT_ID,
        rate_limit=0,
    )
    with TestClient(create_app(bootstrap(settings))) as client:
        yield client


def pool_token(
    issuer: str,
    key: rsa.RSAPrivateKey = POOL_KEY,
    kid: str = "pool-key-1",
    lifetime: float = 600,
    **claims: Any,
) -> str:
    now = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {
        "sub": "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
        "iss": issuer,
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:username": "carol",
        "iat": now,
        "exp": now + dt.timedelta(seconds=lifetime),
    }
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def get_leads(api: TestClient, token: str) -> Any:
    return api.get("/v1/leads", headers={"authorization": f"Bearer {token}"})


RECORD = {"name": "Jo Doe", "email": "jo@example.com", "optIn": True, "interests": ["python"]}


def test_a_pool_id_token_is_accepted_and_names_the_owner(api: TestClient, issuer: str) -> None:
    carol = pool_token(issuer)
    answer = api.post("/v1/records", json=[RECORD], headers={"authorization": f"Bearer {carol}"})
    assert answer.status_code == 200, answer.text
    leads = get_leads(api, carol)
    assert leads.status_code == 200
    assert [lead["email"] for lead in leads.json()["items"]] == ["jo@example.com"]
    dave = pool_token(issuer, **{"cognito:username": "dave"})
    assert get_leads(api, dave).json()["items"] == []  # another owner sees none of them


def test_a_pool_access_token_is_accepted(api: TestClient, issuer: str) -> None:
    access = pool_token(issuer, aud=None, token_use="access", client_id=CLIENT_ID, username="carol")
    assert get_leads(api, access).status_code == 200


def test_leadflow_tokens_still_work(api: TestClient) -> None:
    own = issue_token("s" * 48, "admin", 600)
    assert get_leads(api, own).status_code == 200


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong audience", "another client"),
        ("wrong client of an access token", "another client"),
        ("wrong issuer", "another issuer"),
        ("expired", "expired"),
        ("bad signature", "not valid"),
        ("unknown key", "unknown signing key"),
    ],
)
def test_a_bad_pool_token_is_a_401_envelope(
    api: TestClient, issuer: str, case: str, message: str
) -> None:
    token = {
        "wrong audience": lambda: pool_token(issuer, aud="someone-else"),
        "wrong client of an access token": lambda: pool_token(
            issuer, aud=None, token_use="access", client_id="other-client"
        ),
        "wrong issuer": lambda: pool_token(issuer, iss=issuer.replace(POOL, "us-east-1_Other")),
        "expired": lambda: pool_token(issuer, lifetime=-60),
        "bad signature": lambda: pool_token(issuer, key=STRANGER_KEY),
        "unknown key": lambda: pool_token(issuer, key=STRANGER_KEY, kid="stranger"),
    }[case]()
    answer = get_leads(api, token)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "unauthorized"
    assert message in error["message"]
    assert set(answer.json()["error"]) == {"code", "message", "details"}


def test_pool_tokens_are_refused_when_cognito_is_not_configured(
    issuer: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="s" * 48)
    with TestClient(create_app(bootstrap(settings))) as api:
        assert get_leads(api, pool_token(issuer)).status_code == 401


def test_the_key_set_is_fetched_once_for_many_requests(api: TestClient, issuer: str) -> None:
    before = Jwks.fetches
    for _ in range(5):
        assert get_leads(api, pool_token(issuer)).status_code == 200
    assert Jwks.fetches - before == 1


def test_region_and_pool_id_name_the_issuer() -> None:
    settings = Settings(cognito_region="eu-west-1", cognito_user_pool_id="eu-west-1_Abc")
    assert (
        settings.cognito_issuer_url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"
    )
    assert Settings().cognito_issuer_url is None
