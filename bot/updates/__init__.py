"""How updates get from Telegram to the handlers: inbox, polling, webhook, exactly once."""
