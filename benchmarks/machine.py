"""How well machine mail is told from a person's mail, on mail written by other mail projects.

Run: `uv run python benchmarks/machine.py [--corpus DIR] [--realmail DIR] [--errors]`.
Reads `labels.json` in the corpus (file -> ordinary | bounce | autoreply | feedback | receipt),
parses every labelled file and asks `classify_sender` who wrote it. Prints, per label, how
many mails came out as a person; for how many machine mails among them recognition would
open a case (target 0); the reasons given; the ordinary mails taken for machine mail;
and how many contact-form-like mails (a machine sender with a person's address to answer, in
`--realmail` and the contact-form fixtures of tests/fixtures/mail) stay a person's mail.
Also the time per mail.
"""

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classify import classify  # noqa: E402
from bot.mail.machine import classify_sender, is_machine_sender  # noqa: E402
from bot.mail.parse import ParsedMail, parse_message, strip_envelope  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/peermail")
DEFAULT_REALMAIL = Path("/work/shared/realmail/imap_tools")
FIXTURES = ROOT / "tests" / "fixtures" / "mail"
# A person's address in a form's body ("E-mail: jan@example.nl"), found independently of the
# classifier's own pattern.
_FORM_ADDRESS = re.compile(r"(?im)^\W*e-?mail[\w -]*[:=]\s*\S+@\S+")
MACHINE_LABELS = ("bounce", "autoreply", "feedback", "receipt")


def _read(path: Path) -> ParsedMail:
    return parse_message(strip_envelope(path.read_bytes()))


def _kind(mail: ParsedMail) -> str:
    return classify_sender(mail, own_domains=("dsr.proambt.nl",)).kind


def _form_like(mail: ParsedMail) -> bool:
    """A machine sender with a person's address in Reply-To or in the body."""
    if not is_machine_sender(mail.sender):
        return False
    person_reply_to = mail.reply_to and not is_machine_sender(mail.reply_to)
    return bool(person_reply_to or _FORM_ADDRESS.search(mail.text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--realmail", type=Path, default=DEFAULT_REALMAIL)
    parser.add_argument("--errors", action="store_true", help="list every wrong verdict")
    args = parser.parse_args()
    labels: dict[str, str] = json.loads((args.corpus / "labels.json").read_text())
    person: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    errors: list[str] = []
    answered = 0
    seconds = 0.0
    for name, label in sorted(labels.items()):
        raw = strip_envelope((args.corpus / name).read_bytes())
        started = time.perf_counter()
        mail = parse_message(raw)
        verdict = classify_sender(mail, own_domains=("dsr.proambt.nl",))
        seconds += time.perf_counter() - started
        totals[label] += 1
        is_person = verdict.kind == "person"
        person[label] += is_person
        if is_person and label != "ordinary":
            found = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
            answered += found.route == "case"
        if label != "ordinary" or not is_person:
            reasons[verdict.reason.split(":")[0][:50]] += 1
        if (label == "ordinary") != is_person:
            errors.append(f"{label:9} -> {verdict.kind:10} {name}  ({verdict.reason[:70]})")
    each = seconds / len(labels) * 1000
    print(f"{sum(totals.values())} mails from {args.corpus}, {each:.3f} ms each")
    print(f"{'label':10} {'mails':>6} {'person':>7}")
    for label in ("ordinary", *MACHINE_LABELS):
        print(f"{label:10} {totals[label]:6d} {person[label]:7d}")
    machine_as_person = sum(person[label] for label in MACHINE_LABELS)
    print(f"machine mail taken for a person's mail: {machine_as_person}")
    print(f"machine mail that recognition would open a case for: {answered} (target 0)")
    print(f"ordinary mail taken for machine mail: {totals['ordinary'] - person['ordinary']}")
    forms = [p for p in sorted(args.realmail.glob("*.eml")) if _form_like(_read(p))]
    forms += sorted(FIXTURES.glob("noreply_form_*.eml"))
    kept = [p for p in forms if _kind(_read(p)) == "person"]
    for path in forms:
        if path not in kept:
            errors.append(f"form      -> {_kind(_read(path)):10} {path}")
    print(f"contact-form-like mails kept as a person's: {len(kept)} of {len(forms)}")
    print("reasons (machine verdicts and machine labels):")
    for reason, count in reasons.most_common(25):
        print(f"  {count:5d}  {reason}")
    if args.errors:
        print("\n".join(errors))


if __name__ == "__main__":
    main()
