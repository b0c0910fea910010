"""Ui package."""
