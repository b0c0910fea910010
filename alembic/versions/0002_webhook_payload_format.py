"""webhook payload format: standard, or compat (adds the /api/public camelCase keys)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:02:20.966442
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_format',
                                      sqlmodel.sql.sqltypes.AutoString(length=20),
                                      server_default='standard', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_column('payload_format')
