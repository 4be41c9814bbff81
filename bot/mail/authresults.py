"""Reading `Authentication-Results` (RFC 8601) from our own receiving server only."""

from __future__ import annotations

import re
from collections.abc import Iterable

RESULT = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*([a-z]+)", re.IGNORECASE)


def auth_failures(headers: Iterable[str], *, trusted: str) -> list[str]:
    """Methods that failed according to the trusted server, e.g. `["dmarc"]`.

    Only headers whose authserv-id is `trusted` count: anyone can add this header further
    upstream (RFC 8601 section 5), so without a trusted id nothing is read.
    """
    if not trusted:
        return []
    failed: set[str] = set()
    for value in headers:
        authserv_id = value.split(";", 1)[0].strip().split()[0:1]
        if authserv_id != [trusted]:
            continue
        for method, result in RESULT.findall(value):
            if result.lower() in {"fail", "permerror"} and method.lower() in {"dmarc", "dkim"}:
                failed.add(method.lower())
    return sorted(failed)
