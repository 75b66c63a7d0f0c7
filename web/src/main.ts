// Boot: whoever is signed in gets the console, anyone else the sign-in screen.
import type { Me } from "./app";
import { whoAmI } from "./api";
import { chosenLang, translator } from "./i18n";
import { showLogin } from "./login";
import { startConsole } from "./shell";
import "./styles.css";

const root = document.getElementById("app")!;
const lang = chosenLang();
const t = translator(lang);
document.documentElement.lang = lang;
let running = false;

function run(me: Me): void {
  running = true;
  startConsole(root, me, lang).catch((error: unknown) => {
    root.textContent = `${t("app.failed")}: ${error instanceof Error ? error.message : String(error)}`;
  });
}

// The session ended (signed out elsewhere, expired): back to the sign-in screen.
window.addEventListener("beffroi:signed-out", () => {
  if (running) location.reload();
});

whoAmI()
  .then((me) => (me ? run(me) : showLogin(root, t, run)))
  .catch((error: unknown) => {
    root.textContent = `${t("app.failed")}: ${error instanceof Error ? error.message : String(error)}`;
  });
