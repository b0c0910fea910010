"""File storage and the pure checks on uploaded bytes (type sniffing, safe names)."""
