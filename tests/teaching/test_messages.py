"""Every message key has English and Brazilian Portuguese text with the same parameters, and every
key the code can send is in the table."""

from __future__ import annotations

import re
import string
from pathlib import Path

from app.teaching import hints
from app.teaching.messages import LANGUAGES, MESSAGES, text

ROOT = Path(__file__).resolve().parents[2]


def _params(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_has_both_languages_with_the_same_parameters():
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[language].strip() for language in LANGUAGES), key
        assert _params(texts["en"]) == _params(texts["pt-BR"]), key


def test_every_key_the_code_sends_is_listed():
    sources = [*(ROOT / "app" / "teaching").glob("*.py"), *(ROOT / "app" / "engine").glob("*.py"),
               *(ROOT / "app" / "service").glob("*.py")]
    used = set()
    for path in sources:
        used |= set(re.findall(r'key="([a-z_]+)"', path.read_text()))
    used |= {key for _, key in hints._ERROR_HINTS} | {key for _, key in hints._WARNING_KEYS}
    used.add("gradcheck_sentence")
    assert used - set(MESSAGES) == set()
    assert len(used) >= 20


def test_gradcheck_sentence_in_both_languages():
    params = {"leaf": "w", "eps": "0.001", "root": "J", "delta": "-0.028"}
    assert text("gradcheck_sentence", "en", **params) == "If w grows by 0.001, J grows by about -0.028."
    assert text("gradcheck_sentence", "pt-BR", **params) == "Se w aumentar 0.001, J aumenta cerca de -0.028."
