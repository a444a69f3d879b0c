// The playground's page: a group chat drawn as Telegram draws it, played by three members.
// Everything a person typed is set as text (textContent) or through render.js, never as HTML.

import { appendTelegramHtml, plainText } from "./render.js";

const language = (navigator.languages?.[0] || navigator.language || "de").toLowerCase().startsWith("en")
  ? "en"
  : "de";
const MINIAPP_LINK = /^https:\/\/t\.me\/[A-Za-z0-9_]+\/[A-Za-z0-9_]+\?(?:.*&)?startapp=([^&#]+)/;
const POLL_EVERY_MS = 500;

let T = {};
let member = 0;
let replyTo = null;
let loaded = false;
let refusalsShown = 0;
let lastState = null;
const shown = new Map(); // message id → { signature, element }

const $ = (id) => document.getElementById(id);

function text(key, values = {}) {
  return (T[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

async function call(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  if (!response.ok) {
    const error = new Error(await response.text());
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function notice(message, isError = false) {
  const line = $("status-line");
  line.hidden = !message;
  line.textContent = message || "";
  line.classList.toggle("error", isError);
}

// ---- members -----------------------------------------------------------------------------

function drawMembers(members) {
  const list = $("members");
  members.forEach((person, index) => {
    let row = list.children[index];
    if (!row) {
      row = element("li", "member");
      const pick = element("button", "pick");
      pick.type = "button";
      pick.addEventListener("click", () => {
        member = index;
        drawMembers(lastState.members);
        $("input").focus();
      });
      const name = element("input", "name");
      name.setAttribute("aria-label", text("name_label", { number: index + 1 }));
      name.maxLength = 64;
      name.addEventListener("change", async () => {
        try {
          await call("/api/rename", { member: index, name: name.value });
        } catch (error) {
          notice(error.message, true);
        }
      });
      const role = element("div", "role", index === 0 ? text("owner") : text("member"));
      row.append(pick, name, role);
      list.append(row);
    }
    row.classList.toggle("current", index === member);
    row.dataset.member = String(index);
    const [pick, name] = row.children;
    pick.textContent = person.name.slice(0, 1).toUpperCase();
    pick.style.background = colour(person.id);
    pick.setAttribute("aria-pressed", String(index === member));
    if (document.activeElement !== name) name.value = person.name;
  });
  $("writing-as").textContent = `${text("writing_as")} ${members[member].name}`;
}

function colour(id) {
  const palette = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb"];
  return palette[Math.abs(id) % palette.length];
}

// ---- messages ----------------------------------------------------------------------------

function signature(message, state) {
  const quoted = message.reply_to ? state.byId.get(message.reply_to) : null;
  return JSON.stringify([message, quoted?.text, quoted?.caption, quoted?.from?.name, member]);
}

function senderName(message, state) {
  if (message.bot) return state.bot.name;
  return message.from?.name ?? state.title;
}

function drawMessage(message, state) {
  const mine = !message.bot && message.from?.id === state.members[member]?.id;
  const row = element("div", "message");
  row.dataset.messageId = String(message.id);
  row.classList.toggle("bot", message.bot);
  row.classList.toggle("mine", mine);
  if (message.service) {
    row.classList.add("service");
    row.append(element("div", "bubble", text("bot")));
    return row;
  }
  const bubble = element("div", "bubble");
  if (!mine) {
    const name = element("div", "sender", senderName(message, state));
    name.style.color = colour(message.from?.id ?? 0);
    bubble.append(name);
  }
  if (message.reply_to) {
    const quoted = state.byId.get(message.reply_to);
    const quote = element("div", "quote");
    if (quoted) {
      quote.append(element("div", "quote-name", senderName(quoted, state)));
      const preview = plainText(quoted.text ?? quoted.caption ?? quoted.file_name ?? "", quoted.html);
      quote.append(element("div", "quote-text", preview.split("\n")[0].slice(0, 120)));
      quote.addEventListener("click", () => scrollToMessage(quoted.id));
    }
    bubble.append(quote);
  }
  if (message.kind === "photo" && message.file) {
    const image = element("img", "photo");
    image.src = message.file;
    image.alt = message.file_name ?? "";
    image.addEventListener("load", () => keepBottom());
    bubble.append(image);
  } else if (message.kind === "document" && message.file) {
    const link = element("a", "document");
    link.href = `${message.file}?download=1`;
    link.download = message.file_name ?? "file";
    link.append(element("span", "document-icon", "📄"), element("span", "document-name", message.file_name ?? ""));
    link.append(element("span", "document-action", text("download")));
    bubble.append(link);
  }
  const body = message.text ?? message.caption;
  if (body) {
    const content = element("div", "text");
    if (message.html) appendTelegramHtml(content, body);
    else content.textContent = body;
    bubble.append(content);
  }
  if (message.poll) bubble.append(drawPoll(message));
  const meta = element("div", "meta");
  for (const emoji of message.reactions) meta.append(element("span", "reaction", emoji));
  if (message.edited) meta.append(element("span", "edited", text("edited")));
  const when = new Date(message.date * 1000);
  meta.append(element("span", "time", when.toLocaleTimeString(language, { hour: "2-digit", minute: "2-digit" })));
  bubble.append(meta);
  row.append(bubble);
  const keyboard = message.markup?.inline_keyboard;
  if (keyboard) row.append(drawKeyboard(message, keyboard));
  const reply = element("button", "reply-button", "↩");
  reply.type = "button";
  reply.title = text("reply");
  reply.setAttribute("aria-label", text("reply"));
  reply.addEventListener("click", () => startReply(message.id));
  row.append(reply);
  return row;
}

function drawKeyboard(message, keyboard) {
  const box = element("div", "keyboard");
  for (const buttons of keyboard) {
    const line = element("div", "keyboard-row");
    for (const button of buttons) {
      const tap = element("button", "inline-button", button.text);
      tap.type = "button";
      if (button.url) tap.classList.add("link");
      tap.addEventListener("click", () => pressButton(message, button));
      line.append(tap);
    }
    box.append(line);
  }
  return box;
}

async function pressButton(message, button) {
  try {
    if (button.callback_data !== undefined) {
      await call("/api/press", { member, message_id: message.id, data: button.callback_data });
    } else if (button.url) {
      const start = MINIAPP_LINK.exec(button.url);
      if (start) await openMiniApp(decodeURIComponent(start[1]));
      else window.open(button.url, "_blank", "noopener");
    } else if (button.web_app?.url) {
      window.open(button.web_app.url, "_blank", "noopener");
    }
  } catch (error) {
    notice(error.message, true);
  }
}

// Hook for the Mini App (SPEC §13): a `https://t.me/<bot>/<short>?startapp=<token>` button opens
// the bot's /app/ beside the chat, with init data signed by the playground's own token.
async function openMiniApp(start) {
  const { src } = await call("/api/miniapp", { member, start });
  $("miniapp-frame").src = src;
  $("miniapp").hidden = false;
}

function drawPoll(message) {
  const poll = message.poll;
  const box = element("div", "poll");
  box.append(element("div", "poll-title", `${text("poll")}${poll.is_closed ? ` · ${text("poll_closed")}` : ""}`));
  box.append(element("div", "poll-question", poll.question ?? ""));
  const total = poll.total_voter_count ?? 0;
  (poll.options ?? []).forEach((option, index) => {
    const choice = element("button", "poll-option");
    choice.type = "button";
    choice.disabled = Boolean(poll.is_closed);
    const count = option.voter_count ?? 0;
    const mine = (message.chosen ?? {})[String(lastState?.members[member]?.id)] ?? [];
    if (mine.includes(index)) choice.classList.add("chosen");
    const share = total ? Math.round((100 * count) / total) : 0;
    choice.append(element("span", "poll-text", option.text ?? ""), element("span", "poll-count", `${count}`));
    choice.style.setProperty("--share", `${share}%`);
    choice.addEventListener("click", async () => {
      try {
        await call("/api/vote", { member, message_id: message.id, options: [index] });
      } catch (error) {
        notice(error.message, true);
      }
    });
    box.append(choice);
  });
  box.append(element("div", "poll-total", `${total} ${text(total === 1 ? "poll_vote" : "poll_votes")}`));
  return box;
}

function scrollToMessage(id) {
  const target = shown.get(id)?.element;
  if (!target) return;
  target.scrollIntoView({ block: "center", behavior: "smooth" });
  target.classList.add("flash");
  setTimeout(() => target.classList.remove("flash"), 1200);
}

function nearBottom() {
  const list = $("messages");
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function keepBottom() {
  const list = $("messages");
  if (list.dataset.follow !== "false") list.scrollTop = list.scrollHeight;
}

function startReply(id, placeholder) {
  replyTo = id;
  const quoted = lastState?.byId.get(id);
  $("replying").hidden = false;
  $("replying-text").textContent = text("replying_to", { name: quoted ? senderName(quoted, lastState) : "" });
  $("input").placeholder = placeholder || text("placeholder");
  $("input").focus();
}

function stopReply() {
  replyTo = null;
  $("replying").hidden = true;
  $("input").placeholder = text("placeholder");
}

function drawRefusals(refusals) {
  const list = $("messages");
  for (const refusal of refusals.slice(refusalsShown)) {
    const line = element("div", "system refusal");
    line.textContent = `⚠ ${text("refused")}: ${refusal.method} — ${refusal.status} ${refusal.description}`;
    list.append(line);
  }
  refusalsShown = Math.max(refusalsShown, refusals.length);
}

function drawState(state) {
  state.byId = new Map(state.messages.map((m) => [m.id, m]));
  lastState = state;
  $("chat-title").textContent = state.title;
  $("chat-sub").textContent = `${state.members.length + 1} · @${state.bot.username}`;
  drawMembers(state.members);
  const list = $("messages");
  list.dataset.follow = String(nearBottom() || !loaded);
  const ids = new Set(state.messages.map((m) => m.id));
  for (const [id, entry] of shown) {
    if (!ids.has(id)) {
      entry.element.remove();
      shown.delete(id);
    }
  }
  let prompt = null;
  for (const message of state.messages) {
    const sig = signature(message, state);
    const entry = shown.get(message.id);
    if (entry && entry.signature === sig) continue;
    const drawn = drawMessage(message, state);
    if (entry) entry.element.replaceWith(drawn);
    else {
      list.append(drawn);
      if (loaded && message.bot && message.markup?.force_reply) prompt = message;
    }
    shown.set(message.id, { signature: sig, element: drawn });
  }
  drawRefusals(state.refusals);
  drawPinned(state);
  if (prompt) {
    // a selective prompt is for the person it names or answers: the page writes as them
    const addressed = addressee(prompt, state);
    if (addressed !== null && addressed !== member) {
      member = addressed;
      drawMembers(state.members);
    }
    startReply(prompt.id, prompt.markup.input_field_placeholder);
  }
  if (replyTo !== null && !state.byId.has(replyTo)) stopReply();
  keepBottom();
  loaded = true;
}

function addressee(prompt, state) {
  if (!prompt.markup.selective) return null;
  const mentioned = /tg:\/\/user\?id=(\d+)/.exec(prompt.text ?? "");
  const answered = prompt.reply_to ? state.byId.get(prompt.reply_to)?.from?.id : undefined;
  const id = mentioned ? Number(mentioned[1]) : answered;
  const index = state.members.findIndex((person) => person.id === id);
  return index >= 0 ? index : null;
}

function drawPinned(state) {
  const box = $("pinned");
  const pinned = state.pinned !== null ? state.byId.get(state.pinned) : null;
  box.hidden = !pinned;
  if (!pinned) return;
  box.dataset.messageId = String(pinned.id);
  box.querySelector(".pinned-label").textContent = text("pinned");
  const preview = plainText(pinned.text ?? pinned.caption ?? "", pinned.html).split("\n").filter(Boolean);
  box.querySelector(".pinned-text").textContent = preview.slice(0, 2).join(" · ");
}

async function refresh() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    const state = await response.json();
    if (state.failed) {
      notice(`${text("failed")}\n${state.failed}`, true);
    } else if (!state.ready) {
      notice(text("starting"));
    } else if ($("status-line").textContent === text("starting")) {
      notice("");
    }
    if (state.messages) drawState(state);
  } catch {
    // the playground stopped or restarts: try again
  }
  setTimeout(refresh, POLL_EVERY_MS);
}

async function send(event) {
  event?.preventDefault();
  const input = $("input");
  const value = input.value;
  if (!value.trim()) return;
  try {
    await call("/api/send", { member, text: value, reply_to: replyTo });
    input.value = "";
    stopReply();
    $("messages").dataset.follow = "true";
  } catch (error) {
    notice(error.message, true);
  }
}

async function start() {
  const response = await fetch(`/api/texts?lang=${language}`);
  T = (await response.json()).texts;
  document.documentElement.lang = language;
  $("banner-text").textContent = text("banner");
  $("banner-detail").textContent = text("banner_detail");
  $("members-title").textContent = text("members");
  $("tip").textContent = text("tip");
  $("demo").textContent = text("demo");
  $("demo-hint").textContent = text("demo_hint");
  $("reset").textContent = text("reset");
  $("send").textContent = text("send");
  $("reply-cancel").textContent = text("cancel");
  $("miniapp-title").textContent = text("miniapp");
  $("miniapp-close").textContent = text("miniapp_close");
  $("input").placeholder = text("placeholder");
  $("composer").addEventListener("submit", send);
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) send(event);
  });
  $("reply-cancel").addEventListener("click", stopReply);
  $("pinned").addEventListener("click", () => scrollToMessage(Number($("pinned").dataset.messageId)));
  $("miniapp-close").addEventListener("click", () => {
    $("miniapp").hidden = true;
    $("miniapp-frame").removeAttribute("src");
  });
  $("demo").addEventListener("click", async () => {
    try {
      const { ok } = await call(`/api/demo?lang=${language}`);
      notice(ok ? "" : text("demo_no_card"), !ok);
    } catch (error) {
      notice(error.message, true);
    }
  });
  $("reset").addEventListener("click", async () => {
    if (!window.confirm(text("reset_confirm"))) return;
    $("reset").disabled = true;
    try {
      await call("/api/reset");
      for (const entry of shown.values()) entry.element.remove();
      shown.clear();
      $("messages").replaceChildren();
      refusalsShown = 0;
      loaded = false;
      stopReply();
      notice(text("starting"));
    } finally {
      $("reset").disabled = false;
    }
  });
  refresh();
}

start();
