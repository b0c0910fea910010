"""The MCP server: Flowdesk's workflows, runs, approvals and forms as tools for AI agents,
over the same services and scoped API keys as the REST API (streamable HTTP at /mcp, stdio
with `python -m app.mcp`)."""
