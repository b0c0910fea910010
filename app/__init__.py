"""Flowdesk: forms, workflows and approvals."""
