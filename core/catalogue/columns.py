"""The columns and sheets of a catalogue file, with the Indonesian names accepted.

Officers keep their own spreadsheets: sheets called ``Produk`` and ``Produsen``,
columns called ``nama``, ``harga`` or ``Berat (gram)``. A header cell is normalised
(lower case, runs of spaces and punctuation to ``_``) and then looked up in the alias
table of its sheet's kind, so ``Harga (Rp)`` reads as ``price``. Exports always use the
canonical English names. The README's "Catalogue spreadsheets" section lists the same
table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

PRODUCTS: Final = "products"
PRODUCERS: Final = "producers"
PRODUCT_SHEET: Final = PRODUCTS
PRODUCER_SHEET: Final = PRODUCERS

PRODUCT_REQUIRED: Final = ("sku", "producer_code", "name", "price", "weight_grams")
PRODUCT_OPTIONAL: Final = (
    "description",
    "category",
    "length_cm",
    "width_cm",
    "height_cm",
    "image_urls",
    "condition",
    "status",
    "provenance",
    "stock",
)
PRODUCT_COLUMNS: Final = PRODUCT_REQUIRED + PRODUCT_OPTIONAL
PRODUCER_REQUIRED: Final = ("producer_code", "name", "kind", "province", "regency")
PRODUCER_OPTIONAL: Final = ("sentra", "institution", "business_id")
PRODUCER_COLUMNS: Final = PRODUCER_REQUIRED + PRODUCER_OPTIONAL

#: Other names accepted for each products column (after normalisation).
PRODUCT_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "sku": ("kode_produk", "kode_barang"),
    "producer_code": ("kode_produsen", "kode_ikm"),
    "name": ("nama", "nama_produk", "nama_barang"),
    "price": ("harga", "harga_rp", "harga_jual"),
    "weight_grams": ("berat", "berat_gram", "berat_gr", "berat_g"),
    "description": ("deskripsi", "keterangan"),
    "category": ("kategori",),
    "length_cm": ("panjang", "panjang_cm"),
    "width_cm": ("lebar", "lebar_cm"),
    "height_cm": ("tinggi", "tinggi_cm"),
    "image_urls": ("gambar", "foto", "url_gambar", "url_foto"),
    "condition": ("kondisi",),
    "status": (),
    "provenance": ("asal_usul", "cerita_produk"),
    "stock": ("stok", "stok_awal"),
}
#: Other names accepted for each producers column (after normalisation).
PRODUCER_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "producer_code": ("kode_produsen", "kode_ikm"),
    "name": ("nama", "nama_produsen", "nama_usaha"),
    "kind": ("jenis", "jenis_produsen"),
    "province": ("provinsi",),
    "regency": ("kabupaten", "kabupaten_kota", "kota"),
    "sentra": ("sentra_ikm",),
    "institution": ("institusi", "lembaga"),
    "business_id": ("nib",),
}
#: Sheet names accepted in a workbook (after normalisation), by kind.
SHEET_NAMES: Final[Mapping[str, str]] = {
    "products": PRODUCTS,
    "produk": PRODUCTS,
    "producers": PRODUCERS,
    "produsen": PRODUCERS,
}
#: How many non-blank rows at the top of a sheet are searched for the header.
HEADER_SEARCH_ROWS: Final = 10


def _lookup(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    table = {name: name for name in aliases}
    for name, others in aliases.items():
        table.update(dict.fromkeys(others, name))
    return table


_CANONICAL: Final[Mapping[str, Mapping[str, str]]] = {
    PRODUCTS: _lookup(PRODUCT_ALIASES),
    PRODUCERS: _lookup(PRODUCER_ALIASES),
}
_REQUIRED: Final[Mapping[str, tuple[str, ...]]] = {
    PRODUCTS: PRODUCT_REQUIRED,
    PRODUCERS: PRODUCER_REQUIRED,
}
_KEYS: Final = frozenset({"sku", "producer_code"})
_SEPARATORS = re.compile(r"[^\w]+|_+")


def normalise_header(name: object) -> str:
    """``" Weight Grams "`` → ``"weight_grams"``; ``"Harga (Rp)"`` → ``"harga_rp"``."""
    if name is None:
        return ""
    return _SEPARATORS.sub("_", str(name).strip().lower()).strip("_")


def canonical_column(name: str, kind: str) -> str | None:
    """The canonical column a normalised header name stands for in a ``kind`` sheet."""
    return _CANONICAL[kind].get(name)


def sheet_kind_named(title: str) -> str | None:
    """``"Produk"`` → ``"products"``; ``None`` for a sheet name of neither kind."""
    return SHEET_NAMES.get(normalise_header(title))


def names_key_column(cells: Sequence[object], kind: str | None = None) -> bool:
    """True when ``cells`` name a ``sku`` or ``producer_code`` column (of ``kind`` only,
    if given): a header that lacks some required column, rather than a title."""
    for candidate in (kind,) if kind else (PRODUCTS, PRODUCERS):
        table = _CANONICAL[candidate]
        if any(table.get(normalise_header(c)) in _KEYS for c in cells):
            return True
    return False


def header_kind(cells: Sequence[object], kind: str | None = None) -> str | None:
    """The kind whose required columns all appear in ``cells`` (only ``kind`` if
    given), or ``None``: how the header row is told from a title above it."""
    names = [normalise_header(cell) for cell in cells]
    for candidate in (kind,) if kind else (PRODUCTS, PRODUCERS):
        table = _CANONICAL[candidate]
        found = {table.get(name) for name in names}
        if all(column in found for column in _REQUIRED[candidate]):
            return candidate
    return None
