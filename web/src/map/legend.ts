// What the colours and shapes mean, folded in a corner of the map.
import type { App } from "../app";
import type { Catalogue } from "../catalogue";
import { h } from "../dom";
import { LOOKS } from "./store";
import { LOOK_COLOURS, shapeOf, symbolIcon } from "./symbols";

export function legend(app: App, catalogue: Catalogue, typeKeys: string[]): HTMLElement {
  const states = h("ul", { class: "legend-list" },
    LOOKS.map((look) => h("li", {}, symbolIcon("circle", LOOK_COLOURS[look]), app.t(`look.${look}`))),
  );
  const types = h("ul", { class: "legend-list" },
    typeKeys.map((key) => h("li", {}, symbolIcon(shapeOf(key), "#ffffff"), catalogue.typeLabel(key))),
  );
  return h("details", { class: "map-legend", "data-testid": "map-legend", open: true },
    h("summary", {}, app.t("map.legend")),
    h("div", { class: "legend-columns" },
      h("div", {}, h("h3", {}, app.t("map.legend.states")), states),
      h("div", {}, h("h3", {}, app.t("map.legend.types")), types),
    ),
    h("p", { class: "legend-note" }, app.t("map.legend.cluster")),
  );
}
