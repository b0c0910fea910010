"""Who is acting: the one type every use case receives, whether a signed-in member on a
page, an API key on the REST API, a public form, or the system (scheduler, CLI, engine).

Services check permissions against it (`role` for members, `scopes` for keys), scope their
reads by `workspace_id`, and write it to the audit log (`type`, `id`, `label`,
`request_id`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

USER = "user"
API_KEY = "api_key"
SYSTEM = "system"
PUBLIC = "public"


@dataclass(frozen=True)
class Actor:
    type: str  # USER | API_KEY | SYSTEM | PUBLIC
    id: str | None = None  # the user's or the key's id
    label: str = ""  # what the timeline and audit log show: an email, a key prefix
    request_id: str | None = None
    workspace_id: str = ""  # the workspace acted in ("" for the system outside one)
    email: str | None = None  # a member's
    role: str | None = None  # a member's role in `workspace_id`
    scopes: frozenset[str] = field(default=frozenset())  # an API key's

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type=SYSTEM, label=label)

    @classmethod
    def user(cls, *, user_id: str, email: str, role: str | None = None,
             workspace_id: str = "", request_id: str | None = None) -> Actor:
        """A member acting in `workspace_id` with `role` (no role: outside any workspace)."""
        return cls(type=USER, id=user_id, label=email, email=email, role=role,
                   workspace_id=workspace_id, request_id=request_id)

    @classmethod
    def api_key(cls, *, key_id: str, prefix: str, workspace_id: str, scopes: frozenset[str],
                request_id: str | None = None) -> Actor:
        return cls(type=API_KEY, id=key_id, label=prefix, workspace_id=workspace_id,
                   scopes=scopes, request_id=request_id)

    @property
    def display(self) -> str:
        return self.label or (f"{self.type}:{self.id}" if self.id else self.type)

    @property
    def ref(self) -> str | None:
        """`type:id` of a person or key (a run's requester, a voter); None for the system
        and the public."""
        return f"{self.type}:{self.id}" if self.type in (USER, API_KEY) and self.id else None

    @property
    def is_user(self) -> bool:
        return self.type == USER

    def with_request(self, request_id: str | None) -> Actor:
        return replace(self, request_id=request_id)
