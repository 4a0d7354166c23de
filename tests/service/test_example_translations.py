"""Every built-in example has a Brazilian Portuguese title and description (app.examples.TRANSLATIONS)."""

from __future__ import annotations

from app.examples import EXAMPLES, TRANSLATIONS


def test_every_example_has_a_portuguese_title_and_description():
    ids = {example.id for example in EXAMPLES}
    assert set(TRANSLATIONS) == ids
    for example in EXAMPLES:
        pt = TRANSLATIONS[example.id]["pt-BR"]
        assert set(pt) == {"title", "description"}, example.id
        assert pt["title"].strip() and pt["description"].strip(), example.id
        assert pt["title"] != example.title or "Σ" in pt["title"], example.id
        assert pt["description"] != example.description, example.id
