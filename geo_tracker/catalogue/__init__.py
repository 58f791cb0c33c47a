"""Every message a user reads about an error, by key, in Chinese and English.

A raise names its message by key with the values it needs::

    raise NotFoundError(msg("patch.not_found", ref=ref))

``str(error)`` is the English text with the command-line hint (what scripts, logs
and the CLI in English show); ``error.text("zh", "web")`` is the Chinese text with
the hint for a page. The entries live in one module per area of the code
(``imports.py``, ``tracking.py`` …), each a dict ``key -> Entry``; a key is written
``area.what`` so it is found from the message alone.

A hint says what to do next in the words of the interface that shows it: an option
on the CLI, a page or button on the web, a parameter in the API. An interface
without its own hint shows the ``any`` one, or none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

LANGUAGES = ("zh", "en")
INTERFACES = ("cli", "web", "api")


@dataclass(frozen=True)
class Entry:
    """One message: its Chinese and English text, and hints by interface (``cli``, ``web``,
    ``api`` or ``any``), each a (zh, en) pair. Texts are ``str.format`` templates."""

    zh: str
    en: str
    hints: dict[str, tuple[str, str]] = field(default_factory=dict)


class Message:
    """A catalogue key with its values; rendered in a language for an interface on demand."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params):
        if key not in entries():
            raise KeyError(f"no message {key!r} in geo_tracker.catalogue")
        self.key, self.params = key, params

    def text(self, lang: str = "en", interface: str = "cli") -> str:
        entry = entries()[self.key]
        lang = lang if lang in LANGUAGES else "en"
        values = {k: _rendered(v, lang, interface) for k, v in self.params.items()}
        main = getattr(entry, lang).format(**values)
        hint = entry.hints.get(interface) or entry.hints.get("any")
        if not hint:
            return main
        hint_text = hint[LANGUAGES.index(lang)].format(**values)
        return f"{main}：{hint_text}" if lang == "zh" else f"{main}: {hint_text}"

    def __str__(self) -> str:
        return self.text("en", "cli")

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {self.params!r})"


msg = Message


def _rendered(value, lang: str, interface: str):
    """A parameter in ``lang``: a Message, Note or Listing renders itself; anything else stays."""
    return value.text(lang, interface) if isinstance(value, (Message, Note, Listing)) else value


class Note(str):
    """A catalogue message that is also its English text: per-feature problems and warnings of an
    import report, which code compares, joins and dedups as strings and JSON shows in English,
    while a page renders them in Chinese with ``note.text("zh", "web")``."""

    def __new__(cls, key: str, /, **params):
        message = Message(key, **params)
        self = super().__new__(cls, message.text("en", "cli"))
        self.message = message
        return self

    def text(self, lang: str = "en", interface: str = "cli") -> str:
        return self.message.text(lang, interface)

    def __reduce__(self):
        return _note, (self.message.key, self.message.params)


def _note(key: str, params: dict) -> Note:
    return Note(key, **params)


note = Note


class Listing:
    """Several messages (or plain values) shown as one list: "；" between them in Chinese, "; " in English."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)

    def text(self, lang: str = "en", interface: str = "cli") -> str:
        return ("；" if lang == "zh" else "; ").join(str(_rendered(i, lang, interface)) for i in self.items)

    def __str__(self) -> str:
        return self.text()


def in_language(value, lang: str = "en", interface: str = "cli"):
    """``value`` (a dict, list, Note or Message, nested) with every message rendered in ``lang``:
    what a report's ``to_dict(lang)`` returns, JSON-ready."""
    if isinstance(value, dict):
        return {k: in_language(v, lang, interface) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [in_language(v, lang, interface) for v in value]
    if isinstance(value, (Message, Note, Listing)):
        return value.text(lang, interface)
    return value


def entries() -> dict[str, Entry]:
    """Every entry of every area, loaded once."""
    global _ENTRIES
    if _ENTRIES is None:
        from . import areas

        found: dict[str, Entry] = {}
        for table in areas.TABLES:
            repeated = found.keys() & table.keys()
            if repeated:
                raise KeyError(f"messages defined twice: {sorted(repeated)}")
            found.update(table)
        _ENTRIES = found
    return _ENTRIES


_ENTRIES: dict[str, Entry] | None = None


def text_of(error: BaseException, lang: str = "en", interface: str = "cli") -> str:
    """An error's text in ``lang`` for ``interface``: from the catalogue when it was raised
    with a key, else its own (English) words."""
    message = error.args[0] if error.args else None
    return message.text(lang, interface) if isinstance(message, Message) else str(error)


def cli_language(given: str | None = None) -> str:
    """``--lang``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``): zh_* is Chinese, anything else English."""
    if given:
        return "zh" if given.lower().startswith("zh") else "en"
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def accepted_language(query: str | None, accept_language: str | None, default: str = "zh") -> str:
    """``?lang=`` first, then the first language of ``Accept-Language`` we have, else ``default``."""
    if query in LANGUAGES:
        return query
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default
