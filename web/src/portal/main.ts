// The public portal at /open/: the open data catalogue, each dataset's page, and the
// citizen's "report a problem" and "follow my report". No login; French and English.
import "./portal.css";
import type { Lang } from "../format";
import { h } from "../dom";
import { chosenLang, rememberLang } from "../i18n";
import { cataloguePage } from "./catalogue";
import { datasetPage } from "./dataset";
import { portalTranslator } from "./i18n";
import { BASE, link, onNavigate, type Portal } from "./nav";
import { followPage, reportPage } from "./report";

const root = document.getElementById("portal") as HTMLElement;
const lang = chosenLang();
document.documentElement.lang = lang;
const t = portalTranslator(lang);
const portal: Portal = { lang, t };

function header(): HTMLElement {
  const other: Lang = lang === "fr" ? "en" : "fr";
  return h(
    "header",
    { class: "portal-header" },
    h("strong", { class: "portal-brand" }, `Beffroi · ${t("portal.title")}`),
    h(
      "nav",
      {},
      link("/", t("nav.catalogue"), { "data-testid": "nav-catalogue" }),
      link("/report", t("nav.report"), { "data-testid": "nav-report" }),
      link("/follow", t("nav.follow"), { "data-testid": "nav-follow" }),
      h(
        "button",
        {
          type: "button",
          class: "portal-lang",
          lang: other,
          onclick: () => {
            rememberLang(other);
            location.reload();
          },
        },
        t("lang.switch"),
      ),
    ),
  );
}

/** The page for the current address: /open/, /open/datasets/{id}, /open/report, /open/follow[/{ticket}]. */
async function render(): Promise<void> {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const main = h("main", { class: "portal-main" });
  root.replaceChildren(header(), main);
  if (parts[0] === "datasets" && parts[1]) await datasetPage(main, portal, parts[1]);
  else if (parts[0] === "report") await reportPage(main, portal);
  else if (parts[0] === "follow") await followPage(main, portal, parts[1] ?? "");
  else await cataloguePage(main, portal);
  window.scrollTo(0, 0);
}

onNavigate(() => void render());
window.addEventListener("popstate", () => void render());
void render();
