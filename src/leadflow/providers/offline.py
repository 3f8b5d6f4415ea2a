"""The offline provider: what can be known from a contact itself, without any network.

Email domain, free-mail and role-address flags, a company guessed from the domain,
phone country, type and E.164, and the name split into first and last name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import phonenumbers

from ..domain.emails import InvalidEmail, normalize_email
from ..domain.names import split_name
from ..domain.phones import normalize_phone

FREE_MAIL = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr hotmail.com hotmail.co.uk
    hotmail.fr outlook.com live.com msn.com aol.com icloud.com me.com mac.com
    protonmail.com proton.me gmx.com gmx.de gmx.net web.de mail.com yandex.com yandex.ru
    mail.ru zoho.com qq.com 163.com 126.com fastmail.com tutanota.com hey.com
    free.fr orange.fr laposte.net libero.it t-online.de""".split()
)
ROLE_ADDRESSES = frozenset(
    """info sales support contact admin office hello help billing accounts marketing
    team hr jobs careers press media noreply no-reply webmaster postmaster abuse
    enquiries inquiries service customerservice orders""".split()
)
_TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed_line",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    phonenumbers.PhoneNumberType.VOIP: "voip",
}


def guess_company(domain: str) -> str:
    """'mail.acme-corp.co.uk' -> 'Acme Corp': the registrable label, words capitalized."""
    labels = domain.split(".")
    if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2:
        label = labels[-3]  # acme.co.uk, acme.com.au
    else:
        label = labels[-2] if len(labels) >= 2 else labels[0]
    return " ".join(part.capitalize() for part in label.replace("_", "-").split("-") if part)


class OfflineProvider:
    name = "offline"

    def __init__(self, region: str = "US") -> None:
        self.region = region

    def enrich_batch(self, contacts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [self.enrich(contact) for contact in contacts]

    def enrich(self, contact: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        raw_email = contact.get("email")
        if isinstance(raw_email, str) and raw_email.strip():
            try:
                email = normalize_email(raw_email)
            except InvalidEmail:
                email = None
                result["emailValid"] = False
            if email is not None:
                local, _, domain = email.rpartition("@")
                free = domain in FREE_MAIL
                result.update(
                    emailValid=True,
                    email=email,
                    emailDomain=domain,
                    freeMail=free,
                    roleAddress=local.split("+")[0] in ROLE_ADDRESSES,
                    companyGuess=None if free else guess_company(domain),
                )
        raw_phone = contact.get("phone")
        if isinstance(raw_phone, str | int) and str(raw_phone).strip():
            phone = normalize_phone(str(raw_phone), self.region)
            if phone is not None and phone.valid:
                number = phonenumbers.parse(phone.value)
                result.update(
                    phoneE164=phone.value,
                    phoneCountry=phonenumbers.region_code_for_number(number),
                    phoneType=_TYPES.get(phonenumbers.number_type(number), "other"),
                )
            else:
                result["phoneValid"] = False
        name = contact.get("name")
        if isinstance(name, str) and name.strip():
            first, last = split_name(name)
            result.update(firstName=first, lastName=last)
        return result
