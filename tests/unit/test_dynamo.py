"""The service's DynamoDB attribute-value codec, checked against boto3's own (a test dependency)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from dashboard.storage.dynamo import from_item, to_item

VALUES = {
    "text": "Tech watchlist",
    "unicode": "café ☕",
    "zero": 0,
    "count": 2,
    "negative": -17,
    "big": 12345678901234567890,
    "decimal": Decimal("0.8125"),
    "flag": True,
    "off": False,
    "nothing": None,
    "tickers": ["AAPL", "MSFT"],
    "empty_list": [],
    "nested": {"inner": {"score": Decimal("-0.5"), "tags": ["a"]}},
    "mixed_list": ["a", 1, None, {"k": "v"}],
    "blob": b"\x00\x01",
    "tag_set": {"b", "a"},
    "number_set": {3, 1, 2},
}


def _sorted_sets(attribute: object) -> object:
    """boto3 writes sets in iteration order; the codec sorts them. Compare as sorted."""
    if isinstance(attribute, dict):
        return {
            kind: sorted(raw) if kind in {"SS", "NS", "BS"} else _sorted_sets(raw)
            for kind, raw in attribute.items()
        }
    if isinstance(attribute, list):
        return [_sorted_sets(element) for element in attribute]
    return attribute


def test_to_item_writes_what_boto3s_serializer_writes() -> None:
    serializer = TypeSerializer()
    expected = {key: serializer.serialize(value) for key, value in VALUES.items()}

    assert _sorted_sets(to_item(VALUES)) == _sorted_sets(expected)


def test_from_item_reads_what_boto3_reads_as_plain_values() -> None:
    item = TypeSerializer().serialize(VALUES)["M"]
    boto3_read = {key: TypeDeserializer().deserialize(value) for key, value in item.items()}

    plain = from_item(item)

    assert plain["decimal"] == pytest.approx(float(boto3_read["decimal"]))
    assert plain["big"] == boto3_read["big"] == 12345678901234567890
    assert plain["nested"] == {"inner": {"score": -0.5, "tags": ["a"]}}
    assert plain["tag_set"] == ["a", "b"]
    assert plain["number_set"] == [1, 2, 3]
    assert plain["blob"] == b"\x00\x01"
    assert plain["mixed_list"] == ["a", 1, None, {"k": "v"}]
    assert {key: plain[key] for key in ("text", "unicode", "count", "flag", "nothing")} == {
        "text": "Tech watchlist",
        "unicode": "café ☕",
        "count": 2,
        "flag": True,
        "nothing": None,
    }


def test_floats_are_stored_as_numbers_and_read_back() -> None:
    assert to_item({"score": 0.25}) == {"score": {"N": "0.25"}}
    assert from_item(to_item({"score": 0.25, "whole": 3.0})) == {"score": 0.25, "whole": 3}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), set(), {1, "a"}])
def test_values_dynamodb_cannot_store_are_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^DynamoDB (cannot store|sets hold)"):
        to_item({"value": value})
