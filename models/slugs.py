"""URL slugs from titles, transliterated from Belarusian or Russian Cyrillic."""

import re
import unicodedata

import cyrtranslit

from models.article import Language

# cyrtranslit's language codes: Belarusian is "by".
_CYRTRANSLIT = {Language.BE: "by", Language.RU: "ru", Language.EN: "ru"}
# Belarusian Latin letters whose plain-ASCII reading is a digraph, not the bare letter.
_DIGRAPHS = str.maketrans({"š": "sh", "č": "ch", "ž": "zh", "Š": "Sh", "Č": "Ch", "Ž": "Zh"})
# cyrtranslit marks the soft and hard signs with apostrophes; inside a word they are dropped.
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
MAX_SLUG_LENGTH = 80


def slugify(text: str, language: Language = Language.EN) -> str:
    """``"Лукашэнка: АДКБ"`` -> ``"lukashenka-adkb"``; empty when nothing is left."""
    latin = cyrtranslit.to_latin(text, _CYRTRANSLIT[language]).translate(_DIGRAPHS)
    latin = latin.translate(_APOSTROPHES)
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-")
