// The review tab (SPEC §6): points without Ist (blocking), without Soll (warnings), and which
// action steps are covered.
import { el } from "./dom.js";

export function renderReview(view, { model, board, t, openPoint }) {
  const titles = new Map(model.points.map((p) => [p.number, p.title]));
  const steps = new Map(model.steps.map((s) => [s.number, s.title]));
  const list = (numbers) =>
    numbers.length
      ? el(
          "ul",
          { class: "points" },
          numbers.map((n) =>
            el(
              "li",
              {},
              el(
                "button",
                { type: "button", class: "link", "data-goto": n, on: { click: () => openPoint(n) } },
                `${n}. ${titles.get(n)}`,
              ),
            ),
          ),
        )
      : el("p", { class: "quiet" }, t("app_review_none"));
  const review = board.review;
  view.append(
    el(
      "div",
      { class: "review", id: "review" },
      board.complete ? el("p", { class: "notice good" }, t("app_review_complete")) : null,
      el("h2", {}, t("app_review_blocking")),
      list(review.blocking),
      el("h2", {}, t("app_review_warnings")),
      list(review.warnings),
      el("h2", {}, t("app_review_steps")),
      el(
        "ul",
        { class: "steps" },
        review.steps.map((step) =>
          el(
            "li",
            { class: step.missing.length ? "step open" : "step done" },
            el("span", { class: "title" }, `${step.number}. ${steps.get(step.number)}`),
            el(
              "span",
              { class: "state" },
              step.missing.length
                ? t("app_step_missing", { points: step.missing.join(", ") })
                : `✓ ${t("app_step_covered")}`,
            ),
          ),
        ),
      ),
    ),
  );
}
