"""Never answer a machine: recognise auto-replies, bounces, lists and loops (RFC 3834).

Inbound copies of our own control header (`X-DSR-Loop` by default) are never trusted unless
they carry the secret `own_loop_token`: anyone can write the header name, only we know the token.
"""

import hmac
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.mail.parse import ParsedMail

MachineKind = Literal["person", "auto_reply", "bounce", "list", "loop", "own"]

_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_SUPPRESS = frozenset({"all", "oof", "autoreply", "dr"})
_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster"})
_NOREPLY = re.compile(
    r"^(?:no|do[-_.]?not|dont|ne[-_.]?pas|niet|geen)[-_.]?(?:reply|respond|repondre|beantwoorden"
    r"|antwoorden|antwoord|response)\b",
    re.IGNORECASE,
)
_OOO_SUBJECT = re.compile(
    r"automatisch(?:e)? (?:antwoord|beantwoord)|afwezig|out of (?:the )?office|autoreply"
    r"|auto(?:matic)?[- ]reply|abwesenheit|absence",
    re.IGNORECASE,
)
# Headers Exchange and friends put on generated mail; evidence only together with the subject.
_WEAK = (
    "X-Auto-Response-Suppress",
    "X-MS-Exchange-Inbox-Rules-Loop",
    "X-MS-Exchange-Generated-Message-Source",
)
_BODY_ADDRESS = re.compile(
    r"(?im)^[ \t>*_-]*(?:uw |your )?e-?mail(?:[ -]?(?:adres|address))?[ \t*_]*[:=][ \t*_]*"
    r"<?(?:mailto:)?([A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)


@dataclass(frozen=True)
class MachineVerdict:
    kind: MachineKind
    reason: str
    answer_to: str | None


def is_noreply(address: str) -> bool:
    """noreply@, no-reply@, donotreply@, ne-pas-repondre@ and the like."""
    return bool(_NOREPLY.match(address.partition("@")[0]))


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _header_rule(headers: Mapping[str, str], sender: str) -> tuple[MachineKind, str] | None:
    """The first machine signal in the headers, with the kind of machine it points to."""
    h = _lowered(headers)
    if sender.partition("@")[0].lower() in _DAEMONS:
        return "bounce", f"sender is {sender}"
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":  # RFC 3834 section 5
        return "auto_reply", f"Auto-Submitted: {auto}"
    if "return-path" in h and not h["return-path"].strip("<> \t"):  # RFC 5321 section 4.5.5
        return "auto_reply", "empty Return-Path (null reverse-path)"
    precedence = h.get("precedence", "").strip().lower()
    if precedence in _PRECEDENCE:
        return ("list" if precedence == "list" else "auto_reply"), f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if h.get(name, "").strip():
            return "auto_reply", f"{name}: {h[name].strip()}"
    suppress = {v.strip().lower() for v in h.get("x-auto-response-suppress", "").split(",")}
    if suppress & _SUPPRESS:
        return "auto_reply", f"X-Auto-Response-Suppress: {h['x-auto-response-suppress'].strip()}"
    for name in ("list-id", "list-unsubscribe"):  # RFC 2919, RFC 2369
        if h.get(name, "").strip():
            return "list", f"{name}: {h[name].strip()[:80]}"
    if h.get("x-loop", "").strip():
        return "loop", f"X-Loop: {h['x-loop'].strip()}"
    return None


def auto_reply_reason(headers: Mapping[str, str], sender: str = "") -> str | None:
    """Return why a mail with these headers is machine-sent, or None for a person's mail."""
    rule = _header_rule(headers, sender)
    return rule[1] if rule else None


def _domain_of(message_id: str | None) -> str:
    return (message_id or "").strip("<> ").rpartition("@")[2].lower()


def _is_own_domain(domain: str, own_domains: Collection[str]) -> bool:
    owned = {d.strip().lower() for d in own_domains if d.strip()}
    return any(domain == d or domain.endswith("." + d) for d in owned)


def _loop_verdict(mail: ParsedMail, loop_header: str, token: str | None) -> MachineVerdict | None:
    values = mail.headers.get_all(loop_header)
    if token and any(hmac.compare_digest(v.strip().encode(), token.encode()) for v in values):
        return MachineVerdict(
            "loop", f"{loop_header} carries our token: our own mail came back", None
        )
    return None


def _ooo_subject_verdict(mail: ParsedMail) -> MachineVerdict | None:
    """An out-of-office subject counts only with a header that machines set."""
    if not _OOO_SUBJECT.search(mail.subject):
        return None
    weak = next((name for name in _WEAK if mail.headers.get(name, "").strip()), None)
    if weak is None:
        return None
    return MachineVerdict("auto_reply", f"out-of-office subject with {weak}", None)


def _body_address(text: str, exclude: Collection[str]) -> str | None:
    for match in _BODY_ADDRESS.finditer(text):
        address = match.group(1).rstrip(".").lower()
        if not is_noreply(address) and address not in exclude:
            return address
    return None


def _person(mail: ParsedMail) -> MachineVerdict:
    if mail.reply_to and not is_noreply(mail.reply_to):
        who = f"no-reply sender {mail.sender}" if is_noreply(mail.sender) else "a person's mail"
        return MachineVerdict("person", f"{who}; answer the Reply-To address", mail.reply_to)
    if not mail.sender:
        return MachineVerdict("person", "no readable sender address: a human must decide", None)
    if not is_noreply(mail.sender):
        return MachineVerdict("person", "a person's mail", mail.sender)
    found = _body_address(mail.text, {mail.sender})
    if found:
        reason = (
            f"no-reply sender {mail.sender}; address taken from the body: check before answering"
        )
        return MachineVerdict("person", reason, found)
    reason = f"no-reply sender {mail.sender} and no address to answer: a human must decide"
    return MachineVerdict("person", reason, None)


def classify_sender(
    mail: ParsedMail,
    *,
    own_domains: Collection[str],
    loop_header: str = "X-DSR-Loop",
    own_loop_token: str | None = None,
) -> MachineVerdict:
    """Who wrote this mail: a person we may answer, or a machine we must never answer."""
    if mail.content_type == "multipart/report":  # RFC 6522
        return MachineVerdict("bounce", "multipart/report (delivery or disposition report)", None)
    loop = _loop_verdict(mail, loop_header, own_loop_token)
    if loop is not None:
        return loop
    if _is_own_domain(_domain_of(mail.message_id), own_domains):
        return MachineVerdict("own", f"Message-ID {mail.message_id} is from our own domain", None)
    rule = _header_rule(mail.headers, mail.sender)
    if rule is not None:
        reason = rule[1]
        if rule[0] == "auto_reply" and _OOO_SUBJECT.search(mail.subject):
            reason += "; out-of-office subject"
        return MachineVerdict(rule[0], reason, None)
    return _ooo_subject_verdict(mail) or _person(mail)
