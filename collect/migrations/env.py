"""Alembic environment for the collect store.

The store runs migrations itself when it opens (`collect.database.migrate`), passing its own connection in
`config.attributes["connection"]`, so there is no alembic.ini and no separate step for an operator to forget.
"""

from alembic import context

from collect.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
