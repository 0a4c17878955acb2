"""Alembic environment: migrate the engine ikm-sync hands over, or a URL from -x."""

from alembic import context
from sqlmodel import SQLModel

from core.store import tables  # noqa: F401  (registers the tables on the metadata)
from core.store.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit(
                "pass the database: alembic -x url=sqlite:///var/ikm-sync.db …"
            )
        engine = make_engine(url)
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


run_migrations()
