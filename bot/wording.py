"""Dates and words in the requester's language (no locale database needed)."""

from __future__ import annotations

from datetime import date

MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def long_date(day: date, language: str) -> str:
    """`donderdag 2 april 2026` / `Thursday 2 April 2026`."""
    lang = language if language in MONTHS else "nl"
    return f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]} {day.year}"
