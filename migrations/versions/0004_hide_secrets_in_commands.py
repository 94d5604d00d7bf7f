"""hide the secrets of database URLs in the command lines of stored changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

"""
import re
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# The rule of fintrack.store when this revision was written, kept here so that the migration
# does the same whatever later versions of fintrack do: the password of user:password@, and
# the values of query parameters whose name holds one of these words, become ***.
SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
MASK = "***"
COMMAND_LENGTH = 200
# A --db value as shlex.join stored it: one word, or a single-quoted one (which a cut may
# have left open).
DB_VALUE = re.compile(r"(?P<head>--db[ =])(?P<value>'[^']*'?|\S+)")
# user:password@ in a --db value, where the password runs to the first @ (as SQLAlchemy reads
# it), or to the end of a value that was cut.
DB_USERINFO = re.compile(r"^(?P<head>'?[\w+]+://[^:/']*:)(?P<secret>[^@']*)(?P<end>@|$)")
DB_PARAMETER = re.compile(r"(?P<head>[?&;](?P<name>[^=&;?#']*)=)(?P<secret>[^&']*)")
# Any other URL among the words.
TEXT_USERINFO = re.compile(r"(?P<head>[\w+]+://[^:/@\s']*:)(?P<secret>[^@\s']*)@")
TEXT_PARAMETER = re.compile(r"(?P<head>[?&;](?P<name>[^=&;?#\s']*)=)(?P<secret>[^&\s']*)")
# The end of a command cut at its column's length in the middle of a password.
CUT_USERINFO = re.compile(r"(?P<head>[\w+]+://[^:/@\s']*:)(?P<secret>[^@']+)$")


def _parameter(found: "re.Match[str]") -> str:
    if SECRET_PARAMETER.search(found["name"]) and found["secret"]:
        return found["head"] + MASK
    return found[0]


def hide_secrets(command: str) -> str:
    """The command line with the secrets of every URL in it replaced by ***."""
    cut = len(command) >= COMMAND_LENGTH

    def database(found: "re.Match[str]") -> str:
        value = found["value"]
        userinfo = DB_USERINFO.match(value)
        at_end = found.end() == len(command)
        if userinfo and (userinfo["end"] == "@" or (cut and at_end)):
            value = userinfo["head"] + MASK + value[userinfo.start("end"):]
        return found["head"] + DB_PARAMETER.sub(_parameter, value)

    hidden = DB_VALUE.sub(database, command)
    hidden = TEXT_USERINFO.sub(rf"\g<head>{MASK}@", hidden)
    hidden = TEXT_PARAMETER.sub(_parameter, hidden)
    if cut:
        hidden = CUT_USERINFO.sub(rf"\g<head>{MASK}", hidden)
    return hidden[:COMMAND_LENGTH]


def upgrade() -> None:
    """Rewrite every stored command line that shows a secret; every change is kept."""
    bind = op.get_bind()
    changes = sa.table("changes", sa.column("id", sa.Integer), sa.column("command", sa.String))
    rows = bind.execute(sa.select(changes.c.id, changes.c.command)).all()
    for change_id, command in rows:
        if command is None:
            continue
        hidden = hide_secrets(command)
        if hidden != command:
            bind.execute(
                changes.update().where(changes.c.id == change_id).values(command=hidden)
            )


def downgrade() -> None:
    """Nothing to undo: the hidden secrets are not kept anywhere."""
