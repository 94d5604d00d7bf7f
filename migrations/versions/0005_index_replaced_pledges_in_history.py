"""index which pledge each past version of a pledge replaces

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

`--known-on` asks, for every pledge, whether a pledge known at the time replaces it; past
versions are in pledges_history, which had no index on replaces_id, so each question scanned
the whole history. No record changes.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_pledges_history_replaces_id', 'pledges_history', ['replaces_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pledges_history_replaces_id', table_name='pledges_history')
