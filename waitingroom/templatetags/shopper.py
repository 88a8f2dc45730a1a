"""`{% shopper_words %}`: the scripts' words in the page's language, as JSON
(waitingroom/words.py); the scripts read them with FluxWords (words.js)."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from waitingroom.words import script_words

register = template.Library()


@register.simple_tag
def shopper_words() -> SafeString:
    return json_script(script_words(), "flux-words")
