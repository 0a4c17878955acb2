"""Encoded JSON of products and transactions, written directly and kept while unchanged.

List pages are mostly rendering. :func:`product_fragment` and
:func:`transaction_fragment` write the compact JSON of one record straight from its
fields: byte for byte what ``fragments.encode`` makes of
:func:`~simulators.bukalapak.wire.product_json` and
:func:`~simulators.bukalapak.wire.transaction_json` (those stay the readable
shape, and tests hold the two equal), at a third of the cost, so that a page of records
never seen before is cheap too. Strings go through the JSON encoder's own string
escaping; numbers are the records' integers.

:class:`~simulators.kit.fragments.FragmentCache` keeps those fragments like
:class:`~simulators.kit.fragments.FragmentCache` keeps what it encodes: per record,
with the signature of what the fragment shows, the least recently used evicted.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring

from simulators.bukalapak.model import (
    MASKED_PHONE,
    Line,
    Product,
    Sku,
    Transaction,
    iso_wib,
)

#: A JSON string literal, escaped as ``json.dumps(…, ensure_ascii=False)`` does.
_text = encode_basestring
_encode_object = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def sku_text(sku: Sku) -> str:
    """A SKU as :func:`~simulators.bukalapak.wire.sku_json` shows it, as JSON."""
    return (
        f'{{"id":{sku.id},"product_id":{_text(sku.product_id)},'
        f'"sku_name":{_text(sku.sku_name)},"variant_name":{_text(sku.variant_name)},'
        f'"price":{sku.price},"stock":{sku.stock},"state":{_text(sku.state)},'
        f'"updated_at":"{iso_wib(sku.updated_at)}"}}'
    )


def product_fragment(product: Product, skus: list[Sku], store_name: str) -> bytes:
    """A product with its SKUs, as encoded ``product_json``."""
    variants = f"[{','.join([sku_text(sku) for sku in skus])}]"
    images = ",".join([f'{{"id":{image}}}' for image in product.images])
    price, stock, active = skus[0].price if skus else 0, 0, False
    for sku in skus:  # the lowest price, the total stock, any SKU active: one pass
        if sku.price < price:
            price = sku.price
        stock += sku.stock
        active = active or sku.state == "active"
    sku_name = _text(skus[0].sku_name) if skus else '""'
    return (
        f'{{"id":{_text(product.id)},"name":{_text(product.name)},'
        f'"category":{{"id":{product.category_id}}},'
        f'"condition":{_text(product.condition)},'
        f'"description":{_text(product.description)},"weight":{product.weight},'
        f'"images":[{images}],"price":{price},"stock":{stock},"sku_name":{sku_name},'
        f'"state":"{"active" if active else "inactive"}",'
        f'"store":{{"id":{product.store_id},"name":{_text(store_name)}}},'
        f'"variants":{variants},"skus":{variants},'
        f'"created_at":"{iso_wib(product.created_at)}",'
        f'"updated_at":"{iso_wib(product.updated_at)}"}}'
    ).encode()


def _object_text(mapping: dict[str, str]) -> str:
    """A flat object of strings as JSON (anything else through the encoder)."""
    try:
        pairs = [f"{_text(key)}:{_text(value)}" for key, value in mapping.items()]
    except TypeError:  # not a string: let the encoder say how it shows
        return _encode_object(mapping)
    return f"{{{','.join(pairs)}}}"


def _line_text(line: Line) -> str:
    return (
        f'{{"quantity":{line.quantity},"price":{line.price},'
        f'"total_price":{line.price * line.quantity},'
        f'"stuff":{{"id":{line.sku_id},"sku_name":{_text(line.sku_name)},'
        f'"product":{{"id":{_text(line.product_id)},"name":{_text(line.name)},'
        f'"weight":{line.weight}}}}}}}'
    )


def transaction_fragment(txn: Transaction, *, mask_phone: bool) -> bytes:
    """A transaction, as encoded ``transaction_json``."""
    consignee = txn.consignee
    if mask_phone or txn.phone_masked:
        consignee = {**consignee, "phone": MASKED_PHONE}
    items_total, lines = 0, []
    for line in txn.lines:  # items_total() and the items in one pass
        items_total += line.price * line.quantity
        lines.append(_line_text(line))
    items = ",".join(lines)
    return (
        f'{{"id":{txn.id},"transaction_id":{_text(txn.transaction_id)},'
        f'"state":{_text(txn.state)},"created_at":"{iso_wib(txn.created_at)}",'
        f'"updated_at":"{iso_wib(txn.updated_at)}",'
        f'"state_changed_at":"{iso_wib(txn.state_changed_at)}",'
        f'"store":{{"id":{txn.store_id}}},'
        f'"buyer":{{"name":{_text(txn.buyer_name)},'
        f'"username":{_text(txn.buyer_username)}}},'
        f'"amount":{{"seller":{{"total":{items_total + txn.delivery_fee},'
        f'"details":{{"items":{items_total},"delivery":{txn.delivery_fee},'
        f'"reductions":[]}}}}}},'
        f'"delivery":{{"requested_carrier":{_text(txn.requested_carrier)},'
        f'"carrier":{_text(txn.carrier)},'
        f'"tracking_number":{_text(txn.tracking_number)},'
        f'"consignee":{_object_text(consignee)}}},'
        f'"options":{{"buyer_note":{_text(txn.buyer_note)}}},"items":[{items}]}}'
    ).encode()
