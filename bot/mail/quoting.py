"""Split a mail body into what the sender wrote now and what came along with it.

`split_reply` is the one implementation used by every reader of mail text: the classifier,
the one-time-code finder and the threading code all look at `ReplyParts.new` only.

Recognised (mail clients in Dutch and English, and the header words of German, French,
Italian, Spanish and Portuguese ones, because forwarded mail crosses borders):
- quoted history: `>` lines, "Op ... schreef ...:", "On ... wrote:", Apple Mail's
  "Op ... heeft ... het volgende geschreven:", "Am ... schrieb", "Le ... a écrit",
  "Il giorno ... ha scritto", "El ... escribió", "Em ... escreveu"; Outlook header blocks
  (Van/Verzonden/Aan/Onderwerp, From/Sent/To/Subject, Von/Gesendet/An/Betreff, De/Envoyé/À/
  Objet, Da/Inviato/A/Oggetto, De/Enviado/Para/Asunto); "-----Original Message-----",
  "Oorspronkelijk bericht", "Ursprüngliche Nachricht", "Message d'origine", ...;
- forwards: "Forwarded message", "Doorgestuurd bericht", "Begin forwarded message:",
  "Weitergeleitete Nachricht", "Message transféré", "Messaggio inoltrato", ...; a forward with
  a comment counts the comment as new, a bare forward counts the forwarded text without the
  forwarded header lines;
- signatures: "-- ", closings ("Met vriendelijke groet", "Mvg", "Kind regards", ...) and
  mobile footers ("Verzonden vanaf mijn iPhone"); a P.S. or a real sentence after the
  closing stays new, so a request written under the closing is not lost;
- legal disclaimers ("Dit e-mailbericht is uitsluitend bestemd voor ...", "This e-mail and
  any attachments are confidential ...").
"""

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["ReplyParts", "split_reply"]


@dataclass(frozen=True)
class ReplyParts:
    new: str
    quoted: str
    signature: str
    disclaimer: str
    forward: bool = False  # the history is a forwarded mail, not a quoted reply


_I = re.IGNORECASE
_QUOTE_INTRO = re.compile(r"^(op|on|am|le|il|el|em)\s.{4,}", _I)
_QUOTE_INTRO_END = re.compile(
    r"(schreef|wrote|het volgende geschreven|a ecrit|schrieb|ha scritto|escribio|escreveu)"
    r"[^:]{0,80}:\s*$",
    _I,
)
_ORIGINAL = re.compile(
    r"^-{2,}\s*(original message|oorspronkelijk bericht|origineel bericht|"
    r"oorspronkelijk e-?mailbericht|urspr(u|ue)ngliche nachricht|message d'origine|"
    r"messaggio originale|mensaje original|mensagem original)\s*-{2,}\s*$",
    _I,
)
_FORWARDED = (
    r"forwarded message|doorgestuurd bericht|doorgestuurde e-?mail|weitergeleitete nachricht"
    r"|message transfere|messaggio inoltrato|mensaje reenviado|mensagem encaminhada"
)
_FORWARD = re.compile(
    rf"^(-{{2,}}\s*({_FORWARDED})\s*-{{2,}}"
    r"|begin (forwarded message|doorgestuurd bericht)\s*:"
    rf"|({_FORWARDED})\s*:)\s*$",
    _I,
)
# Header lines of a quoted or forwarded mail, as mail clients write them in Dutch, English,
# German, French, Italian, Spanish and Portuguese (accents are folded away before matching).
_HEADER_FIRST = re.compile(r"^\*?(van|from|von|de|da)\s*:\*?\s*\S", _I)
_HEADER_NEXT = re.compile(
    r"^\*?(verzonden|sent|datum|date|aan|to|onderwerp|subject|cc|bcc|gesendet|an|betreff"
    r"|envoye|a|objet|inviato|data|oggetto|enviado|enviada|para|asunto|fecha|assunto)\s*:\*?",
    _I,
)
_RULE = re.compile(r"^_{8,}\s*$")
_SIG_DASH = re.compile(r"^--\s*$")
_CLOSING = re.compile(
    r"^((met\s+)?(vriendelijke|hartelijke|beste|lieve)\s+groet(en)?\b"
    r"|m\.?\s?v\.?\s?g\.?\b|mvrgr\b|vr\.?\s*gr\.?\b|groet(en|jes)?\b[^.?!]{0,40}$|gr\.?\s*$"
    r"|hoogachtend\b|(kind|best|warm|warmest|many)\s+(regards|wishes|thanks)\b"
    r"|regards\b|best,?\s*$|cheers\b|sincerely\b|yours\s+(sincerely|faithfully|truly)\b"
    r"|thanks( again| in advance)?[,!.]?\s*$|thank you[,!.]?\s*$"
    r"|alvast\s+(bedankt|dank)[,!.]?\s*$|(bij voorbaat\s+)?dank(\s+u|\s+je)?(\s+wel)?[,!.]?\s*$)",
    _I,
)
_MOBILE = re.compile(
    r"^((verzonden|verstuurd)\s+(vanaf|van|met)\s+(mijn|de)\s+\S+"
    r"|sent from my\s+\S+|get outlook for\s+\S+|download outlook voor\s+\S+"
    r"|outlook voor (ios|android) downloaden)",
    _I,
)
_PS = re.compile(r"^p\.?\s?s\.?\b", _I)
_DISCLAIMER = re.compile(
    r"(uitsluitend bestemd voor|(ten onrechte|onterecht) (heeft )?ontvang"
    r"|indien u niet de (beoogde )?geadresseerde|aan dit (e-?mail)?bericht kunnen geen rechten"
    r"|dit (e-?mail)?bericht (en eventuele bijlagen )?(is|zijn) vertrouwelijk"
    r"|this e-?mail and any (files|attachments)|intended (solely|only) for"
    r"|if you are not the intended recipient|received this (e-?mail|message) in error"
    r"|confidentiality notice|^disclaimer\b|before printing this e-?mail"
    r"|voordat u deze e-?mail (af)?print)",
    _I | re.MULTILINE,
)


def _fold(line: str) -> str:
    if line.isascii():
        return line.strip()
    decomposed = unicodedata.normalize("NFKD", line)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _is_header_block(lines: list[str], i: int) -> bool:
    if not _HEADER_FIRST.match(_fold(lines[i])):
        return False
    following = [_fold(x) for x in lines[i + 1 : i + 6] if x.strip()]
    return sum(1 for x in following[:4] if _HEADER_NEXT.match(x)) >= 2


def _find_cut(lines: list[str]) -> tuple[int, str]:
    """Index and kind ("quote", "header", "forward", "") of the first history marker."""
    for i, raw in enumerate(lines):
        line = _fold(raw)
        if _FORWARD.match(line):
            return i, "forward"
        if _ORIGINAL.match(line):
            return i, "header"
        if _RULE.match(line) and i + 1 < len(lines) and _is_header_block(lines, i + 1):
            return i, "header"
        if _is_header_block(lines, i):
            return i, "header"
        if _QUOTE_INTRO.match(line):
            joined = " ".join(_fold(x) for x in lines[i : i + 2])
            if _QUOTE_INTRO_END.search(line) or (
                len(joined) < 300 and _QUOTE_INTRO_END.search(joined)
            ):
                return i, "quote"
    return len(lines), ""


def _skip_headers(lines: list[str]) -> list[str]:
    """Drop the forwarded message's own header lines (From/Date/Subject/To ...)."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and (_FORWARD.match(_fold(lines[i])) or _ORIGINAL.match(_fold(lines[i]))):
        i += 1
    while i < len(lines) and (
        _HEADER_FIRST.match(_fold(lines[i]))
        or _HEADER_NEXT.match(_fold(lines[i]))
        or not lines[i].strip()
    ):
        i += 1
    return lines[i:]


def _split_disclaimer(lines: list[str]) -> tuple[list[str], list[str]]:
    start = 0
    for i, line in enumerate(lines):
        if not line.strip():
            start = i + 1
        elif _DISCLAIMER.search(_fold(line)):
            return lines[:start], lines[start:]
    return lines, []


def _is_prose(line: str) -> bool:
    stripped = line.strip()
    return len(stripped.split()) >= 12 and stripped[-1:] in ".?!"


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for i, raw in enumerate(lines):
        line = _fold(raw)
        if _SIG_DASH.match(raw.rstrip("\n")) or _CLOSING.match(line) or _MOBILE.match(line):
            new, signature = lines[:i], list[str]()
            for j, after in enumerate(lines[i:]):
                back = j > 0 and (_PS.match(_fold(after)) or _is_prose(after))
                (new if back else signature).append(after)
            return new, signature
    return lines, []


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip()


def split_reply(text: str) -> ReplyParts:
    """Split `text` (a plain-text mail body) into new text, history, signature, disclaimer."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut, kind = _find_cut(lines)
    top, rest = lines[:cut], lines[cut:]
    own = [x for x in top if not x.lstrip().startswith(">")]
    inline_quotes = [x for x in top if x.lstrip().startswith(">")]
    own, disclaimer = _split_disclaimer(own)
    new, signature = _split_signature(own)
    if not _join(new) and kind in ("forward", "header") and rest:
        inner = split_reply("\n".join(_skip_headers(rest)))
        return ReplyParts(
            new=inner.new,
            quoted=inner.quoted,
            signature="\n".join(filter(None, [_join(signature), inner.signature])),
            disclaimer="\n".join(filter(None, [_join(disclaimer), inner.disclaimer])),
        )
    return ReplyParts(
        new=_join(new),
        quoted=_join(inline_quotes + rest),
        signature=_join(signature),
        disclaimer=_join(disclaimer),
        forward=kind == "forward",
    )
