"""What every feature of bot/handlers stands on: the command turn and the button press (each
one unit of work), reading an update, rights, the outbox and its sends, the status and digest
sections, the periodic sweep and the answer to a failed update."""
