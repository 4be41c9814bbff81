"""Build the breach corpus (tests/corpus/breach/mails/*.eml + labels.csv) from source/*.txt.

The same format and the same wrapping (signatures, disclaimers, headers) as the request corpus
(tests/corpus/make_corpus.py); `dev.txt` and `heldout.txt` give the half. labels.csv has the
columns of the blind sets: file, label (`breach`, `other` or a request's kind), language, split.
Run: `uv run python tests/corpus/breach/make_breach.py`.
"""

import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from make_corpus import _message, _parse  # noqa: E402


def main() -> None:
    mails = HERE / "mails"
    mails.mkdir(exist_ok=True)
    rows = [["file", "label", "language", "split"]]
    number = 0
    for split in ("dev", "heldout"):
        for src in _parse(HERE / "source" / f"{split}.txt", split):
            number += 1
            (mails / f"{src.ident}.eml").write_bytes(_message(src, number).as_bytes())
            rows.append([f"mails/{src.ident}.eml", src.category, src.language, split])
    with (HERE / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    print(f"wrote {number} mails to {mails}")  # noqa: T201


if __name__ == "__main__":
    main()
