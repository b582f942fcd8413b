"""Identifiers of a customer that carry their own check."""
from __future__ import annotations

import re

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def nip_is_valid(digits: str) -> bool:
    """Whether `digits` is a Polish tax number (NIP): ten digits whose weighted sum modulo 11 equals
    the last digit (Rozporządzenie Ministra Finansów w sprawie nadawania NIP, § 3)."""
    if not re.fullmatch(r"\d{10}", digits):
        return False
    checksum = sum(weight * int(digit) for weight, digit in zip(NIP_WEIGHTS, digits)) % 11
    return checksum == int(digits[9])  # a checksum of 10 matches no digit: never a valid NIP
