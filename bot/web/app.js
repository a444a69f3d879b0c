// The Mini App: reads the launch parameters (from Telegram's script, or from the URL fragment
// when that script cannot load), applies the theme, and shows the board, a point, the review or
// the plan. Follows changes made in the chat by polling the board's version.
import { api, ApiError } from "./api.js";
import { clear, el, format } from "./dom.js";
import { renderBoard } from "./board.js";
import { renderPoint } from "./point.js";
import { renderReview } from "./review.js";
import { renderPlan } from "./plan.js";

const POLL_MS = 4000;

function telegram() {
  return (window.Telegram && window.Telegram.WebApp) || null;
}

function launch() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const tg = telegram();
  const initData = (tg && tg.initData) || fragment.get("tgWebAppData") || "";
  let theme = tg && tg.themeParams && Object.keys(tg.themeParams).length ? tg.themeParams : null;
  if (!theme) {
    try {
      theme = JSON.parse(fragment.get("tgWebAppThemeParams") || "{}");
    } catch {
      theme = {};
    }
  }
  const signed = new URLSearchParams(initData);
  const token =
    signed.get("start_param") || query.get("tgWebAppStartParam") || query.get("startapp") || "";
  return { initData, theme, token };
}

const COLOUR = /^#[0-9a-fA-F]{3,8}$/;

function applyTheme(theme) {
  const root = document.documentElement.style;
  for (const [name, value] of Object.entries(theme || {})) {
    if (/^[a-z_]+$/.test(name) && COLOUR.test(String(value))) {
      root.setProperty(`--tg-theme-${name.replaceAll("_", "-")}`, value);
    }
  }
  const tg = telegram();
  let scheme = tg && tg.colorScheme;
  if (!scheme && theme && COLOUR.test(String(theme.bg_color))) {
    const hex = theme.bg_color.slice(1);
    const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex.slice(0, 6);
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
    scheme = 0.299 * r + 0.587 * g + 0.114 * b < 128 ? "dark" : "light";
  }
  document.documentElement.dataset.scheme = scheme || "light";
}

const state = {
  client: null,
  model: null,
  board: null,
  plan: null,
  tab: "board",
  point: null, // the open point's number, or null for the tab
  texts: {},
  busy: false,
};

function t(key, values) {
  return format(state.texts[key] ?? key, values);
}

let flashTimer = 0;
export function flash(message, kind = "info") {
  const node = document.getElementById("flash");
  node.textContent = message;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => (node.hidden = true), 4000);
}

function haptic(kind) {
  const tg = telegram();
  const feedback = tg && tg.HapticFeedback;
  if (!feedback) return;
  try {
    if (kind === "tap") feedback.selectionChanged();
    else feedback.notificationOccurred(kind);
  } catch {
    // an older client without haptics
  }
}

// A yes/no question: Telegram's own dialog where the client offers it (Bot API 6.2), the
// browser's otherwise.
function confirm(message) {
  const tg = telegram();
  const offered =
    tg && typeof tg.showConfirm === "function" &&
    (typeof tg.isVersionAtLeast !== "function" || tg.isVersionAtLeast("6.2"));
  if (!offered) return Promise.resolve(window.confirm(message));
  return new Promise((resolve) => {
    try {
      tg.showConfirm(message, (ok) => resolve(Boolean(ok)));
    } catch {
      resolve(window.confirm(message)); // a client that announces it but refuses
    }
  });
}

function backButton(show) {
  const tg = telegram();
  const back = tg && tg.BackButton;
  if (!back) return;
  try {
    if (show) back.show();
    else back.hide();
  } catch {
    // an older client without the BackButton
  }
}

function header() {
  const board = state.board;
  document.getElementById("title").textContent = board.title;
  document.title = `${board.title} · ${t("app_title")}`;
  const progress = document.getElementById("progress");
  progress.hidden = false;
  document.getElementById("progress-fill").style.width = `${(100 * board.filled) / board.total}%`;
  document.getElementById("progress-text").textContent = board.complete
    ? t("app_complete")
    : t("app_progress", { filled: board.filled, total: board.total });
  progress.dataset.complete = board.complete ? "yes" : "no";
  const closed = document.getElementById("closed");
  closed.hidden = board.open;
  closed.textContent = t("app_closed");
  const tabs = document.getElementById("tabs");
  tabs.hidden = false;
  for (const button of tabs.querySelectorAll("button")) {
    button.textContent = t(`app_tab_${button.dataset.tab}`);
    button.setAttribute("aria-selected", String(button.dataset.tab === state.tab));
  }
}

function context() {
  return {
    model: state.model,
    board: state.board,
    plan: state.plan,
    t,
    language: state.model.language,
    openPoint,
    back,
    write,
    haptic,
    confirm,
    flash,
    client: state.client,
  };
}

function render() {
  if (!state.model || !state.board) return;
  header();
  const view = document.getElementById("view");
  if (state.point !== null) {
    renderPoint(view, context(), state.point);
    backButton(true);
    return;
  }
  backButton(false);
  if (state.tab === "review") renderReview(clear(view), context());
  else if (state.tab === "plan") renderPlan(clear(view), context());
  else renderBoard(clear(view), context());
}

function openPoint(number) {
  haptic("tap");
  state.point = number;
  render();
  window.scrollTo(0, 0);
}

function back() {
  state.point = null;
  render();
}

async function refresh({ plan = state.tab === "plan" } = {}) {
  state.board = await state.client.board();
  if (plan) state.plan = await state.client.plan();
  render();
}

// A write to the bot: on success the board is read again; refusals are said in a sentence.
async function write(action) {
  if (state.busy) return false;
  state.busy = true;
  try {
    await action();
    haptic("success");
    await refresh();
    return true;
  } catch (error) {
    haptic("error");
    if (error instanceof ApiError && error.status === 403) flash(t("app_not_allowed"), "error");
    else if (error instanceof ApiError && error.message && error.status !== 401)
      flash(error.message, "error");
    else flash(t("app_error"), "error");
    return false;
  } finally {
    state.busy = false;
  }
}

async function follow() {
  if (document.hidden || state.busy) return;
  try {
    const { version } = await state.client.version();
    if (version !== state.board.version) await refresh();
  } catch {
    // offline for a moment: try again at the next tick
  }
}

// Refused or unreachable: say so in the person's language (as Telegram says it; the sentences
// are public, and nothing in them is about a board).
async function failed(status, initData) {
  let language = "de";
  try {
    const user = JSON.parse(new URLSearchParams(initData).get("user") || "{}");
    if (String(user.language_code || "").startsWith("en")) language = "en";
  } catch {
    // no readable user: the reference language
  }
  let texts = {};
  try {
    const response = await fetch(`texts-${language}.json`, { cache: "no-store" });
    if (response.ok) texts = await response.json();
  } catch {
    // the bot cannot be reached at all
  }
  const key = status === 401 || status === 403 || status === 404 ? "app_unavailable" : "app_offline";
  const view = clear(document.getElementById("view"));
  view.append(el("p", { class: "notice", id: "refused" }, texts[key] || key));
  document.body.dataset.ready = "refused";
}

let hooked = false;

function hookTelegram() {
  const tg = telegram();
  if (!tg || hooked) return;
  hooked = true;
  try {
    tg.ready();
    tg.expand();
    applyTheme(tg.themeParams);
    tg.onEvent("themeChanged", () => applyTheme(tg.themeParams));
    tg.BackButton.onClick(back);
    if (state.point !== null) backButton(true);
  } catch {
    // an older client: the page works without these
  }
}

async function start() {
  const { initData, theme, token } = launch();
  applyTheme(theme);
  hookTelegram();
  // Telegram's script loads asynchronously (or not at all): hook it once it is there
  window.addEventListener("load", hookTelegram, { once: true });
  if (!initData || !token) {
    await failed(401, initData);
    return;
  }
  state.client = api(token, initData);
  try {
    state.model = await state.client.model();
    state.texts = state.model.texts;
    document.documentElement.lang = state.model.language;
    state.board = await state.client.board();
  } catch (error) {
    await failed(error instanceof ApiError ? error.status : 0, initData);
    return;
  }
  document.getElementById("tabs").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-tab]");
    if (!button) return;
    haptic("tap");
    state.tab = button.dataset.tab;
    state.point = null;
    if (state.tab === "plan") {
      try {
        state.plan = await state.client.plan();
      } catch {
        flash(t("app_error"), "error");
      }
    }
    render();
  });
  render();
  document.body.dataset.ready = "yes";
  setInterval(follow, POLL_MS);
}

start();
