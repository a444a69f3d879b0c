"""The board as a Telegram Mini App (SPEC §13): the page's files in bot/web, its JSON API here."""
