"""Recognise a data-subject request in one mail: a pure function over text and headers."""

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.mail.charsets import Headers
from bot.mail.machine import auto_reply_reason
from bot.mail.quoting import split_reply

from .breach import breach_route
from .budget import BUDGET_S, MAX_TEXT, Budget, BudgetExceeded
from .language import detect_language
from .model import Model, Prediction, features, load_model
from .result import Classification, for_a_person
from .routing import MODEL_WORDS
from .routing import route as _route
from .scoring import FIRST_PERSON_WORDS, OWN_WORDS, Hit, build_document, find_hits, scores
from .text import html_to_text, normalise, sentences
from .vocabulary import REQUEST_CATEGORIES, load_vocabulary

__all__ = ["Fusion", "Prepared", "classify", "classify_prepared", "prepare"]

_OUT_OF_TIME = "time budget exceeded"
# raw text read before quotes are set aside: room for markup and for a quoted history or
# signature around the new text, of which `MAX_TEXT` characters are read
_MAX_RAW = 2 * MAX_TEXT

_REPLY_PREFIX = re.compile(r"^\s*((re|antw|aw|sv|vs)\s*:\s*)+", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*((fw|fwd|doorst)\s*:\s*)+", re.IGNORECASE)
_ADDRESS = re.compile(r"<([^>]+)>")
_MIN_REQUEST = 0.6
_MIN_ALSO = 1.5
_PLURAL = frozenset({"wij", "we", "ons", "onze", "our", "us", "ours"})
_MAX_EVIDENCE = 6
_MAX_LEARNED = 3
_MAX_CONFIDENCE = 0.99


@dataclass(frozen=True)
class Fusion:
    """How lexicon and model are joined (chosen by leave-one-file-out cross-validation).

    Each category's log-probability from the model gets w x its lexicon score, with
    w = `lexicon` x (1 + `short` / words of new text): in a short mail the model has little to
    go on and the reviewed phrase counts for more. `other` gets w x (`other_base` + its own
    score). The result is sharpened (`sharpen`, a temperature fitted so that confidence
    tracks accuracy across writers) and its top share is the confidence.

    Safety net: a mail that ends as `other` goes to triage when "some request" (1 - the
    share of `other`; fused with the lexicon when `fused_net`, else the model's alone) exceeds
    `request_bar`, or `everyday_bar` when the lexicon read the mail as everyday business and
    the writer speaks of nothing of their own. `lexicon_triage`: any request phrase also sends
    it (the lexicon-only rule; off, it sent a fifth of all mail to triage). `strong_net`: a
    strong request phrase in the body, undampened, always sends it (a request in one sentence
    of a long mail about pensions). When the lexicon found no request phrase at all and the
    writer says nothing of their own ("mijn", "my"), the model alone must show "some request"
    above `silent_bar` ("Zie bijlage." is too short for the model to be sure of anything). A
    request phrase read in its everyday sense in a sentence about the writer's own data always
    sends the mail to triage. Triage marks what might be a request; `routing.route` then
    decides whether a person looks (review) or the mail is ordinary (ignore).
    """

    lexicon: float = 1.0
    other_base: float = 0.0
    request_bar: float = 0.05
    sharpen: float = 1.5
    lexicon_triage: bool = False
    strong_net: bool = True
    silent_bar: float = 0.3
    short: float = 10.0
    everyday_bar: float = 0.5
    fused_net: bool = True


FUSION = Fusion()


def _respell(line: str, spelling: Mapping[str, str]) -> str:
    words = line.split()
    return " ".join(map(spelling.get, words, words))


def _sender(headers: Mapping[str, str]) -> str:
    value = headers.get("From", "")
    found = _ADDRESS.search(value)
    return (found.group(1) if found else value).strip()


def _subject(subject: str) -> list[str]:
    """The subject counts unless it is a reply's ("Re: inzageverzoek" repeats our own)."""
    if _REPLY_PREFIX.match(subject):
        return []
    cleaned = _FORWARD_PREFIX.sub("", subject).strip()
    return [normalise(cleaned)] if cleaned else []


def _evidence(hits: list[Hit], category: str) -> tuple[str, ...]:
    chosen = sorted((h for h in hits if h.category == category), key=lambda h: -h.weight)
    texts = dict.fromkeys(f"{h.text} (everyday sense)" if h.dampened else h.text for h in chosen)
    return tuple(texts)[:_MAX_EVIDENCE]


def _decide(
    hits: list[Hit], total: dict[str, float], other: float, language: str, threshold: float
) -> Classification:
    """The lexicon's answer alone; `total`, `other`: the hits' `scores` (`other` without
    weak everyday phrases)."""
    requests = sorted(
        ((total[c], c) for c in REQUEST_CATEGORIES if total.get(c, 0.0) > 0), reverse=True
    )
    signals = [h for h in hits if h.signal]
    # nothing that may be a request disappears silently: any undampened request phrase, even
    # a weak one, marks an `other` decision for triage (`routing` then decides who looks)
    hints = [h for h in hits if h.category in REQUEST_CATEGORIES and not h.dampened]
    signals = signals or hints
    if not requests or requests[0][0] < _MIN_REQUEST:
        guess = tuple(c for _, c in requests[:1]) if signals else ()
        confidence = 0.9 if not requests else max(0.3, 0.85 - requests[0][0])
        evidence = _evidence(hits, "other") + tuple(e for c in guess for e in _evidence(hits, c))
        return Classification(
            category="other",
            confidence=round(confidence, 3),
            also=guess,
            language=language,
            auto_reply=False,
            needs_triage=bool(signals),
            evidence=evidence or ("no request phrase found",),
            route="review",
            reason="",  # set by `_route`
        )
    best, category = requests[0]
    second = requests[1][0] if len(requests) > 1 else 0.0
    confidence = (1 - math.exp(-1.2 * best)) * best / (best + 0.4 * second + 0.4 * other)
    also = tuple(c for s, c in requests[1:] if s >= max(_MIN_ALSO, 0.35 * best))
    dampened = any(h.dampened and h.category == category for h in signals)
    return Classification(
        category=category,
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        also=also,
        language=language,
        auto_reply=False,
        needs_triage=confidence < threshold or dampened,
        evidence=_evidence(hits, category),
        route="review",
        reason="",  # set by `_route`
    )


@dataclass(frozen=True)
class Prepared:
    """What the classifier reads of one mail: normalised subject and new-text sentences."""

    subject: list[str]
    body: list[str]
    language: str
    auto_reply: str | None
    business: bool


def _asks(lines: list[str]) -> bool:
    """Whether these sentences hold a request phrase of their own (a weak hint such as "uit
    dienst" in a forwarding note does not ask anything)."""
    hits = find_hits(build_document([], lines), load_vocabulary())
    return any(h.category in REQUEST_CATEGORIES and h.tier != "weak" for h in hits)


def prepare(
    text: str,
    subject: str = "",
    headers: Mapping[str, str] | None = None,
    *,
    budget: Budget | None = None,
    language_hint: str | None = None,
) -> Prepared:
    """The mail's new text (quotes, signatures and disclaimers set aside), normalised; at
    most `MAX_TEXT` characters of it, and of the subject, are read. `language_hint` decides
    the language when the words do not."""
    view = headers if isinstance(headers, Headers) else Headers(list((headers or {}).items()))
    vocabulary = load_vocabulary()
    parts = split_reply(html_to_text(text[:_MAX_RAW]))
    if budget is not None:
        budget.check()
    new = parts.new[:MAX_TEXT]
    body = [_respell(line, vocabulary.spelling) for line in sentences(new)]
    if (parts.forward or _FORWARD_PREFIX.match(subject)) and not _asks(body):
        # "Onderstaand verzoek kwam bij ons binnen, willen jullie dit oppakken?": a note that
        # asks nothing itself is about the forwarded mail
        forwarded = sentences(split_reply(parts.quoted[: MAX_TEXT - len(new)]).new)
        body += [_respell(line, vocabulary.spelling) for line in forwarded]
    if budget is not None:
        budget.check()
    body = _without_link_labels(body, vocabulary.footer_labels)
    subject = subject[:MAX_TEXT]
    subject_lines = _subject(subject)
    words = " ".join([*subject_lines, *body] or sentences(parts.quoted)).split()
    language = detect_language(words, hint=language_hint)
    reason = auto_reply_reason(view, _sender(view))
    body_words = " ".join(body).split()
    business = (
        not FIRST_PERSON_WORDS.intersection(body_words)
        and bool(_PLURAL.intersection(body_words))
        and any(vocabulary.dampeners.search(line) for line in body)
    )
    return Prepared(subject_lines, body, language, reason, business)


def _without_link_labels(body: list[str], labels: frozenset[str]) -> list[str]:
    """`body` without lines that are only a link's label ("unsubscribe") when the other lines
    say more (`MODEL_WORDS` words or more) and nothing of the writer's own person."""
    rest = [line for line in body if line not in labels]
    if len(rest) == len(body):
        return body
    words = " ".join(rest).split()
    if len(words) < MODEL_WORDS or FIRST_PERSON_WORDS.intersection(words):
        return body
    return rest


def _learned(prediction: Prediction, category: str) -> tuple[str, ...]:
    return tuple(f"{w} (learned)" for w in prediction.top_words(category, _MAX_LEARNED))


def _combine(
    hits: list[Hit],
    prediction: Prediction,
    words: list[str],
    language: str,
    threshold: float,
    fusion: Fusion,
) -> Classification:
    personal = bool(FIRST_PERSON_WORDS.intersection(words))
    own = bool(OWN_WORDS.intersection(words))
    total = scores(hits)
    other = scores(hits, weak_other=False).get("other", 0.0)
    lexicon = _decide(hits, total, other, language, threshold)
    if lexicon.category == "other" and any(h.dampened and h.signal for h in hits):
        # torn: a request phrase in its everyday sense, in a sentence about the writer's own
        # person or data ("ik wil mijn adres aanpassen voor de factuur"); a human decides
        return replace(lexicon, evidence=lexicon.evidence + _learned(prediction, "other"))
    p = prediction.probabilities
    logits = {c: math.log(max(p.get(c, 0.0), 1e-9)) for c in (*REQUEST_CATEGORIES, "other")}
    # in a short mail the model has little to go on, and the lexicon's phrase counts for more
    weight = fusion.lexicon * (1.0 + fusion.short / max(len(words), 1))
    for c in REQUEST_CATEGORIES:
        logits[c] += weight * total.get(c, 0.0)
    logits["other"] += weight * (fusion.other_base + other)
    top = max(logits.values())
    exps = {c: math.exp(fusion.sharpen * (v - top)) for c, v in logits.items()}
    norm = sum(exps.values())
    fused = {c: v / norm for c, v in exps.items()}
    category = max(fused, key=lambda c: fused[c])
    confidence = min(fused[category], _MAX_CONFIDENCE)
    requests = sorted(REQUEST_CATEGORIES, key=lambda c: -fused[c])
    if category == "other":
        some_request = 1.0 - (fused if fusion.fused_net else p).get("other", 0.0)
        # the lexicon read the mail as everyday business ("kunt u de oude offerte
        # verwijderen") and the writer says nothing of their own person or data ("ik",
        # "mijn", "my"): the model must be surer before a human looks
        everyday = (
            not personal
            and not lexicon.needs_triage
            and any(h.dampened or (h.category == "other" and h.tier != "weak") for h in hits)
        )
        silent = not own and not any(h.category in REQUEST_CATEGORIES for h in hits)
        bar = max(
            fusion.everyday_bar if everyday else fusion.request_bar,
            fusion.silent_bar if silent else 0.0,
        )
        # a reviewed phrase that decides alone, undampened, in the writer's own words: however
        # sure the model is that a long mail is about other things, a human looks
        strong = fusion.strong_net and any(
            h.category in REQUEST_CATEGORIES
            and h.tier == "strong"
            and h.signal
            and not (h.dampened or h.subject)
            for h in hits
        )
        triage = (fusion.lexicon_triage and lexicon.needs_triage) or some_request > bar or strong
        guess = (lexicon.also or (requests[0],)) if triage else ()
        evidence = _evidence(hits, "other") + tuple(e for c in guess for e in _evidence(hits, c))
        learned = _learned(prediction, guess[0] if guess else "other")
        return Classification(
            category="other",
            confidence=round(confidence, 3),
            also=guess,
            language=language,
            auto_reply=False,
            needs_triage=triage,
            evidence=(evidence or ("no request phrase found",)) + learned,
            route="review",
            reason="",  # set by `_route`
        )
    best = total.get(category, 0.0)
    also = tuple(
        c for c in requests if c != category and total.get(c, 0.0) >= max(_MIN_ALSO, 0.35 * best)
    )
    dampened = any(h.dampened and h.signal and h.category == category for h in hits)
    return Classification(
        category=category,
        confidence=round(confidence, 3),
        also=also,
        language=language,
        auto_reply=False,
        needs_triage=confidence < threshold or dampened,
        evidence=_evidence(hits, category) + _learned(prediction, category)
        or ("no decisive phrase found",),
        route="review",
        reason="",  # set by `_route`
    )


def classify(
    *,
    text: str,
    subject: str = "",
    headers: Mapping[str, str] | None = None,
    threshold: float = 0.6,
    budget_s: float = BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
    language_hint: str | None = None,
) -> Classification:
    """Classify one mail's new text (quotes, signatures and disclaimers set aside).
    `language_hint` ("nl" or "en", from the headers and subject) decides the language of a
    mail whose words do not.

    At most `MAX_TEXT` characters of the new text are read. `budget_s` bounds the time:
    `clock` is read between steps, and once the budget is spent the answer is route
    `review` with reason "time budget exceeded" (a person looks; nothing is lost).
    """
    budget = Budget(clock, clock() + budget_s)
    try:
        mail = prepare(text, subject, headers, budget=budget, language_hint=language_hint)
        return classify_prepared(mail, threshold=threshold, budget=budget)
    except BudgetExceeded:
        return for_a_person(_OUT_OF_TIME)


def classify_prepared(
    mail: Prepared,
    *,
    threshold: float = 0.6,
    model: Model | None = None,
    fusion: Fusion = FUSION,
    budget: Budget | None = None,
) -> Classification:
    """Classify a prepared mail; `model` replaces the shipped one (cross-validation)."""
    if mail.auto_reply is not None:
        return Classification(
            category="other",
            confidence=1.0,
            also=(),
            language=mail.language,
            auto_reply=True,
            needs_triage=False,
            evidence=(mail.auto_reply,),
            route="ignore",
            reason="machine mail (auto-reply, delivery report or list)",
        )
    check = budget.check if budget is not None else None
    vocabulary = load_vocabulary()
    document = build_document(mail.subject, mail.body)
    hits = find_hits(document, vocabulary, business=mail.business, check=check)
    found = features(mail.subject, mail.body)
    prediction = (model or load_model()).predict(found)
    if check is not None:
        check()
    words = " ".join(mail.body).split()
    result = _combine(hits, prediction, words, mail.language, threshold, fusion)
    routed = _route(result, hits, prediction, words)
    return breach_route(routed, " ".join((*mail.subject, *mail.body)))
