"""The playground: the real bot against a built-in Telegram stand-in, played in a browser."""
