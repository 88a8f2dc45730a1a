"""The shopper pages' translations are complete (issue 21): every message of each
locale/<code>/LC_MESSAGES/django.po is translated and none is fuzzy, every word the
pages' scripts show has its translation, and settings offer exactly English and the
languages there are files for. (tests/browser/test_languages.py drives the pages.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from waitingroom.words import script_words

LOCALES = sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"))
# Words that are the same in a translation as in English.
SAME_IN = {"de": {"Order %(order)s: %(quantity)s × %(product)s, %(total)s %(currency)s"}}


def test_there_is_a_language_besides_english_and_settings_offer_each() -> None:
    codes = [po.parent.parent.name for po in LOCALES]
    assert codes, "no translation in locale/"
    assert [code for code, _name in settings.LANGUAGES] == ["en", *codes]


@pytest.mark.parametrize("po", LOCALES, ids=lambda po: po.parent.parent.name)
def test_every_message_is_translated(po: Path) -> None:
    checked = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    statistics = checked.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ translated messages\.", statistics), statistics  # no fuzzy, none untranslated


@pytest.mark.parametrize("po", LOCALES, ids=lambda po: po.parent.parent.name)
def test_every_script_word_is_translated(po: Path) -> None:
    code = po.parent.parent.name
    english = script_words()
    with translation.override(code):
        translated = script_words()
    same = [
        key
        for key, words in english.items()
        if translated[key] == words and words not in SAME_IN.get(code, ())
    ]
    assert same == [], f"not translated into {code} (is its .mo compiled? make messages)"
