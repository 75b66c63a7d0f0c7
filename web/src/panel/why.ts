// "Why is this light at 50 % now?" in the asset panel: for a light or a cabinet, the level
// asked for now (the override's in force, else its program's), the override, the program,
// the calendar rule that chose it, and the assignment that gave it that calendar
// (GET /lighting/assets/{id}/why).
import type { App } from "../app";
import { fill, h } from "../dom";
import { numberFormatter } from "../format";
import type { Schema } from "../schemas";

type Why = Schema<"Why">;

export class WhySection {
  readonly element = h("div", { class: "why", "data-testid": "why" });

  constructor(
    private readonly app: App,
    private readonly assetId: string,
  ) {}

  async load(): Promise<void> {
    const why = await this.app.api.get<Why>(`/lighting/assets/${encodeURIComponent(this.assetId)}/why`);
    this.render(why);
  }

  /** The level moves through the night and nothing announces it: read it again on demand. */
  private refreshButton(): HTMLElement {
    const button = h("button", { type: "button", "data-testid": "why-refresh", "aria-label": this.app.t("why.refresh.aria") }, this.app.t("problems.refresh"));
    button.addEventListener("click", () => void this.load().catch(() => this.app.toast(this.app.t("why.failed"), "error")));
    return button;
  }

  private render(why: Why): void {
    const t = this.app.t;
    const at = (iso: string) => new Date(iso).toLocaleTimeString(this.app.lang === "fr" ? "fr-FR" : "en-GB", {
      timeZone: this.app.timeZone, hour: "2-digit", minute: "2-digit",
    });
    const sun = t("why.sunText", { sunset: at(why.sunset), sunrise: at(why.sunrise) });
    const number = numberFormatter(this.app.lang);
    const row = (label: string, value: string, testid: string) => [h("dt", {}, label), h("dd", { "data-testid": testid }, value)];
    // An override in force wins over the program: it comes first, whatever the calendar.
    const override = why.override
      ? row(t("why.override"), t("why.overrideText", {
        level: `${number(why.override.level_pct)} %`,
        reason: why.override.reason,
        author: why.override.author,
        until: this.app.formatTime(why.override.ends_at),
      }), "why-override")
      : null;
    if (!why.calendar) {
      fill(this.element,
        override ? h("p", { class: "why-level", "data-testid": "why-level", "data-level": why.override!.level_pct }, `${number(why.override!.level_pct)} %`) : null,
        override ? h("dl", {}, override) : null,
        h("p", { "data-testid": "why-none" }, t("why.none")), h("p", { class: "hint" }, sun), this.refreshButton());
      return;
    }
    const rule = why.rule_index === null || !why.rule
      ? t("why.default")
      : t("why.ruleText", { n: why.rule_index, kind: t(`lighting.rule.kind.${why.rule.kind}`), label: why.rule.label ? ` : ${why.rule.label}` : "" });
    const asked = why.effective_level_pct ?? why.level_pct ?? null;
    const level = asked === null ? "—" : `${number(asked)} %`;
    fill(this.element,
      h("p", { class: "why-level", "data-testid": "why-level", "data-level": asked ?? "" }, level),
      h("dl", {},
        override,
        row(t("why.program"), why.program?.name ?? "—", "why-program"),
        row(t("why.rule"), rule, "why-rule"),
        row(t("why.calendar"), why.calendar.name, "why-calendar"),
        row(t("why.assignment"), why.assignment ? t(`lighting.target.${why.assignment.target}`) : "—", "why-assignment"),
        why.cabinet_id && why.cabinet_id !== why.asset_id ? row(t("why.cabinet"), why.cabinet_id, "why-cabinet") : null,
        row(t("why.sun"), sun, "why-sun"),
      ),
      h("p", { class: "hint", "data-testid": "why-explanation" }, why.explanation),
      this.refreshButton(),
    );
  }
}
