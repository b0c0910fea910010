"""`python -m app.mcp`: the MCP server over stdio, for a desktop client that starts it.

The key comes from FLOWDESK_API_KEY, the database from the app's own settings (DATABASE_URL,
DATA_DIR): run it where the app runs, against the same database. It serves calls only; the
app (or `flowdesk worker`) executes the runs it starts. Logs go to stderr (stdout carries the
protocol).
"""

from __future__ import annotations

import os
import sys

from app.errors import DomainError
from app.mcp.server import Ctx, build_server
from app.services.api_access import KeyGrant, grant_of_secret

KEY_VARIABLE = "FLOWDESK_API_KEY"
# A process on this machine: a key limited to addresses is admitted when they include it.
LOCAL_ADDRESS = "127.0.0.1"


def local_grant(secret: str) -> KeyGrant:
    """Blocking: the key's grant, resolved afresh (a revoked key stops at its next call)."""
    grant = grant_of_secret(secret)
    grant.check_address(LOCAL_ADDRESS)
    return grant


def main() -> int:
    secret = os.environ.get(KEY_VARIABLE, "").strip()
    if not secret:
        print(f"{KEY_VARIABLE} is not set: give the server an API key (Settings → API keys)",
              file=sys.stderr)
        return 2
    try:
        local_grant(secret)
    except DomainError as exc:
        print(f"{KEY_VARIABLE} is refused: {exc}", file=sys.stderr)
        return 2

    def grant_of(_ctx: Ctx) -> KeyGrant:
        return local_grant(secret)

    build_server(grant_of).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
