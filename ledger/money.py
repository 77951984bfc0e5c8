"""Money: decimal strings with an ISO 4217 currency, never floats.

Amounts travel and are stored as strings such as ``"1250.00"``; arithmetic
uses :class:`decimal.Decimal`.  An amount may not have more fractional
digits than its currency's minor unit (two for EUR, none for JPY).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ledger.errors import InvalidInputError

# ISO 4217 minor units of the currencies partnerships commonly use.
MINOR_UNITS = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "GHS": 2, "HUF": 2, "IDR": 2, "INR": 2, "ISK": 0, "JPY": 0, "KES": 2,
    "KRW": 0, "KWD": 3, "MXN": 2, "NGN": 2, "NOK": 2, "NZD": 2, "PHP": 2, "PLN": 2, "RON": 2,
    "SEK": 2, "TND": 3, "TZS": 2, "UGX": 0, "USD": 2, "XOF": 0, "ZAR": 2,
}
# Plain decimal notation only: ASCII digits, no sign, exponent, spaces or '_'.
DECIMAL_RE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
MAX_INTEGER_DIGITS = 15  # amounts stay exact everywhere, even where a consumer reads JSON numbers as doubles


def check_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise InvalidInputError(f"unknown currency {code!r} (use an ISO 4217 code such as EUR)")
    return code


def parse_amount(text: object, currency: str) -> Decimal:
    """A non-negative amount as a decimal string with at most the minor-unit digits."""
    if isinstance(text, float):
        raise InvalidInputError(f"amount {text!r} is a float; give a decimal string such as \"1250.00\"")
    if not isinstance(text, str) or not DECIMAL_RE.match(text):
        raise InvalidInputError(f"amount {text!r} is not a decimal string such as \"1250.00\"")
    if len(text.split(".")[0]) > MAX_INTEGER_DIGITS:
        raise InvalidInputError(f"amount {text} is too large: at most {MAX_INTEGER_DIGITS} digits before the point")
    digits = len(text.split(".")[1]) if "." in text else 0
    if digits > MINOR_UNITS[check_currency(currency)]:
        raise InvalidInputError(
            f"amount {text} has {digits} decimal places; {currency} allows {MINOR_UNITS[currency]}"
        )
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise InvalidInputError(f"amount {text!r} is not a number") from None


def format_amount(value: Decimal, currency: str) -> str:
    """The canonical string of an amount: exactly the currency's minor-unit digits."""
    places = MINOR_UNITS[currency]
    quantum = Decimal(1).scaleb(-places)
    return str(value.quantize(quantum))


def parse_fraction(text: object, what: str = "fraction") -> Fraction:
    """A fraction written as ``"N/D"`` with 0 <= N <= D, D > 0."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,6}/[1-9][0-9]{0,5}", text):
        raise InvalidInputError(f"{what} {text!r} must be written as \"N/D\", e.g. \"1/2\"")
    numerator, denominator = (int(part) for part in text.split("/"))
    if numerator > denominator:
        raise InvalidInputError(f"{what} {text} is more than 1")
    return Fraction(numerator, denominator)


def parse_ratio(text: object) -> Fraction:
    """A matching ratio ``"N/D"`` (may exceed 1, e.g. "2/1")."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,6}/[1-9][0-9]{0,5}", text):
        raise InvalidInputError(f"ratio {text!r} must be written as \"N/D\", e.g. \"1/1\"")
    numerator, denominator = (int(part) for part in text.split("/"))
    return Fraction(numerator, denominator)
