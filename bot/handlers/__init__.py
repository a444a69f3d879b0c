"""Thin Telegram glue, one module per feature."""
