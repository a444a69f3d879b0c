"""Persistence: SQLModel tables, queries that take a session, Alembic migrations."""
