// The plan tab (SPEC §10): every Soll entry is a measure; moderators set owner, due date and
// status here, as with /measure in the chat.
import { el } from "./dom.js";

const STATUSES = ["open", "doing", "done"];

function votesShown(measure, t) {
  if (measure.votes === null || measure.votes === undefined) return null;
  return measure.votes === 1 ? t("app_plan_votes_one") : t("app_plan_votes", { votes: measure.votes });
}

function facts(measure, t) {
  return [
    `${t("app_plan_owner")}: ${measure.owner || t("app_plan_nobody")}`,
    `${t("app_plan_due")}: ${measure.due || t("app_plan_no_due")}`,
    t(`plan_status_${measure.status}`),
    measure.step ? t("app_plan_step", { step: measure.step }) : null,
    votesShown(measure, t),
  ].filter(Boolean).join(" · ");
}

function editor(measure, { t, write, client }) {
  const owner = el("input", { type: "text", name: "owner", maxlength: 64, "aria-label": t("app_plan_owner") });
  owner.value = measure.owner || "";
  const due = el("input", { type: "date", name: "due", "aria-label": t("app_plan_due") });
  due.value = measure.due || "";
  const status = el(
    "select",
    { name: "status", "aria-label": t("app_plan_status") },
    STATUSES.map((s) => el("option", { value: s, selected: s === measure.status }, t(`plan_status_${s}`))),
  );
  const save = el("button", { type: "button", class: "primary small" }, t("app_plan_save"));
  save.addEventListener("click", () =>
    write(async () => {
      if (owner.value.trim() !== (measure.owner || "")) {
        await client.setMeasure(measure.number, "owner", owner.value.trim() || "-");
      }
      if (due.value !== (measure.due || "")) {
        await client.setMeasure(measure.number, "due", due.value || "-");
      }
      if (status.value !== measure.status) {
        await client.setMeasure(measure.number, "status", status.value);
      }
    }),
  );
  return el(
    "div",
    { class: "editor" },
    el("label", {}, t("app_plan_owner"), owner),
    el("label", {}, t("app_plan_due"), due),
    el("label", {}, t("app_plan_status"), status),
    save,
  );
}

// after a vote (SPEC §15) the plan can be ordered by votes: in the server's order (its `rank`,
// ties in area order as /plan stimmen has them), never worked out here
let byVotes = false;

function ordered(measures) {
  if (!byVotes) return measures;
  return [...measures].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
}

export function renderPlan(view, ctx) {
  const { model, board, plan, t } = ctx;
  const titles = new Map(model.points.map((p) => [p.number, p.title]));
  const root = el("div", { class: "plan", id: "plan" });
  const voted = Boolean(plan && plan.voted);
  if (!voted) byVotes = false;
  const measures = ordered((plan && plan.measures) || []);
  if (voted && measures.length) {
    const order = el(
      "button",
      { type: "button", class: "small", "data-order": byVotes ? "votes" : "number" },
      byVotes ? t("app_plan_by_number") : t("app_plan_by_votes"),
    );
    order.addEventListener("click", () => {
      byVotes = !byVotes;
      view.replaceChildren();
      renderPlan(view, ctx);
    });
    root.append(order);
  }
  if (!measures.length) root.append(el("p", { class: "quiet" }, t("app_plan_empty")));
  if (!board.moderator && measures.length) root.append(el("p", { class: "quiet" }, t("app_plan_hint")));
  for (const measure of measures) {
    root.append(
      el(
        "section",
        { class: measure.overdue ? "measure overdue" : "measure", "data-measure": measure.number },
        el("h3", {}, t("app_plan_heading", { number: measure.number, point: `${measure.point}. ${titles.get(measure.point)}` })),
        el("p", { class: "text" }, measure.text),
        el("p", { class: "meta" }, facts(measure, t), measure.overdue ? ` · ⚠ ${t("app_plan_overdue")}` : ""),
        board.moderator ? editor(measure, ctx) : null,
      ),
    );
  }
  view.append(root);
}
