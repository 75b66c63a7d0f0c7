// How a severity looks everywhere in the views: a shape and a word beside the colour, so
// colour is never the only cue.
import type { App, Severity } from "../app";
import { h } from "./dom";

export const SEVERITIES: Severity[] = ["critical", "major", "minor", "warning"];

const SHAPE: Record<Severity, string> = { critical: "◆", major: "▲", minor: "●", warning: "○" };

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function severityBadge(app: App, severity: Severity, extra = ""): HTMLElement {
  return h(
    "span",
    { class: `v-sev v-sev-${severity}` },
    h("span", { "aria-hidden": "true", class: "v-sev-shape" }, SHAPE[severity]),
    " ",
    app.t(`views.severity.${severity}`) + extra,
  );
}
