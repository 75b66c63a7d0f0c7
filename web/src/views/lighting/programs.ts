// The programs tab: the programs in scope on the left, the one chosen in the editor.
import type { App } from "../../app";
import { errorText, h } from "../dom";
import { canProgram, scopeName, type Program } from "./common";
import { ProgramEditor } from "./editor";

export function programsTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const list = h("ul", { class: "l-list", "data-testid": "program-list" });
  const slot = h("div", { class: "l-main" });
  let editor: ProgramEditor | null = null;
  let chosen: number | null = null;
  // A new program begun before the list arrived is not replaced by the first program.
  let creating = false;
  const create = canProgram(app) ? h("button", { type: "button", class: "v-primary", "data-testid": "program-new" }, t("lighting.program.new")) : null;
  create?.addEventListener("click", () => {
    open(null);
    creating = true;
  });
  root.replaceChildren(h("div", { class: "l-split" },
    h("nav", { class: "l-side", "aria-label": t("lighting.tab.programs") }, create, list), slot));

  function open(program: Program | null): void {
    editor?.stop();
    creating = false;
    chosen = program?.id ?? null;
    editor = new ProgramEditor(app, program, (saved) => void load(saved.id), () => void load(null));
    slot.replaceChildren(editor.element);
    for (const item of list.querySelectorAll<HTMLElement>("button")) {
      item.setAttribute("aria-current", String(item.dataset.id === String(chosen)));
    }
  }

  async function load(show: number | null): Promise<void> {
    try {
      const programs = await app.api.get<Program[]>("/lighting/programs");
      list.replaceChildren(...programs.map((p) => {
        const item = h("button", { type: "button", "data-id": p.id, "data-testid": `program-${p.id}` },
          h("strong", {}, p.name), h("span", { class: "v-muted" }, ` · ${scopeName(app, p.commune)} · ${t("lighting.steps", { n: p.steps.length })}`));
        item.addEventListener("click", () => open(p));
        return h("li", {}, item);
      }));
      if (!programs.length) list.append(h("li", { class: "v-muted" }, t("lighting.program.none")));
      const wanted = programs.find((p) => p.id === show) ?? programs[0];
      if (creating && show === null) return;
      if (wanted) open(wanted);
      else if (canProgram(app)) open(null);
      else slot.replaceChildren();
    } catch (error) {
      slot.replaceChildren(h("p", { class: "v-error" }, errorText(app, error)));
    }
  }

  void load(null);
  return () => editor?.stop();
}
