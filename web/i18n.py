"""Bahasa Indonesia (the default) and English for the console.

Messages are written in English in the code and templates (``_("Products")``); the
Indonesian translations live in gettext catalogues, one ``.po`` file per page group
under ``web/locales/id/``, read with Babel at start-up (no compile step). A message
with no translation is shown in English. Numbers, rupiah and dates are formatted
with Babel for the user's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

#: Languages the console speaks; the first is the default.
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]
_LOCALES = {"id": "id_ID", "en": "en_GB"}
_CATALOGUES = Path(__file__).parent / "locales"
#: Dates are shown in western Indonesian time, where the ministry works.
SHOWN_ZONE = ZoneInfo("Asia/Jakarta")

Translate = Callable[[str], str]


@cache
def messages(language: str) -> Mapping[str, str]:
    """msgid → translation for ``language`` (empty for English)."""
    folder = _CATALOGUES / language
    found: dict[str, str] = {}
    if language == "en" or not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as stream:
            catalogue = read_po(stream, locale=_LOCALES[language])
        for message in catalogue:
            if message.id and isinstance(message.id, str) and message.string:
                found[message.id] = str(message.string)
    return found


def translator(language: str) -> Translate:
    """``_`` for ``language``: the translation, or the English text."""
    table = messages(language if language in LANGUAGES else DEFAULT_LANGUAGE)

    def translate(text: str) -> str:
        return table.get(text, text)

    return translate


def rupiah(amount: int | None, language: str) -> str:
    """``Rp 15.000`` (whole rupiah, no decimals); an em dash for none."""
    if amount is None:
        return "—"
    return "Rp " + format_decimal(amount, locale=_LOCALES.get(language, "id_ID"))


def number(value: int | float | None, language: str) -> str:
    """A number grouped for the locale (``12.345`` in Indonesian)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=_LOCALES.get(language, "id_ID"))


def when(value: datetime | None, language: str) -> str:
    """A moment in Jakarta time, medium length (``7 Des 2026 21.05``)."""
    if value is None:
        return "—"
    return format_datetime(
        value.astimezone(SHOWN_ZONE),
        "d MMM yyyy HH:mm",
        locale=_LOCALES.get(language, "id_ID"),
    )
