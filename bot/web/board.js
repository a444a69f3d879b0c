// The board view: the model picture in the model's layout — six areas, twenty fields, each with
// its number, title, Ist/Soll counts and a mark where the Ist is missing.
import { el } from "./dom.js";

export function renderBoard(view, { model, board, t, openPoint }) {
  const counts = new Map(board.points.map((p) => [p.number, p]));
  // titles and area names with soft hyphens at their syllables (from the server): the
  // narrow columns break a long word only there, with a visible hyphen
  const titles = new Map(model.points.map((p) => [p.number, p.poster_title || p.title]));
  const poster = el("div", { class: "poster", id: "board" });
  for (const area of model.areas) {
    const fields = area.points.map((number) => {
      const point = counts.get(number);
      const missing = point.ist === 0;
      return el(
        "button",
        {
          type: "button",
          class: missing ? "field missing" : "field",
          "data-point": number,
          "data-missing": missing ? "yes" : "no",
          on: { click: () => openPoint(number) },
        },
        el("span", { class: "number" }, `${number}`),
        el("span", { class: "name" }, titles.get(number)),
        el(
          "span",
          { class: "counts" },
          el("span", { class: "ist" }, t("app_count_ist", { count: point.ist })),
          el("span", { class: "soll" }, t("app_count_soll", { count: point.soll })),
        ),
        missing ? el("span", { class: "mark" }, `⚠ ${t("app_missing_ist")}`) : null,
      );
    });
    poster.append(
      el(
        "section",
        { class: `area area-${area.number}`, "data-area": area.number },
        el("h2", {}, `${area.number}. ${area.poster_name || area.name}`),
        el("div", { class: "fields" }, fields),
      ),
    );
  }
  view.append(poster);
}
