"""Subscribe a URL to webhook events with the app's own service, in the app's environment.

    python -m bench.subscribe URL EVENT [EVENT …]     (prints the webhook id)

Used only when the REST route (POST /api/v1/webhooks) is not there yet. Run as a subprocess
with the deployment's environment, so the benchmark's own process never loads app settings.
"""

from __future__ import annotations

import sys

from app.db import write_session
from app.models import Actor
from app.repo import accounts as accounts_repo
from app.services.webhooks import create_webhook


def main() -> None:
    url, *events = sys.argv[1:]
    with write_session() as session:
        workspace = accounts_repo.first_workspace(session)
        assert workspace is not None, "seed the demo workspace first"
        created = create_webhook(session, workspace_id=workspace.id,
                                 actor=Actor.system("benchmark"), url=url, events=events)
    print(created.webhook.id)


if __name__ == "__main__":
    main()
