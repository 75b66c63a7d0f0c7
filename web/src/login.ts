// The sign-in screen.
import { ApiError, type Me } from "./app";
import { signIn } from "./api";
import { h } from "./dom";

export function showLogin(
  root: HTMLElement,
  t: (key: string) => string,
  signedIn: (me: Me) => void,
  notice?: string,
): void {
  const username = h("input", { id: "login-username", name: "username", autocomplete: "username", required: true, "data-testid": "login-username" });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "login-error", hidden: !notice }, notice ?? "");
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "login-submit" }, t("login.submit"));
  const form = h("form", { class: "login-form" },
    h("h1", {}, "Beffroi"),
    h("p", { class: "login-tagline" }, t("login.tagline")),
    h("div", { class: "field" }, h("label", { for: "login-username" }, t("login.username")), username),
    h("div", { class: "field" }, h("label", { for: "login-password" }, t("login.password")), password),
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      signedIn(await signIn(username.value.trim(), password.value));
    } catch (failure) {
      error.textContent = failure instanceof ApiError && (failure.status === 401 || failure.status === 422)
        ? t("login.wrong")
        : failure instanceof Error ? failure.message : String(failure);
      error.hidden = false;
      submit.disabled = false;
      password.select();
    }
  });
  root.replaceChildren(h("main", { class: "login-screen" }, form));
  username.focus();
}
