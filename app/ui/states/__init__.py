"""States package."""
