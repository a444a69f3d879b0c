"""How updates reach the bot: getUpdates, or Telegram's side of webhook mode."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bot.playground.emulator.model import ApiError


class WebhookMixin:
    """setWebhook, deleteWebhook and getUpdates, and the thread that POSTs to the webhook."""

    lock: Any
    updates_ready: Any
    updates: list[dict[str, Any]]
    fetched_up_to: int
    webhook: dict[str, Any] | None
    _webhook_thread: threading.Thread | None
    webhook_targets: list[str]
    webhook_timeout: float
    webhook_repeat_every: int
    webhook_posts: list[tuple[int, str, int]]

    def api_deletewebhook(self, params: dict[str, Any], files: Any) -> bool:
        self.webhook = None
        return True

    def api_setwebhook(self, params: dict[str, Any], files: Any) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("http://127.0.0.1", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: an HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = int(params.get("max_connections") or 40)
        self.webhook = {"url": url, "secret": secret, "max_connections": connections}
        if self._webhook_thread is None:
            self._webhook_thread = threading.Thread(target=self._deliver_to_webhook, daemon=True)
            self._webhook_thread.start()
        return True

    def _deliver_to_webhook(self) -> None:
        """Telegram's side of webhook mode: POST each update until the bot answers 200.

        As Telegram's Bot API server does, one chat's updates go one at a time and in order,
        while up to `max_connections` chats are delivered at once. With `webhook_targets`
        (several processes behind one URL) the targets are taken in turn, so an update that
        failed goes to the next one.
        """
        busy: set[object] = set()
        turns = itertools.count()
        with (
            httpx.Client(
                timeout=self.webhook_timeout,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            ) as client,
            ThreadPoolExecutor(max_workers=100) as pool,
        ):
            while True:
                with self.updates_ready:
                    picked = self._next_for_webhook(busy)
                    while picked is None:
                        self.updates_ready.wait(0.5)
                        picked = self._next_for_webhook(busy)
                    update, queue, hook = picked
                    busy.add(queue)
                pool.submit(self._post_update, client, update, queue, hook, next(turns), busy)

    def _next_for_webhook(
        self, busy: set[object]
    ) -> tuple[dict[str, Any], object, dict[str, Any]] | None:
        """The oldest update of a chat with nothing in flight (called under the lock)."""
        if not self.webhook or len(busy) >= self.webhook["max_connections"]:
            return None
        for update in self.updates:
            queue = _queue_of(update)
            if queue not in busy:
                return update, queue, dict(self.webhook)
        return None

    def _post_update(
        self,
        client: Any,
        update: dict[str, Any],
        queue: object,
        hook: dict[str, Any],
        turn: int,
        busy: set[object],
    ) -> None:
        targets = self.webhook_targets or [hook["url"]]
        delivered = self._post_once(client, targets[turn % len(targets)], update, hook) == 200
        if not delivered:
            time.sleep(0.3)
        with self.updates_ready:
            if delivered:
                self.updates = [u for u in self.updates if u is not update]
            busy.discard(queue)
            self.updates_ready.notify_all()
        every = self.webhook_repeat_every
        if delivered and every and update["update_id"] % every == 0:
            self._post_once(client, targets[(turn + 1) % len(targets)], update, hook)

    def _post_once(
        self, client: Any, url: str, update: dict[str, Any], hook: dict[str, Any]
    ) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret"]} if hook["secret"] else {}
        try:
            status = int(client.post(url, json=update, headers=headers).status_code)
        except httpx.HTTPError:
            status = 0
        with self.lock:
            self.webhook_posts.append((int(update["update_id"]), url, status))
        return status

    def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), 5.0)
        deadline = time.monotonic() + timeout
        with self.updates_ready:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                self.fetched_up_to = max(self.fetched_up_to, offset)
            while not self.updates and time.monotonic() < deadline:
                self.updates_ready.wait(deadline - time.monotonic())
            return [json.loads(json.dumps(u)) for u in self.updates[:limit]]


def _queue_of(update: dict[str, Any]) -> object:
    """The chat whose updates Telegram delivers one after another (or the update alone)."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict):
                return chat["id"]
    return ("update", update["update_id"])
