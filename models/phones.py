"""Telephone numbers, parsed and formatted by Google's libphonenumber rules.

Numbers are stored in E.164 (``+375171928260``) and formatted on the way out.
"""

import phonenumbers

from models.errors import InvalidInput

DEFAULT_REGION = "BY"


def normalize_phone(raw: str, region: str = DEFAULT_REGION, field: str = "number") -> str:
    """Parse ``raw`` as written by a person (``+375 (1719) 28-2-60``) into E.164."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"'{raw}' is not a telephone number", field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"'{raw}' is not a valid telephone number", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_format(e164: str) -> str:
    """How the number is written inside its own country, e.g. ``8 01719 28-260``."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL
    )


def international_format(e164: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def tel_uri(e164: str) -> str:
    """An RFC 3966 ``tel:`` URI, clickable on phones."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.RFC3966
    )
