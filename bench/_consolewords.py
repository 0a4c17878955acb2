"""The words of the console world (``bench/_consoleworld.py``): provinces and
their regencies, prisons, goods with their names, weights and prices, the
marketplaces' own order statuses, and the shares statuses and runs are drawn by.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKETPLACES = ("shopee", "tokopedia", "bukalapak", "tiktok_shop")

#: Province, its short code, its regencies (the first also names prisons).
PROVINCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Kalimantan Barat", "KALBAR", ("Pontianak", "Sambas", "Sintang", "Ketapang")),
    ("Nusa Tenggara Timur", "NTT", ("Kupang", "Sikka", "Ende", "Sumba Timur")),
    ("Jawa Barat", "JABAR", ("Bandung", "Tasikmalaya", "Garut", "Cirebon")),
    ("Jawa Tengah", "JATENG", ("Semarang", "Jepara", "Surakarta", "Pekalongan")),
    ("Jawa Timur", "JATIM", ("Surabaya", "Tuban", "Madiun", "Banyuwangi")),
    ("DI Yogyakarta", "DIY", ("Yogyakarta", "Bantul", "Gunungkidul", "Sleman")),
    ("Bali", "BALI", ("Denpasar", "Gianyar", "Klungkung", "Karangasem")),
    ("Sumatera Barat", "SUMBAR", ("Padang", "Bukittinggi", "Tanah Datar", "Solok")),
    ("Sulawesi Selatan", "SULSEL", ("Makassar", "Wajo", "Toraja Utara", "Bone")),
    ("Sumatera Utara", "SUMUT", ("Medan", "Toba", "Pematangsiantar", "Karo")),
    ("Nusa Tenggara Barat", "NTB", ("Mataram", "Lombok Tengah", "Bima", "Sumbawa")),
    ("Kalimantan Timur", "KALTIM", ("Samarinda", "Balikpapan", "Kutai", "Berau")),
)
PRISONS = ("Lapas Kelas IIA", "Lapas Kelas I", "Rutan Kelas IIB", "LPP Kelas IIA")


@dataclass(frozen=True, slots=True)
class Goods:
    """A kind of goods: its category, SKU prefix, names, variants, weight and
    price ranges (grams, whole rupiah)."""

    category: str
    prefix: str
    names: tuple[str, ...]
    variants: tuple[str, ...]
    grams: tuple[int, int]
    rupiah: tuple[int, int]


GOODS = (
    Goods(
        "Kopi",
        "KOPI",
        ("Kopi Arabika", "Kopi Robusta", "Kopi Bubuk", "Kopi Liberika"),
        ("100 g", "250 g", "500 g", "1 kg"),
        (120, 1050),
        (25_000, 240_000),
    ),
    Goods(
        "Kain Tenun",
        "TENUN",
        ("Tenun Ikat", "Songket", "Selendang Tenun", "Sarung Tenun"),
        ("Merah Marun", "Biru Indigo", "Hitam", "Cokelat Alami", "Hijau Lumut"),
        (200, 900),
        (150_000, 2_500_000),
    ),
    Goods(
        "Batik",
        "BATIK",
        ("Batik Tulis", "Batik Cap", "Kemeja Batik", "Daster Batik"),
        ("S", "M", "L", "XL", "Motif Parang", "Motif Kawung"),
        (180, 450),
        (85_000, 1_200_000),
    ),
    Goods(
        "Kerajinan Rotan",
        "ROTAN",
        ("Kursi Rotan", "Keranjang Rotan", "Tas Rotan", "Tudung Saji Rotan"),
        ("Kecil", "Sedang", "Besar", "Natural", "Cokelat Tua"),
        (400, 9000),
        (45_000, 1_750_000),
    ),
    Goods(
        "Kerajinan Kayu",
        "KAYU",
        ("Talenan Kayu Jati", "Ukiran Kayu", "Rak Dinding Kayu", "Nampan Kayu"),
        ("Kecil", "Sedang", "Besar", "Finishing Natural", "Finishing Gelap"),
        (300, 7000),
        (40_000, 950_000),
    ),
    Goods(
        "Makanan Ringan",
        "CEMILAN",
        ("Keripik Pisang", "Amplang Ikan", "Kerupuk Kulit", "Dodol Durian"),
        ("100 g", "200 g", "250 g", "500 g", "Pedas", "Original"),
        (110, 520),
        (12_000, 85_000),
    ),
    Goods(
        "Anyaman",
        "ANYAM",
        ("Tikar Pandan", "Tas Anyaman Purun", "Topi Anyaman Bambu", "Bakul Bambu"),
        ("Kecil", "Sedang", "Besar", "Motif Dayak", "Polos"),
        (150, 2500),
        (20_000, 450_000),
    ),
    Goods(
        "Perawatan Tubuh",
        "SABUN",
        ("Sabun Sereh", "Minyak Kelapa Murni", "Lulur Tradisional", "Minyak Kemiri"),
        ("100 ml", "250 ml", "100 g", "Isi 3"),
        (110, 400),
        (15_000, 120_000),
    ),
    Goods(
        "Madu",
        "MADU",
        ("Madu Hutan", "Madu Kelulut", "Madu Klanceng"),
        ("250 ml", "500 ml", "1 liter"),
        (350, 1500),
        (45_000, 350_000),
    ),
    Goods(
        "Aksesori",
        "AKS",
        ("Gelang Manik", "Kalung Manik", "Bros Tenun", "Dompet Tenun"),
        ("Merah", "Kuning", "Biru", "Motif Etnik", "Satu Set"),
        (30, 250),
        (15_000, 275_000),
    ),
)
IKM_FORMS = ("UD", "CV", "KUB", "IKM", "Koperasi")
IKM_WORDS = ("Maju Jaya", "Sentosa", "Karya Mandiri", "Berkah", "Lestari", "Harapan")
OFFICERS = (
    "officer:ani",
    "officer:budi",
    "officer:citra",
    "officer:dewi",
    "officer:eko",
)
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
LISTING_ERRORS = {
    "shopee": "shopee: error_param: harga di luar batas yang diizinkan kategori",
    "tokopedia": "tokopedia: ERR_INVALID_CATEGORY: kategori tidak ditemukan",
    "bukalapak": "bukalapak: 422 gambar produk tidak dapat diunduh",
    "tiktok_shop": "tiktok_shop: 12052048 judul produk mengandung kata terlarang",
}
#: Each marketplace's own word for each status.
RAW_STATUS: dict[str, dict[str, str]] = {
    "shopee": {
        "pending_payment": "UNPAID",
        "paid": "READY_TO_SHIP",
        "ready_to_ship": "PROCESSED",
        "shipped": "SHIPPED",
        "delivered": "TO_CONFIRM_RECEIVE",
        "completed": "COMPLETED",
        "cancelled": "CANCELLED",
        "returned": "TO_RETURN",
    },
    "tokopedia": {
        "pending_payment": "100",
        "paid": "220",
        "ready_to_ship": "400",
        "shipped": "500",
        "delivered": "600",
        "completed": "700",
        "cancelled": "0",
        "returned": "800",
    },
    "bukalapak": {
        "pending_payment": "pending",
        "paid": "paid",
        "ready_to_ship": "accepted",
        "shipped": "delivered",
        "delivered": "received",
        "completed": "remitted",
        "cancelled": "cancelled",
        "returned": "refunded",
    },
    "tiktok_shop": {
        "pending_payment": "UNPAID",
        "paid": "AWAITING_SHIPMENT",
        "ready_to_ship": "AWAITING_COLLECTION",
        "shipped": "IN_TRANSIT",
        "delivered": "DELIVERED",
        "completed": "COMPLETED",
        "cancelled": "CANCELLED",
        "returned": "RETURNED",
    },
}
#: Status shares of orders placed in the last fortnight, and of older ones.
RECENT_STATUSES = (
    ("pending_payment", 8),
    ("paid", 20),
    ("ready_to_ship", 20),
    ("shipped", 20),
    ("delivered", 15),
    ("completed", 7),
    ("cancelled", 10),
)
OLD_STATUSES = (("completed", 84), ("cancelled", 11), ("returned", 3), ("delivered", 2))
RUN_KINDS = (("publish", 15), ("stock", 35), ("orders", 45), ("reconcile", 5))
RUN_OUTCOMES = (("succeeded", 90), ("partial", 6), ("failed", 3), ("interrupted", 1))
