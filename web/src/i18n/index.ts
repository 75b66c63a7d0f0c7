// The console's words in French (the default) and English: the shell's, the views' and
// the asset panel's connection problems.
import type { Lang } from "../format";
import { energy } from "./energy";
import { lighting } from "./lighting";
import { mobility } from "./mobility";
import { opslog } from "./opslog";
import { plans } from "./plans";
import { problems } from "./problems";
import { reports } from "./reports";
import { roads } from "./roads";
import { shell } from "./shell";
import { traffic } from "./traffic";
import { vehicles } from "./vehicles";
import { video } from "./video";
import { views } from "./views";

type Words = Record<string, string>;

const dictionaries: Record<Lang, Words> = {
  fr: {
    ...shell.fr,
    ...views.fr,
    ...problems.fr,
    ...lighting.fr,
    ...energy.fr,
    ...reports.fr,
    ...roads.fr,
    ...video.fr,
    ...mobility.fr,
    ...traffic.fr,
    ...opslog.fr,
    ...plans.fr,
    ...vehicles.fr,
  },
  en: {
    ...shell.en,
    ...views.en,
    ...problems.en,
    ...lighting.en,
    ...energy.en,
    ...reports.en,
    ...roads.en,
    ...video.en,
    ...mobility.en,
    ...traffic.en,
    ...opslog.en,
    ...plans.en,
    ...vehicles.en,
  },
};

const STORED = "beffroi.lang";

/** `?lang=` first, then the last choice on this browser, else French. */
export function chosenLang(): Lang {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "fr" || asked === "en") return asked;
  return localStorage.getItem(STORED) === "en" ? "en" : "fr";
}

export function rememberLang(lang: Lang): void {
  localStorage.setItem(STORED, lang);
}

export function translator(lang: Lang): (key: string, vars?: Record<string, string | number>) => string {
  const words = dictionaries[lang];
  return (key, vars) => {
    const text = words[key] ?? dictionaries.fr[key] ?? key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}
