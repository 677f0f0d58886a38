"""Answer counts kept as answers arrive: a table per (form, question, option), kept by triggers.

The triggers count a value while its response is current: adding or removing values of a current answer,
a response becoming current or not, and deleting a current answer (before the cascade removes its values;
a value deleted by that cascade no longer finds its response, so it is not taken off twice). Being
triggers, they also cover bulk statements and every writer, not only the ORM. On PostgreSQL each change
first takes a lock per form, so answers sent at once wait for each other instead of deadlocking on count
rows taken in different orders. The counts of the answers already stored are filled in here.

Revision ID: counts_1
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'counts_1'
down_revision = '0002'
branch_labels = None
depends_on = None

UPSERT = (
    "ON CONFLICT (form_slug, field, value) DO UPDATE SET count = answer_counts.count + excluded.count, "
    "place_sum = answer_counts.place_sum + excluded.place_sum"
)
INTO = "INSERT INTO answer_counts (form_slug, field, value, count, place_sum)"


def _value(row: str, sign: str) -> str:
    """Count one answer value (NEW or OLD) in or out, when its response is current."""
    return (
        f"{INTO} SELECT {row}.form_slug, {row}.field, {row}.value, {sign}1, {sign}coalesce({row}.position, 0) "
        f"WHERE (SELECT is_current FROM responses WHERE id = {row}.response_id) {UPSERT};"
    )


def _response(sign: str) -> str:
    """Count all values of the response OLD in or out (the sign is an SQL expression)."""
    return (
        f"{INTO} SELECT form_slug, field, value, ({sign}) * count(*), ({sign}) * coalesce(sum(position), 0) "
        "FROM answer_values WHERE response_id = OLD.id GROUP BY form_slug, field, value "
        f"ORDER BY form_slug, field, value {UPSERT};"
    )


SQLITE = [
    f"CREATE TRIGGER answer_counts_value_added AFTER INSERT ON answer_values BEGIN {_value('NEW', '')} END",
    f"CREATE TRIGGER answer_counts_value_removed AFTER DELETE ON answer_values BEGIN {_value('OLD', '-')} END",
    "CREATE TRIGGER answer_counts_value_changed AFTER UPDATE ON answer_values "
    f"BEGIN {_value('OLD', '-')} {_value('NEW', '')} END",
    "CREATE TRIGGER answer_counts_response_current AFTER UPDATE OF is_current ON responses "
    "WHEN OLD.is_current IS NOT NEW.is_current "
    f"BEGIN {_response('CASE WHEN NEW.is_current THEN 1 ELSE -1 END')} END",
    "CREATE TRIGGER answer_counts_response_deleted BEFORE DELETE ON responses WHEN OLD.is_current "
    f"BEGIN {_response('-1')} END",
]

LOCK = "PERFORM pg_advisory_xact_lock(hashtext('answer_counts ' || {}.form_slug));"
POSTGRESQL = [
    f"""CREATE FUNCTION answer_counts_value() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {LOCK.format('OLD')}
            {_value('OLD', '-')}
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {LOCK.format('NEW')}
            {_value('NEW', '')}
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER answer_counts_value AFTER INSERT OR UPDATE OR DELETE ON answer_values "
    "FOR EACH ROW EXECUTE FUNCTION answer_counts_value()",
    f"""CREATE FUNCTION answer_counts_response() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {LOCK.format('OLD')}
        {_response("CASE WHEN TG_OP = 'UPDATE' AND NEW.is_current THEN 1 ELSE -1 END")}
        RETURN OLD;
    END $$""",
    "CREATE TRIGGER answer_counts_response_current AFTER UPDATE OF is_current ON responses "
    "FOR EACH ROW WHEN (OLD.is_current IS DISTINCT FROM NEW.is_current) EXECUTE FUNCTION answer_counts_response()",
    "CREATE TRIGGER answer_counts_response_deleted BEFORE DELETE ON responses "
    "FOR EACH ROW WHEN (OLD.is_current) EXECUTE FUNCTION answer_counts_response()",
]


def upgrade():
    op.create_table('answer_counts',
    sa.Column('form_slug', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('place_sum', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('form_slug', 'field', 'value')
    )
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    op.execute(
        f"{INTO} SELECT v.form_slug, v.field, v.value, count(*), coalesce(sum(v.position), 0) "
        "FROM answer_values v JOIN responses r ON r.id = v.response_id WHERE r.is_current "
        "GROUP BY v.form_slug, v.field, v.value"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION answer_counts_value() CASCADE")  # with its triggers
        op.execute("DROP FUNCTION answer_counts_response() CASCADE")
    else:
        for name in ("value_added", "value_removed", "value_changed", "response_current", "response_deleted"):
            op.execute(f"DROP TRIGGER answer_counts_{name}")
    op.drop_table('answer_counts')
