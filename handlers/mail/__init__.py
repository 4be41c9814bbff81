"""Inbound mail edges: IMAP poller, SMTP/LMTP listener, pipe."""
