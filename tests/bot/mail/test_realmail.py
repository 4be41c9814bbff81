"""Real-world mails collected by imap_tools (read in place, never copied into this repo)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest

from bot.mail.machine import MachineKind, classify_sender
from bot.mail.parse import ParsedMail, parse_message
from tests.bot.mail.conftest import OWN_DOMAINS, REALMAIL

FILES = sorted(REALMAIL.glob("*.eml"))
pytestmark = pytest.mark.skipif(not FILES, reason=f"no real mails at {REALMAIL}")


def _parse(name: str) -> ParsedMail:
    return parse_message((REALMAIL / name).read_bytes())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parses_and_classifies_without_exception(path: Path) -> None:
    mail = parse_message(path.read_bytes())
    verdict = classify_sender(mail, own_domains=OWN_DOMAINS)
    assert isinstance(mail.text, str)
    assert verdict.kind in get_args(MachineKind)
    if path.name.startswith("multipart_report_"):
        assert mail.is_delivery_report
        assert verdict.kind == "bounce"
        assert verdict.answer_to is None


@pytest.mark.parametrize(
    ("name", "bounced_id", "recipients"),
    [
        (
            "multipart_report_emails_multi_address_bounce1.eml",
            "<118707422.15521266992174819.JavaMail.root@lvmail01>",
            5,
        ),
        (
            "multipart_report_emails_report_422.eml",
            "<15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au>",
            1,
        ),
        (
            "multipart_report_emails_report_530.eml",
            "<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>",
            1,
        ),
        (
            "multipart_report_emails_multipart_report_multiple_status.eml",
            "<4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail>",
            1,
        ),
    ],
)
def test_delivery_reports_name_the_original(name: str, bounced_id: str, recipients: int) -> None:
    mail = _parse(name)
    assert mail.bounced_message_id == bounced_id
    assert len(mail.bounced_recipients) == recipients


def test_report_recipients_and_null_return_path() -> None:
    mail = _parse("multipart_report_emails_multipart_report_multiple_status.eml")
    assert mail.return_path == ""
    assert mail.bounced_recipients == ("u@ci.com",)
    assert mail.recipients == ("notification+promo@blah.com",)


def test_japanese_subjects_and_bodies() -> None:
    mail = _parse("multi_charset_japanese.eml")
    assert mail.subject == "まみむめも"
    assert mail.text.startswith("かきくえこ")
    assert mail.message_id is None
    assert _parse("multi_charset_japanese_shift_jis.eml").text.startswith("あいうえお")
    assert _parse("multi_charset_japanese_iso_2022.eml").text == "すみません。"
    names = [a.filename for a in _parse("multi_charset_japanese_attachment.eml").attachments]
    assert names == ["てすと.txt"]


def test_korean_label_ks_c_5601_is_understood() -> None:
    assert _parse("multi_charset_ks_c_5601-1987.eml").text == "스티해"


def test_russian_forward_is_marked_and_included() -> None:
    mail = _parse("forwarded_message.eml")
    assert mail.subject == "статус"
    assert mail.in_reply_to == "<20171011085432.15374.20485@web.hades.company>"
    assert mail.text.startswith("---------- Forwarded message ----------\nFrom: group@company.ru")
    assert "Новый заказ" in mail.text
    assert [a.content_type for a in mail.attachments] == ["message/rfc822"]


def test_base64_encoded_forward_is_decoded() -> None:
    mail = _parse("attachment_2_base64.eml")
    assert "Subject: [ikvk/imap_tools] does not extract attached EML files (#4)" in mail.text
    assert any("message/rfc822 part in base64" in d for d in mail.defects)


def test_utf8_headers_rfc6532() -> None:
    mail = _parse("rfc6532_utf8_headers.eml")
    assert mail.subject == "Säying Hello"
    assert mail.sender == "jdöe@mächine.example"


def test_broken_dates_become_none_and_good_dates_are_aware() -> None:
    assert _parse("error_emails_bad_date_header.eml").date is None
    assert _parse("plain_emails_raw_email_with_bad_date.eml").date is None
    date = _parse("rfc2822_example01.eml").date
    assert date == datetime(1997, 11, 21, 15, 55, 6, tzinfo=UTC)


def test_filenames_rfc2231_and_encoded() -> None:
    names = [
        a.filename for a in _parse("attachment_emails_attachment_nonascii_filename.eml").attachments
    ]
    assert names == ["ciële.txt"]
    quoted = _parse("attachment_emails_attachment_with_quoted_filename.eml")
    assert quoted.subject == "Eelanalüüsi päring"
    assert [a.filename for a in quoted.attachments] == ["Eelanalüüsi päring.jpg"]


def test_french_contact_form_answers_the_reply_to() -> None:
    mail = _parse("text_with_content_id.eml")
    verdict = classify_sender(mail, own_domains=OWN_DOMAINS)
    assert mail.sender == "ne-pas-repondre@email-test.fr"
    assert verdict.kind == "person"
    assert verdict.answer_to == "emmanuellehelou@orange.fr"
    assert "no-reply sender" in verdict.reason


def test_sender_without_angle_brackets_is_still_found() -> None:
    assert _parse("plain_emails_mix_caps_content_type.eml").sender == "bb@bug.com"


def test_machine_signals_in_real_mail() -> None:
    junk = classify_sender(_parse("error_emails_bad_date_header.eml"), own_domains=OWN_DOMAINS)
    assert (junk.kind, junk.reason) == ("auto_reply", "Precedence: junk")
    listed = classify_sender(_parse("error_emails_empty_in_reply_to.eml"), own_domains=OWN_DOMAINS)
    assert listed.kind == "list"
