"""Compat package."""
