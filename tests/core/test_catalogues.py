"""Every message the code and the templates show is in both catalogues, and translated into
Russian: a text added without its entry would reach a person as the English msgid (or, in
the English catalogue, be lost at the next extraction).

The messages are extracted as ``make messages`` extracts them: Babel's own extractor, with
the method map of ``babel.cfg`` and the keywords of the Makefile (``_l``, ``lazy_gettext``,
``N_`` besides Babel's defaults: ``_``, ``gettext``, ``ngettext``, ...). An obsolete entry
(``#~``) is not in a catalogue; a fuzzy Russian entry is not used when compiled, so it
counts as untranslated.
"""
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {locale: ROOT / "core" / "translations" / locale / "LC_MESSAGES" / "messages.po"
              for locale in ("ru", "en")}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2)}


def extracted() -> dict:
    """{msgid: ["path:line", ...]} of every message the sources mark (a plural's key is its
    singular; the catalogue holds both forms under it)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(ROOT / "babel.cfg"))
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def catalogue(locale):
    with open(CATALOGUES[locale], "rb") as fileobj:
        return read_po(fileobj, locale=locale)


def _untranslated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return message.fuzzy or not all(strings)


def test_the_extraction_finds_the_messages_of_code_and_templates():
    """The check below is only as good as the extraction: it must see Python and Jinja."""
    found = extracted()
    assert "Recompute statistics" in found and any(".html:" in where for where in found["Recompute statistics"])
    assert any(".py:" in where for where in found["The job was started again."])
    assert len(found) > 500


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_every_message_is_in_the_catalogue(locale):
    found = extracted()
    present = catalogue(locale)
    missing = {msgid: where for msgid, where in found.items() if present.get(msgid) is None}
    assert not missing, (
        f"{len(missing)} message(s) missing from {CATALOGUES[locale].relative_to(ROOT)}:\n"
        + "\n".join(f"  {msgid!r}  ({', '.join(where[:3])})" for msgid, where in sorted(missing.items())))


def test_every_message_has_its_russian_translation():
    found = extracted()
    ru = catalogue("ru")
    empty = {msgid: where for msgid, where in found.items()
             if ru.get(msgid) is not None and _untranslated(ru.get(msgid))}
    assert not empty, (
        f"{len(empty)} message(s) with no Russian translation (empty or fuzzy msgstr):\n"
        + "\n".join(f"  {msgid!r}  ({', '.join(where[:3])})" for msgid, where in sorted(empty.items())))
