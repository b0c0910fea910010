"""Steps package."""
