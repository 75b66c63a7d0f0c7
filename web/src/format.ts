// How numbers and times read in the console: in the installation's time zone (GET
// /api/v1/console/config), in the user's language.
export type Lang = "fr" | "en";

export function locale(lang: Lang): string {
  return lang === "fr" ? "fr-FR" : "en-GB";
}

/** A date-time formatter; timeZone undefined is the browser's own (the hub's was not read). */
export function timeFormatter(lang: Lang, timeZone: string | undefined): (iso: string | null | undefined) => string {
  const full = new Intl.DateTimeFormat(locale(lang), {
    timeZone,
    dateStyle: "short",
    timeStyle: "medium",
  });
  return (iso) => {
    if (!iso) return "—";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : full.format(date);
  };
}

/** Hours and minutes only, for chart axes. */
export function shortTimeFormatter(lang: Lang, withDay: boolean, timeZone: string | undefined): (date: Date) => string {
  const format = new Intl.DateTimeFormat(locale(lang), {
    timeZone,
    ...(withDay ? { day: "2-digit", month: "2-digit" } : { hour: "2-digit", minute: "2-digit" }),
  });
  return (date) => format.format(date);
}

export function numberFormatter(lang: Lang): (value: number) => string {
  const format = new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 2 });
  return (value) => format.format(value);
}

/** A command's parameters as one line: `level_pct=40, ramp_s=10`. */
export function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
}
