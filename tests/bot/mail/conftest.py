"""Shared paths and settings for the mail-understanding tests."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
REALMAIL = Path("/work/shared/realmail/imap_tools")
OWN_DOMAINS = ("dsr.proambt.nl",)
LOOP_TOKEN = "s3cret-token"
