"""What the core tables hold of a person and of a board, and how it is deleted (SPEC §11).

Registered with bot/store/erasure.py, so `/forgetme`, `/deleteboard` and retention reach them;
imported at start by bot/handlers/privacy.py.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.store import queries
from bot.store.erasure import board_eraser, person_eraser
from bot.updates.unit import current_update_id

NOT_BOARD_BOUND = 0  # the key of rows that belong to no board (memberships, chats, updates)


@person_eraser("core")
def forget_person(session: Session, person_id: int) -> dict[int, int]:
    """The person's entries on every board (deleted), the groups that saw them, the boards they
    created (kept, without creator), their private chat and the updates that name them."""
    counts = queries.delete_entries_of(session, person_id=person_id)
    others = (
        queries.forget_member(session, person_id=person_id)
        + queries.disown_boards(session, person_id=person_id)
        + queries.forget_private_chat(session, person_id=person_id)
        + queries.scrub_inbox(session, person_id=person_id, current_update_id=current_update_id())
    )
    if others:
        counts[NOT_BOARD_BOUND] = counts.get(NOT_BOARD_BOUND, 0) + others
    return counts


@board_eraser("core")
def erase_board_rows(session: Session, board_id: int) -> int:
    """A board's cards, entries, claims of scheduled posts and its chat's cool-downs."""
    board = queries.board_by_id(session, board_id)
    if board is None:
        return 0
    return queries.delete_board_rows(session, board=board)
