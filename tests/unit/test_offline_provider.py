import pytest

from leadflow.providers.offline import OfflineProvider, guess_company
from leadflow.providers.registry import create, names, register
from leadflow.settings import Settings


@pytest.mark.parametrize(
    ("domain", "company"),
    [
        ("acme.com", "Acme"),
        ("mail.acme-corp.co.uk", "Acme Corp"),
        ("globex.com.au", "Globex"),
        ("initech.io", "Initech"),
        ("big_co.example.org", "Example"),
    ],
)
def test_company_guess_from_the_domain(domain: str, company: str) -> None:
    assert guess_company(domain) == company


def test_role_addresses_free_mail_and_names() -> None:
    provider = OfflineProvider("GB")
    info = provider.enrich({"email": "info@shop.example.com"})
    assert info["roleAddress"] is True and info["freeMail"] is False
    free = provider.enrich({"email": "someone@gmail.com", "name": "Ann Lee"})
    assert free["freeMail"] is True and free["companyGuess"] is None
    assert (free["firstName"], free["lastName"]) == ("Ann", "Lee")
    local = provider.enrich({"phone": "020 7946 0958"})  # a London number, GB default region
    assert local["phoneE164"] == "+442079460958" and local["phoneCountry"] == "GB"
    assert provider.enrich({}) == {}


def test_the_registry_is_a_factory_with_plug_ins() -> None:
    settings = Settings(default_region="GB")
    assert "offline" in names()
    assert create("offline", settings).name == "offline"

    class Echo:
        name = "echo"

        def enrich_batch(self, contacts: object) -> list[dict[str, object]]:
            return [{"echo": True} for _ in contacts]  # type: ignore[attr-defined]

    register("echo", lambda settings: Echo())
    assert create("echo", settings).enrich_batch([{}, {}]) == [{"echo": True}, {"echo": True}]
    with pytest.raises(LookupError, match="available"):
        create("missing", settings)
