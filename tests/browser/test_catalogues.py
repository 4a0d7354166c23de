"""The browser's string catalogues (static/js/i18n/*.js), read as text: every language has every key,
and every server message key (app/teaching/messages.py) is there with the server's own text.

No browser needed: the catalogues are `"key": value,` lines, parsed with a regular expression.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.teaching.messages import MESSAGES

I18N = Path(__file__).resolve().parents[2] / "static" / "js" / "i18n"
LANGUAGES = {"en": "en.js", "pt-BR": "pt-BR.js"}
ENTRY = re.compile(r'^\s*("(?:[^"\\]|\\.)+")\s*:\s*(.*?)\s*$', re.M)


def _catalogue(lang: str) -> dict[str, str]:
    """key -> the value's source text (a JSON string literal, or a function's source)."""
    text = (I18N / LANGUAGES[lang]).read_text(encoding="utf-8")
    entries = {}
    for match in ENTRY.finditer(text):
        key = json.loads(match.group(1))
        assert key not in entries, f"{LANGUAGES[lang]}: key {key!r} twice"
        entries[key] = match.group(2).rstrip(",")
    return entries


def _string(value: str) -> str | None:
    try:
        return json.loads(value)
    except ValueError:
        return None


def test_both_catalogues_have_the_same_keys():
    en, pt = _catalogue("en"), _catalogue("pt-BR")
    assert len(en) > 100
    assert sorted(set(en) - set(pt)) == [], "keys missing in pt-BR.js"
    assert sorted(set(pt) - set(en)) == [], "keys missing in en.js"
    assert _string(en["lang"]) == "en" and _string(pt["lang"]) == "pt-BR"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_server_message_key_is_in_the_catalogue_with_its_text(lang):
    catalogue = _catalogue(lang)
    missing = [key for key in MESSAGES if f"msg.{key}" not in catalogue]
    assert missing == [], f"server message keys missing in {LANGUAGES[lang]}"
    for key, texts in MESSAGES.items():
        assert _string(catalogue[f"msg.{key}"]) == texts[lang], f"msg.{key} differs from app/teaching/messages.py"


def test_the_page_names_only_keys_that_exist():
    en = _catalogue("en")
    root = Path(__file__).resolve().parents[2]
    used = set()
    for path in [root / "templates" / "index.html", *(root / "static" / "js").glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'data-i18n(?:-title)?="([\w.]+)"', text))
        used |= set(re.findall(r'\bt\("([\w.]+)"', text))
    assert sorted(used - set(en)) == []
