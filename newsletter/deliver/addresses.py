"""Subscriber addresses and names checked before they can reach a mail header."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

__all__ = ["AddressProblem", "clean_name", "normalise_address"]

# C0/C1 controls, DEL and Unicode line separators: in a header they could start a new one.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_NAME = 200


class AddressProblem(ValueError):
    """Why an address or a name was refused, in words for the editor."""


def normalise_address(value: str) -> str:
    """One mailbox, ASCII, its domain lower-cased (IDNA for international domains).

    Refuses control characters (CR/LF would inject headers), display names, lists of
    several addresses and local parts that need SMTPUTF8.
    """
    if _CONTROLS.search(value):
        raise AddressProblem("the address contains a line break or a control character")
    value = value.strip()
    if not value:
        raise AddressProblem("no address")
    if re.search(r"[,;\s]", value):
        raise AddressProblem(f"'{value}' is not one address (one address per row)")
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise AddressProblem(f"'{value}' is not a valid address: {exc}") from None
    return checked.ascii_email or checked.normalized


def clean_name(value: str) -> str:
    """A display name with no control characters, at most MAX_NAME characters."""
    if _CONTROLS.search(value):
        raise AddressProblem("the name contains a line break or a control character")
    value = " ".join(value.split())
    if len(value) > MAX_NAME:
        raise AddressProblem(f"the name is longer than {MAX_NAME} characters")
    return value
