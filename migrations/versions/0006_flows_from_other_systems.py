"""flows from other systems: original amounts, value dates, versions, parent flows, boundaries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Importing OCHA FTS flows and IATI transactions needs, on a pledge, the amount, currency and
rate the source recorded beside the reported figure, the value date, the source's version
of the record, the flow it is part of, and whether the source's counting rules leave it out
of totals; on a disbursement, its id in the source and its value date. FTS records flows of
nothing (a parked parent whose money its children carry), so a pledge may now be of zero.
Every new column is empty for existing records; no record changes.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _pledge_columns() -> list[sa.Column]:
    return [
        sa.Column('original_amount', sa.String(length=40), nullable=True),
        sa.Column('original_currency', sa.String(length=3), nullable=True),
        sa.Column('exchange_rate', sa.String(length=40), nullable=True),
        sa.Column('value_on', sa.Date(), nullable=True),
        sa.Column('version', sa.String(length=50), nullable=True),
        sa.Column('part_of_id', sa.Integer(), nullable=True),
        sa.Column('boundary', sa.String(length=20), nullable=True),
    ]


def _disbursement_columns() -> list[sa.Column]:
    return [
        sa.Column('ref', sa.String(length=200), nullable=True),
        sa.Column('value_on', sa.Date(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        for column in _pledge_columns():
            batch_op.add_column(column)
        batch_op.drop_constraint(batch_op.f('ck_pledges_amount_positive'), type_='check')
        batch_op.create_check_constraint('amount_not_negative', 'amount_minor >= 0')
        batch_op.create_check_constraint('boundary', "boundary IN ('shared', 'internal')")
        batch_op.create_foreign_key(
            batch_op.f('fk_pledges_part_of_id_pledges'), 'pledges', ['part_of_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_pledges_part_of_id'), ['part_of_id'], unique=False)
    with op.batch_alter_table('pledges_history', schema=None) as batch_op:
        for column in _pledge_columns():
            batch_op.add_column(column)
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        for column in _disbursement_columns():
            batch_op.add_column(column)
        batch_op.create_unique_constraint(batch_op.f('uq_disbursements_ref'), ['ref'])
    with op.batch_alter_table('disbursements_history', schema=None) as batch_op:
        for column in _disbursement_columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table('disbursements_history', schema=None) as batch_op:
        for column in reversed(_disbursement_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_disbursements_ref'), type_='unique')
        for column in reversed(_disbursement_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table('pledges_history', schema=None) as batch_op:
        for column in reversed(_pledge_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledges_part_of_id'))
        batch_op.drop_constraint(batch_op.f('fk_pledges_part_of_id_pledges'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_pledges_boundary'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_pledges_amount_not_negative'), type_='check')
        batch_op.create_check_constraint('amount_positive', 'amount_minor > 0')
        for column in reversed(_pledge_columns()):
            batch_op.drop_column(column.name)
