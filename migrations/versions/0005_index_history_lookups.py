"""index the history tables where --known-on looks records up one by one

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

`--known-on` asks, for every pledge, whether a pledge known at the time replaces it; past
versions are in pledges_history, which had no index on replaces_id, so each question scanned
the whole history; so did the check of a later sanction action of the same authority and
program. No record changes.
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
    op.create_index(
        'ix_sanction_actions_history_authority_program',
        'sanction_actions_history',
        ['authority', 'program'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_sanction_actions_history_authority_program', table_name='sanction_actions_history')
    op.drop_index('ix_pledges_history_replaces_id', table_name='pledges_history')
