"""Alembic environment: the engine comes from crm_impl.db (or the -x url=... argument)."""

from alembic import context
from sqlmodel import SQLModel

import crm_impl.tables  # noqa: F401  (registers every table)
from crm_impl.core.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or get_engine(
        context.get_x_argument(as_dictionary=True).get("url")
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
