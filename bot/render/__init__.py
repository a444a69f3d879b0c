"""Board → Telegram HTML, PNG image, Markdown and JSON."""
