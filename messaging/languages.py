"""Template languages: two-letter ISO 639-1 codes ("en", "mi", "fr").

A blank language is the tenant's default wording, the templates every tenant starts with.
"""

import pycountry
from django.core.exceptions import ValidationError

# pycountry spells names in plain ASCII; these are spelt as their speakers write them.
_NAMES = {"mi": "Māori"}

LANGUAGES: dict[str, str] = dict(
    sorted(
        (
            (language.alpha_2, _NAMES.get(language.alpha_2, language.name))
            for language in pycountry.languages
            if hasattr(language, "alpha_2")
        ),
        key=lambda item: item[1],
    )
)
DEFAULT_LABEL = "Default language"


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code) if code else DEFAULT_LABEL


def language_choices(codes=None) -> list[tuple[str, str]]:
    """("", "Default language") first, then the given codes (else every language) by name."""
    known = LANGUAGES if codes is None else {c: language_name(c) for c in codes if c}
    return [("", DEFAULT_LABEL), *sorted(known.items(), key=lambda item: item[1])]


def language_validate(value: str) -> None:
    if value and value not in LANGUAGES:
        raise ValidationError(
            f"“{value}” is not a two-letter ISO 639-1 language code (e.g. en, mi, fr)."
        )
