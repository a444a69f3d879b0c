// The point view: explanation, guiding questions, every entry with author and time, the worked
// example (the source's or the project's own, marked), and the form for one's own entry.
// One's own entries can be edited and taken back here.
import { clear, el } from "./dom.js";

function when(iso, language) {
  const date = new Date(iso);
  return date.toLocaleString(language === "en" ? "en-GB" : "de-DE", {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

// Ist/Soll as two buttons; `data-kind` on the form's (the page's contract), `data-edit-kind`
// on an entry's edit, so the two never match the same selector.
function kindChoice(t, selected, attribute = "data-kind") {
  const buttons = ["ist", "soll"].map((kind) =>
    el(
      "button",
      {
        type: "button",
        class: "kind",
        [attribute]: kind,
        "aria-pressed": String(kind === selected.value),
        on: {
          click: () => {
            selected.value = kind;
            for (const b of buttons) b.setAttribute("aria-pressed", String(b.getAttribute(attribute) === kind));
          },
        },
      },
      t(`kind_${kind}`),
    ),
  );
  return el("div", { class: "kinds", role: "group" }, buttons);
}

function entryItem(entry, ctx, number) {
  const { t, language, write, client, board } = ctx;
  const item = el(
    "li",
    { class: `entry entry-${entry.kind}`, "data-entry": entry.id, "data-mine": entry.mine ? "yes" : "no" },
    el("span", { class: `badge ${entry.kind}` }, t(`kind_${entry.kind}`)),
    el("p", { class: "text" }, entry.text),
    el(
      "p",
      { class: "meta" },
      `${entry.mine ? `${entry.author} (${t("app_you")})` : entry.author} · ${when(entry.at, language)}`,
      entry.edited ? ` · ${t("app_edited")}` : "",
    ),
  );
  if (entry.mine && board.open) {
    const edit = el("button", { type: "button", class: "small", "data-action": "edit" }, t("app_edit"));
    const remove = el("button", { type: "button", class: "small danger", "data-action": "take-back" }, t("app_take_back"));
    edit.addEventListener("click", () => {
      const kind = { value: entry.kind };
      const area = el("textarea", { name: "edit", rows: 3, maxlength: 4000 });
      area.value = entry.text;
      const save = el("button", { type: "button", class: "primary small", "data-action": "save" }, t("app_save"));
      const cancel = el("button", { type: "button", class: "small" }, t("app_cancel"));
      const form = el("div", { class: "edit" }, area, kindChoice(t, kind, "data-edit-kind"), el("div", { class: "row" }, save, cancel));
      cancel.addEventListener("click", () => form.replaceWith(actions));
      save.addEventListener("click", () => write(() => client.editEntry(entry.id, kind.value, area.value)));
      actions.replaceWith(form);
      area.focus();
    });
    remove.addEventListener("click", async () => {
      if (await ctx.confirm(t("app_take_back_confirm"))) write(() => client.takeBack(entry.id));
    });
    const actions = el("div", { class: "row" }, edit, remove);
    item.append(actions);
  }
  return item;
}

function entriesOf(ctx, number) {
  const point = ctx.board.points.find((p) => p.number === number);
  return point.entries.length
    ? el("ul", { class: "entries" }, point.entries.map((e) => entryItem(e, ctx, number)))
    : el("p", { class: "quiet" }, ctx.t("app_no_entries"));
}

function counts(ctx, number) {
  const point = ctx.board.points.find((p) => p.number === number);
  return el(
    "p",
    { class: "counts" },
    el("span", { class: "ist" }, ctx.t("app_count_ist", { count: point.ist })),
    el("span", { class: "soll" }, ctx.t("app_count_soll", { count: point.soll })),
    point.ist === 0 ? el("span", { class: "mark" }, `⚠ ${ctx.t("app_missing_ist")}`) : null,
  );
}

export function renderPoint(view, ctx, number) {
  const { model, t } = ctx;
  // a refresh keeps what the person is typing: only the counts and entries are redrawn
  if (view.dataset.shown === String(number) && view.querySelector("#point")) {
    view.querySelector(".counts").replaceWith(counts(ctx, number));
    clear(view.querySelector("#entries")).append(entriesOf(ctx, number));
    view.querySelector("form").hidden = !ctx.board.open;
    return;
  }
  clear(view);
  view.dataset.shown = String(number);
  const point = model.points.find((p) => p.number === number);
  const area = model.areas.find((a) => a.number === point.area);
  const kind = { value: "ist" };
  const text = el("textarea", {
    name: "entry",
    rows: 4,
    maxlength: 4000,
    required: true,
    placeholder: t("app_placeholder"),
    "aria-label": t("app_add"),
  });
  const form = el(
    "form",
    { class: "add", hidden: !ctx.board.open },
    el("h3", {}, t("app_add")),
    text,
    kindChoice(t, kind),
    el("button", { type: "submit", class: "primary" }, t("app_submit")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    const done = await ctx.write(() => ctx.client.addEntry(number, kind.value, text.value));
    if (done) {
      text.value = "";
      ctx.flash(t("app_saved"));
    }
  });
  const example = el(
    "section",
    { class: "example" },
    el("h3", {}, t("app_example")),
    point.example.map((part) =>
      // as the chat's /example: the project's own part is marked once, before its text
      el(
        "div",
        { class: `part ${part.origin}`, "data-origin": part.origin },
        el("span", { class: `badge ${part.kind}` }, t(`kind_${part.kind}`)),
        part.origin === "source" ? null : el("p", { class: "origin" }, model.own_mark),
        el("p", {}, part.text),
        part.origin === "source" ? el("p", { class: "origin" }, t("app_example_source")) : null,
      ),
    ),
    el("p", { class: "citation" }, model.citation),
  );
  view.append(
    el(
      "article",
      { class: "point", id: "point", "data-point-view": number },
      el("button", { type: "button", class: "back link", on: { click: ctx.back } }, "←"),
      el("p", { class: "area-name" }, `${area.number}. ${area.name}`),
      el("h2", {}, `${point.number}. ${point.title}`),
      counts(ctx, number),
      el("p", { class: "explanation" }, point.explanation),
      el("h3", {}, t("app_questions")),
      el("ul", { class: "questions" }, point.questions.map((q) => el("li", {}, q))),
      el("h3", {}, t("app_entries")),
      el("div", { id: "entries" }, entriesOf(ctx, number)),
      form,
      example,
    ),
  );
}
