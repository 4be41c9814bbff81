"""Build the labelled mail corpus (tests/corpus/mails/*.eml + labels.csv) from source/*.txt.

The mail texts themselves are hand-written in source/*.txt; the file name gives the half
(`dev*.txt` -> dev, `heldout*.txt` -> heldout). A mail id used by an earlier file (in name
order) is prefixed with its file's stem (`heldout2-h001`), so every id stays unique. This
script only wraps them into RFC 5322 messages: headers (auto-reply, bounce, list), HTML-only
bodies, legacy charsets, quoted-printable, and a rotating set of company signatures and legal
disclaimers. Run: `uv run python tests/corpus/make_corpus.py [--split dev|heldout]` (default:
every file); `--add SOURCE` (a file name in source/) writes only that file's mails and puts
their rows at the end of labels.csv, leaving the other mails as they are.
"""

import argparse
import csv
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_string
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

HERE = Path(__file__).parent
MAILS = HERE / "mails"
MAILBOX = "Secretariaat Proambt <secretariaat@proambt.nl>"

SIGNATURES = {
    "nl": [
        "\n--\nAfdeling Personeelszaken\nT 0521 123 456 | www.example.nl",
        "\nBezoekadres: Stationsweg 4, 8011 CZ Zwolle\nKvK 12345678\nT: 038-4567890",
        "\nVerzonden vanaf mijn iPad",
        "\n-- \nMr. drs. J.P. Smeets | Advocaat\nSmeets & Partners | Herengracht 100 | Amsterdam",
    ],
    "en": [
        "\n--\nOperations Manager\nM +44 7700 900123 | www.example.com",
        "\nSent from my iPhone",
        "\nGet Outlook for Android",
    ],
}

DISCLAIMERS = {
    "nl": [
        "Dit e-mailbericht is uitsluitend bestemd voor de geadresseerde(n) en kan vertrouwelijke"
        " informatie bevatten. Indien u dit bericht onterecht ontvangt, wordt u verzocht de"
        " afzender direct te informeren en het bericht te verwijderen. Aan dit bericht kunnen"
        " geen rechten worden ontleend.",
        "De informatie verzonden met dit e-mailbericht is vertrouwelijk en uitsluitend bestemd"
        " voor de geadresseerde. Gebruik, openbaarmaking, vermenigvuldiging of verstrekking van"
        " deze informatie aan derden is niet toegestaan. Heeft u dit bericht ten onrechte"
        " ontvangen, dan verzoeken wij u het te verwijderen en de afzender te informeren. Lees"
        " in onze privacyverklaring hoe u uw gegevens kunt inzien, laten corrigeren of laten"
        " verwijderen.",
        "DISCLAIMER: Dit bericht en eventuele bijlagen zijn vertrouwelijk en uitsluitend bestemd"
        " voor de geadresseerde. Indien u niet de geadresseerde bent, verzoeken wij u dit"
        " bericht te verwijderen en eventuele kopieen te vernietigen.\n\nDenk aan het milieu"
        " voordat u deze e-mail print.",
    ],
    "en": [
        "This e-mail and any attachments are confidential and may be privileged. If you are not"
        " the intended recipient, please notify the sender immediately and delete this e-mail."
        " Any unauthorised use, disclosure or copying is strictly prohibited.",
        "CONFIDENTIALITY NOTICE: The information in this email is intended solely for the"
        " addressee. If you have received this email in error, please delete it and notify us."
        " We process personal data in line with our privacy notice, which explains your rights"
        " to access, rectify and erase your data and to object to processing.",
    ],
}


@dataclass
class Source:
    ident: str
    category: str
    also: list[str]
    language: str
    flags: set[str]
    split: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    origin: str = ""


def _parse(path: Path, split: str) -> list[Source]:
    mails: list[Source] = []
    current: Source | None = None
    in_headers = False
    body: list[str] = []
    for line in [*path.read_text(encoding="utf-8").split("\n"), "### end"]:
        if line.startswith("### "):
            if current is not None:
                current.body = "\n".join(body).strip() + "\n"
                mails.append(current)
            if line == "### end":
                break
            ident, category, also, language, flags = (x.strip() for x in line[4:].split("|"))
            alsos = also.replace(",", " ").replace(";", " ").split()
            current = Source(ident, category, alsos, language, set(flags.split()), split)
            in_headers, body = True, []
        elif current is None or (line.startswith("#") and not body and not in_headers):
            continue
        elif in_headers:
            if not line.strip():
                in_headers = False
            else:
                name, _, value = line.partition(":")
                current.headers[name.strip()] = value.strip()
        else:
            body.append(line)
    return mails


def _pick(pool: list[str], ident: str) -> str:
    return pool[int(hashlib.sha256(ident.encode()).hexdigest(), 16) % len(pool)]


def _text(src: Source) -> str:
    text = src.body
    lang = src.language
    if "sig-nl" in src.flags or "sig-en" in src.flags:
        text = text.rstrip("\n") + "\n" + _pick(SIGNATURES[lang], src.ident) + "\n"
    for flag in ("disc-nl", "disc-en"):
        if flag in src.flags:
            text = text.rstrip("\n") + "\n\n" + _pick(DISCLAIMERS[flag[-2:]], src.ident) + "\n"
    return text


def _bounce(src: Source, text: str) -> Message:
    report = MIMEMultipart("report", report_type="delivery-status")
    report.attach(MIMEText(text, "plain", "utf-8"))
    status = MIMEBase("message", "delivery-status")
    blocks = ["Reporting-MTA: dns; mx.proambt.nl\n", "Action: failed\nStatus: 5.1.1\n"]
    status.set_payload([message_from_string(block) for block in blocks])
    report.attach(status)
    report["Auto-Submitted"] = "auto-replied"
    return report


def _message(src: Source, number: int) -> Message:
    text = _text(src)
    msg: Message
    if "bounce" in src.flags:
        msg = _bounce(src, text)
    else:
        em = EmailMessage()
        if "html" in src.flags:
            em.set_content(text, subtype="html")
        elif "cp1252" in src.flags:
            em.set_content(text, charset="windows-1252", cte="8bit")
        elif "latin1" in src.flags:
            em.set_content(text, charset="iso-8859-1", cte="quoted-printable")
        elif "qp" in src.flags:
            em.set_content(text, cte="quoted-printable")
        else:
            em.set_content(text)
        msg = em
    when = datetime(2026, 3, 2, 8, 0, tzinfo=UTC) + timedelta(hours=7 * number + 3)
    msg["From"] = src.headers["From"]
    msg["To"] = MAILBOX
    msg["Subject"] = src.headers.get("Subject", "")
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(idstring=src.ident, domain="corpus.example")
    if "ooo" in src.flags:
        msg["Auto-Submitted"] = "auto-replied" if number % 2 else "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    if "xauto" in src.flags:
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Autoreply"] = "yes"
    if "precedence" in src.flags:
        msg["Precedence"] = "bulk"
        msg["List-Unsubscribe"] = "<mailto:unsubscribe@list.example>"
    return msg


SPLITS = ("dev", "heldout")


def split_of(path: Path) -> str:
    """The half a source file belongs to, from its name: dev*.txt or heldout*.txt."""
    for split in SPLITS:
        if path.name.startswith(split):
            return split
    raise ValueError(f"{path.name}: source files are named dev*.txt or heldout*.txt")


def load_sources(only: str | None = None) -> list[Source]:
    """Every mail of every source file (name order), ids made unique across files."""
    sources: list[Source] = []
    seen: set[str] = set()
    for path in sorted((HERE / "source").glob("*.txt")):
        split = split_of(path)
        if only is not None and split != only:
            continue
        in_file: set[str] = set()
        for src in _parse(path, split):
            if src.ident in in_file:
                raise ValueError(f"{path.name}: mail id {src.ident} appears twice")
            in_file.add(src.ident)
            src.origin = path.stem
            if src.ident in seen:
                src.ident = f"{path.stem}-{src.ident}"
            if src.ident in seen:
                raise ValueError(f"{path.name}: mail id {src.ident} is not unique")
            seen.add(src.ident)
            sources.append(src)
    return sources


def _row(src: Source) -> list[str]:
    also = ";".join(src.also)
    return [f"mails/{src.ident}.eml", src.category, also, src.language, src.split, src.origin]


def add(name: str) -> None:
    """Write the mails of source/`name` alone; their rows replace any earlier ones of it."""
    sources = [s for s in load_sources() if s.origin == Path(name).stem]
    labels = HERE / "labels.csv"
    with labels.open(encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r[-1] != Path(name).stem]
    for number, src in enumerate(sources, start=len(rows) - 1):
        (MAILS / f"{src.ident}.eml").write_bytes(_message(src, number).as_bytes())
        rows.append(_row(src))
    with labels.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    print(f"wrote {len(sources)} mails of {name} to {MAILS}")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, help="build only this half")
    parser.add_argument("--add", metavar="SOURCE", help="write only this source file's mails")
    args = parser.parse_args()
    if args.add:
        add(args.add)
        return
    MAILS.mkdir(exist_ok=True)
    for old in MAILS.glob("*.eml"):
        old.unlink()
    sources = load_sources(args.split)
    with (HERE / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "category", "also", "language", "split", "source"])
        for number, src in enumerate(sources):
            (MAILS / f"{src.ident}.eml").write_bytes(_message(src, number).as_bytes())
            writer.writerow(_row(src))
    print(f"wrote {len(sources)} mails to {MAILS}")  # noqa: T201


if __name__ == "__main__":
    main()
