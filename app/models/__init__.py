"""Every table, imported here so SQLModel.metadata is complete for Alembic and the app."""

from app.models.actor import Actor
from app.models.api_key import SCOPES, ApiKey
from app.models.audit import AuditLog
from app.models.base import Role, RunStatus, StepStatus, Trigger, new_id
from app.models.compat import CompatNumber
from app.models.credential import CREDENTIAL_TYPES, Credential
from app.models.email import EmailKind, EmailStatus, OutboundEmail
from app.models.event import (
    EVENT_TYPES,
    DeliveryStatus,
    Event,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.models.file import StoredFile
from app.models.form import Form, FormSubmission, FormVersion
from app.models.idempotency import IdempotencyRecord
from app.models.run import Approval, ApprovalStatus, ApprovalVote, Run, StepRun
from app.models.schedule import FireKind, MissedPolicy, Schedule, ScheduleFire
from app.models.workflow import Workflow, WorkflowStatus, WorkflowVersion
from app.models.workspace import Membership, User, Workspace

__all__ = [
    "CREDENTIAL_TYPES",
    "EVENT_TYPES",
    "SCOPES",
    "Actor",
    "ApiKey",
    "Approval",
    "ApprovalStatus",
    "ApprovalVote",
    "AuditLog",
    "CompatNumber",
    "Credential",
    "DeliveryStatus",
    "EmailKind",
    "EmailStatus",
    "Event",
    "FireKind",
    "Form",
    "FormSubmission",
    "FormVersion",
    "IdempotencyRecord",
    "Membership",
    "MissedPolicy",
    "OutboundEmail",
    "Role",
    "Run",
    "RunStatus",
    "Schedule",
    "ScheduleFire",
    "StepRun",
    "StepStatus",
    "StoredFile",
    "Trigger",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "Workflow",
    "WorkflowStatus",
    "WorkflowVersion",
    "Workspace",
    "new_id",
]
