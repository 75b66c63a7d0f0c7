// How numbers and times read in the console: Europe/Paris, in the user's language.
export type Lang = "fr" | "en";

export const TIME_ZONE = "Europe/Paris";

export function locale(lang: Lang): string {
  return lang === "fr" ? "fr-FR" : "en-GB";
}

export function timeFormatter(lang: Lang): (iso: string | null | undefined) => string {
  const full = new Intl.DateTimeFormat(locale(lang), {
    timeZone: TIME_ZONE,
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
export function shortTimeFormatter(lang: Lang, withDay: boolean): (date: Date) => string {
  const format = new Intl.DateTimeFormat(locale(lang), {
    timeZone: TIME_ZONE,
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
