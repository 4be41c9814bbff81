"""The policy we parse mail with: `policy.default`, without the header work it repeats.

Nothing here changes a value that is read. Three savings:
- the header registry makes its class for a kind of header once, not once per header;
- each header of a message is parsed once, however often it is read: get_content_type,
  get_param, get_filename and get_payload read Content-Type and its neighbours on every call;
- Content-Type, Content-Disposition and Content-Transfer-Encoding in their everyday form get
  the text the registry would give them written down directly; the registry parses them only
  when something beyond the text is asked for (params, defects, folding). The parser and the
  `Message` methods we call read these headers as text only.
"""

import re
from collections.abc import Callable
from email.headerregistry import HeaderRegistry
from email.policy import EmailPolicy
from typing import Any, Self

# What the stdlib's MIME header parser (email._header_value_parser) takes as a token, and as a
# parameter name or unquoted value once the RFC 2231 marks * ' % are left out; quoted values
# of printable ASCII, spaces and tabs (kept as they are), without quote or backslash. "=?"
# (RFC 2047) is excluded separately.
_TTEXT = r"[A-Za-z0-9!#$%&'*+.^_`{|}~-]+"
_ATTRIBUTE = r"[A-Za-z0-9!#$&+.^_`{|}~-]+"
_PARAM = rf"""(?:;[ \t]*{_ATTRIBUTE}=(?:{_ATTRIBUTE}|"[ \t!#-\[\]-~]+"))"""
_ONE_PARAM = re.compile(rf""";[ \t]*({_ATTRIBUTE})=(?:({_ATTRIBUTE})|"([ \t!#-\[\]-~]+)")""")
_PLAIN = {
    "content-type": re.compile(rf"{_TTEXT}/{_TTEXT}({_PARAM}*)"),
    "content-disposition": re.compile(rf"{_TTEXT}({_PARAM}*)"),
    "content-transfer-encoding": re.compile(rf"{_TTEXT}()"),
}


def plain_text(name: str, value: str) -> str | None:
    """The registry's text for a plain MIME header value, or None when the value is not plain.

    The registry keeps the value before the parameters as written and rewrites the parameters
    as `; name="value"` each (MimeParameters.__str__); a name given twice is left to it.
    """
    pattern = _PLAIN.get(name.lower())
    plain = pattern.fullmatch(value) if pattern is not None else None
    if plain is None or "=?" in value:
        return None
    if not plain[1]:
        return value
    params = [(a, bare or quoted) for a, bare, quoted in _ONE_PARAM.findall(plain[1])]
    if len({a.lower() for a, _ in params}) != len(params):
        return None
    return value[: plain.start(1)] + "; " + "; ".join(f'{a}="{v}"' for a, v in params)


class _Deferred(str):
    """A header whose text is known; parsed by the registry when anything else is read.

    It keeps the registry, not the policy: the policy's cache holds this header, and a reference
    back would make every parsed message a reference cycle."""

    _source: tuple[Callable[[str, str], Any], str, str]

    def __new__(cls, text: str, factory: Callable[[str, str], Any], name: str, value: str) -> Self:
        header = super().__new__(cls, text)
        header._source = (factory, name, value)
        return header

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # protocol probes (copy, pickle) get the str answers
            raise AttributeError(attr)
        parsed = self.__dict__.get("_parsed")
        if parsed is None:
            factory, name, value = self._source
            parsed = self.__dict__["_parsed"] = factory(name, value)
        return getattr(parsed, attr)


class Registry(HeaderRegistry):
    """The stdlib's header registry, except that the class for a kind of header is made once:
    `HeaderRegistry.__getitem__` builds a new class with `type()` for every header it parses,
    which costs more than parsing a short Content-Type. Keyed by the registry's class, so the
    cache stays as small as the registry whatever header names strangers invent."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[type, type] = {}

    def __getitem__(self, name: str) -> type:
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = super().__getitem__(name)
        return made


class ParseOnce(EmailPolicy):
    """`policy.default` with a `Registry`, parsing each header of a message once when `parsed`
    is a dict (clone with a fresh one per message, shared by its parts)."""

    parsed: dict[tuple[str, str], Any] | None = None

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if self.parsed is None or hasattr(value, "name"):
            return super().header_fetch_parse(name, value)
        key = (name, value)
        header = self.parsed.get(key)
        if header is None:
            header = self.parsed[key] = self._fetch(name, value)
        return header

    def _fetch(self, name: str, value: str) -> Any:
        # What EmailPolicy.header_fetch_parse hands the registry: the value without line breaks.
        unfolded = "".join(value.splitlines())
        text = plain_text(name, unfolded)
        if text is None:
            return super().header_fetch_parse(name, value)
        return _Deferred(text, self.header_factory, name, unfolded)
