"""Outbound email: the SMTP transport and the message templates (no database, no services)."""
