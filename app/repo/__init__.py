"""Repo package."""
