"""Webhooks package."""
