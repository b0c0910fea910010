"""Use cases shared by the API, the pages and the CLI: keyword-only, given the session,
owning the transaction, writing audit rows and outbox events, raising domain errors."""
