"""VERP addresses: encode, decode, refuse forgeries (no database)."""

from ..tools import verp

SECRET = "5b0c2a6e-secret"


def test_round_trip():
    address = verp.encode("bounce@example.com", 4242, SECRET)
    assert address.startswith("bounce+mmd4242-")
    assert address.endswith("@example.com")
    assert verp.decode(address, SECRET) == 4242
    assert verp.decode(f"<{address.upper()}>", SECRET) == 4242, "case and brackets"
    assert verp.base_address(address) == "bounce@example.com"


def test_forged_or_foreign_addresses_decode_to_none():
    address = verp.encode("bounce@example.com", 7, SECRET)
    assert verp.decode(address, "another-secret") is None
    forged = address.replace("mmd7-", "mmd8-")
    assert verp.decode(forged, SECRET) is None, "the signature is bound to the trace id"
    for other in ("bounce@example.com", "bounce+mmd7@example.com", "", None, "x" * 5000):
        assert verp.decode(other, SECRET) is None
    assert verp.decode(address, SECRET, bounce_addresses=["other@example.com"]) is None
    assert verp.decode(address, SECRET, bounce_addresses=["Bounce@Example.com"]) == 7


def test_no_address_is_left_alone():
    assert verp.encode("", 1, SECRET) == ""
    assert verp.encode("not-an-address", 1, SECRET) == "not-an-address"
