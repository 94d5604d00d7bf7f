"""sources, claims and the history of every record

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:06:28.219006

"""
import re
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# The tables that become versioned, with the table whose created_at dates their records (a
# measure or an installment is as old as its sanction action or pledge).
VERSIONED = {
    "exchange_rates": None,
    "sanction_actions": None,
    "sanction_measures": ("sanction_actions", "sanction_id"),
    "pledges": None,
    "installments": ("pledges", "pledge_id"),
    "disbursements": None,
}
# Tables that gain voided_at, with the column of source_links naming their records.
SOURCED = {"sanction_actions": "sanction_id", "pledges": "pledge_id", "disbursements": "disbursement_id"}
URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:)]")


def _version_existing_records() -> None:
    """Give every record its first version and turn its source text into a linked source.

    One change, made now, holds the upgrade; each record's first version is known from the
    time the record was created. Source texts become source records (the URL in the text, if
    any, and the whole text as the title), linked as unverified: nobody has yet said how sure
    they are.
    """
    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    changes = sa.table("changes", sa.column("id"), sa.column("at"), sa.column("analyst"),
                       sa.column("command"), sa.column("reason"))
    # A database with records gets the change that dates their first versions; a new, empty
    # one gets none (a change that changes nothing is never kept).
    stored = sum(
        bind.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one() for name in VERSIONED
    )
    change = None
    if stored:
        bind.execute(changes.insert().values(
            at=now, analyst="fintrack", command="db upgrade 0003",
            reason="history begins: each record as it stood before fintrack kept its history",
        ))
        change = bind.execute(sa.select(sa.func.max(changes.c.id))).scalar_one()

    for name in VERSIONED:
        with op.batch_alter_table(name) as batch_op:
            if name in SOURCED:
                batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('known_from', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('change_id', sa.Integer(), nullable=True))
    for name, parent in VERSIONED.items():
        if parent is None:
            since = "created_at"
        else:
            table, column = parent
            since = f"(SELECT p.created_at FROM {table} p WHERE p.id = {name}.{column})"
        bind.execute(sa.text(f"UPDATE {name} SET known_from = {since}, change_id = :change"),
                     {"change": change})

    sources = sa.table("sources", sa.column("id"), sa.column("url"), sa.column("title"),
                       sa.column("created_at"), sa.column("change_id"))
    links = sa.table("source_links", *(sa.column(c) for c in (
        "source_id", "sanction_id", "pledge_id", "disbursement_id", "claim_id", "confidence",
        "known_from", "change_id")))
    known: dict[tuple[str | None, str | None], int] = {}
    for name, link_column in SOURCED.items():
        rows = bind.execute(sa.text(
            f"SELECT id, source, created_at FROM {name} WHERE source IS NOT NULL ORDER BY id"
        )).all()
        for record_id, text, created_at in rows:
            text = text.strip()
            if not text:
                continue
            found = URL.search(text)
            url = found.group(0)[:2000] if found else None
            title = None if url == text else text
            key = (url, None) if url else (None, title)
            if key not in known:
                bind.execute(sources.insert().values(
                    url=url, title=title, created_at=now, change_id=change))
                known[key] = bind.execute(sa.select(sa.func.max(sources.c.id))).scalar_one()
            bind.execute(links.insert().values(
                source_id=known[key], confidence="unverified", known_from=created_at,
                change_id=change, **{link_column: record_id}))

    for name in VERSIONED:
        with op.batch_alter_table(name) as batch_op:
            batch_op.alter_column('known_from', existing_type=sa.DateTime(), nullable=False)
            batch_op.alter_column('change_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{name}_change_id_changes'), 'changes', ['change_id'], ['id'])
            if name in SOURCED:
                batch_op.drop_column('source')


def upgrade() -> None:
    """Upgrade schema."""
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('analyst', sa.String(length=200), nullable=False),
    sa.Column('command', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changes'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_changes_at'), ['at'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('stated_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['changes.id'], name=op.f('fk_claims_change_id_changes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('ref', name=op.f('uq_claims_ref'))
    )
    op.create_table('claims_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('stated_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_claims_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_claims_history'))
    )
    with op.batch_alter_table('claims_history', schema=None) as batch_op:
        batch_op.create_index('ix_claims_history_id', ['id'], unique=False)

    op.create_table('disbursements_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('installment_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_disbursements_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_disbursements_history'))
    )
    with op.batch_alter_table('disbursements_history', schema=None) as batch_op:
        batch_op.create_index('ix_disbursements_history_id', ['id'], unique=False)

    op.create_table('exchange_rates_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('base', sa.String(length=3), nullable=False),
    sa.Column('quote', sa.String(length=3), nullable=False),
    sa.Column('rate_on', sa.Date(), nullable=False),
    sa.Column('rate', sa.String(length=40), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_exchange_rates_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_exchange_rates_history'))
    )
    with op.batch_alter_table('exchange_rates_history', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_rates_history_id', ['id'], unique=False)

    op.create_table('installments_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_installments_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_installments_history'))
    )
    with op.batch_alter_table('installments_history', schema=None) as batch_op:
        batch_op.create_index('ix_installments_history_id', ['id'], unique=False)

    op.create_table('pledges_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=True),
    sa.Column('donor', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=True),
    sa.Column('schedule_assumed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_pledges_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_pledges_history'))
    )
    with op.batch_alter_table('pledges_history', schema=None) as batch_op:
        batch_op.create_index('ix_pledges_history_id', ['id'], unique=False)

    op.create_table('sanction_actions_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=True),
    sa.Column('authority', sa.String(length=50), nullable=False),
    sa.Column('program', sa.String(length=100), nullable=True),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('deadline_on', sa.Date(), nullable=True),
    sa.Column('deadline_label', sa.String(length=300), nullable=True),
    sa.Column('legal_ref', sa.String(length=300), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_sanction_actions_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_sanction_actions_history'))
    )
    with op.batch_alter_table('sanction_actions_history', schema=None) as batch_op:
        batch_op.create_index('ix_sanction_actions_history_id', ['id'], unique=False)

    op.create_table('sanction_measures_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sanction_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=100), nullable=False),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_sanction_measures_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_sanction_measures_history'))
    )
    with op.batch_alter_table('sanction_measures_history', schema=None) as batch_op:
        batch_op.create_index('ix_sanction_measures_history_id', ['id'], unique=False)

    op.create_table('source_links_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('sanction_id', sa.Integer(), nullable=True),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('disbursement_id', sa.Integer(), nullable=True),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.String(length=20), nullable=False),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('known_until', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by'], ['changes.id'], name=op.f('fk_source_links_history_ended_by_changes')),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_source_links_history'))
    )
    with op.batch_alter_table('source_links_history', schema=None) as batch_op:
        batch_op.create_index('ix_source_links_history_id', ['id'], unique=False)

    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('publisher', sa.String(length=200), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('retrieved_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('url IS NOT NULL OR title IS NOT NULL', name=op.f('ck_sources_named')),
    sa.ForeignKeyConstraint(['change_id'], ['changes.id'], name=op.f('fk_sources_change_id_changes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('url', name=op.f('uq_sources_url'))
    )
    op.create_table('source_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('sanction_id', sa.Integer(), nullable=True),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('disbursement_id', sa.Integer(), nullable=True),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.String(length=20), nullable=False),
    sa.Column('known_from', sa.DateTime(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("confidence IN ('confirmed', 'reported', 'unverified', 'denied')", name=op.f('ck_source_links_confidence')),
    sa.CheckConstraint('(CASE WHEN sanction_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN pledge_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN disbursement_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN claim_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_source_links_one_record')),
    sa.ForeignKeyConstraint(['change_id'], ['changes.id'], name=op.f('fk_source_links_change_id_changes')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_source_links_claim_id_claims')),
    sa.ForeignKeyConstraint(['disbursement_id'], ['disbursements.id'], name=op.f('fk_source_links_disbursement_id_disbursements')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_source_links_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['sanction_id'], ['sanction_actions.id'], name=op.f('fk_source_links_sanction_id_sanction_actions')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_links_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_links'))
    )
    with op.batch_alter_table('source_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_links_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_links_disbursement_id'), ['disbursement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_links_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_links_sanction_id'), ['sanction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_links_source_id'), ['source_id'], unique=False)

    _version_existing_records()
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_pledges_replaces_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_pledges_replaces_id'), ['replaces_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    """Downgrade schema."""
    # ### commands auto generated by Alembic - please adjust! ###
    bind = op.get_bind()
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledges_replaces_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_pledges_replaces_id'), ['replaces_id'])
    for name in VERSIONED:
        with op.batch_alter_table(name) as batch_op:
            if name in SOURCED:
                batch_op.add_column(sa.Column('source', sa.Text(), nullable=True))
            batch_op.drop_constraint(batch_op.f(f'fk_{name}_change_id_changes'), type_='foreignkey')
            batch_op.drop_column('change_id')
            batch_op.drop_column('known_from')
            if name in SOURCED:
                batch_op.drop_column('voided_at')
    # Each record gets back, as its source text, the title (or URL) of its first linked source.
    for name, link_column in SOURCED.items():
        bind.execute(sa.text(
            f"UPDATE {name} SET source = (SELECT COALESCE(s.title, s.url) FROM source_links l "
            f"JOIN sources s ON s.id = l.source_id WHERE l.{link_column} = {name}.id "
            "ORDER BY l.id LIMIT 1)"
        ))

    with op.batch_alter_table('source_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_links_source_id'))
        batch_op.drop_index(batch_op.f('ix_source_links_sanction_id'))
        batch_op.drop_index(batch_op.f('ix_source_links_pledge_id'))
        batch_op.drop_index(batch_op.f('ix_source_links_disbursement_id'))
        batch_op.drop_index(batch_op.f('ix_source_links_claim_id'))

    op.drop_table('source_links')
    op.drop_table('sources')
    with op.batch_alter_table('source_links_history', schema=None) as batch_op:
        batch_op.drop_index('ix_source_links_history_id')

    op.drop_table('source_links_history')
    with op.batch_alter_table('sanction_measures_history', schema=None) as batch_op:
        batch_op.drop_index('ix_sanction_measures_history_id')

    op.drop_table('sanction_measures_history')
    with op.batch_alter_table('sanction_actions_history', schema=None) as batch_op:
        batch_op.drop_index('ix_sanction_actions_history_id')

    op.drop_table('sanction_actions_history')
    with op.batch_alter_table('pledges_history', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_history_id')

    op.drop_table('pledges_history')
    with op.batch_alter_table('installments_history', schema=None) as batch_op:
        batch_op.drop_index('ix_installments_history_id')

    op.drop_table('installments_history')
    with op.batch_alter_table('disbursements_history', schema=None) as batch_op:
        batch_op.drop_index('ix_disbursements_history_id')

    op.drop_table('disbursements_history')
    with op.batch_alter_table('exchange_rates_history', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_rates_history_id')

    op.drop_table('exchange_rates_history')
    with op.batch_alter_table('claims_history', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_history_id')

    op.drop_table('claims_history')
    op.drop_table('claims')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_changes_at'))

    op.drop_table('changes')
    # ### end Alembic commands ###
