// The console's shell: sign-in, the header and navigation, and a router
// over the URL fragment (#/zones/…), so that no view's state, and never
// the API key, goes to the server in a URL.

import { h, mount, errorBox, announce, title } from "./dom.js";
import * as api from "./api.js";
import { zonesView } from "./zones.js";
import { zoneView } from "./zone.js";
import { healthChecksView, healthCheckView } from "./healthchecks.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let cleanup = null;

const routes = [
  [/^\/zones\/([^/]+)(?:\/(records|import|export|test))?$/, (m) => zoneView(main, decodeURIComponent(m[1]), m[2] || "records")],
  [/^\/zones$/, (_m, q) => zonesView(main, q)],
  [/^\/healthchecks\/([^/]+)$/, (m) => healthCheckView(main, decodeURIComponent(m[1]))],
  [/^\/healthchecks$/, () => healthChecksView(main)],
];

/** go navigates to a console path such as "/zones/Z1". */
export function go(path) {
  if (location.hash === "#" + path) route();
  else location.hash = path;
}

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  if (!api.apiKey()) {
    renderNav(false);
    signIn();
    return;
  }
  renderNav(true);
  const raw = location.hash.replace(/^#/, "") || "/zones";
  const [path, qs] = raw.split("?");
  const q = new URLSearchParams(qs || "");
  for (const [re, view] of routes) {
    const m = path.match(re);
    if (m) {
      cleanup = view(m, q) || null;
      markCurrent(path);
      main.focus({ preventScroll: true });
      return;
    }
  }
  mount(main, h("h1", null, "Not found"), h("p", null, h("a", { href: "#/zones" }, "Back to the zones")));
}

function markCurrent(path) {
  for (const a of nav.querySelectorAll("a")) {
    const here = path.startsWith(a.getAttribute("href").slice(1));
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function renderNav(signedIn) {
  if (!signedIn) {
    nav.replaceChildren();
    return;
  }
  mount(nav,
    h("a", { href: "#/zones" }, "Hosted zones"),
    h("a", { href: "#/healthchecks" }, "Health checks"),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"));
}

function signOut() {
  api.setApiKey(null);
  announce("Signed out");
  location.hash = "";
  route();
}

function signIn(err) {
  title("Sign in");
  const key = h("input", { id: "api-key", name: "api_key", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const msg = h("div");
  if (err) mount(msg, errorBox(err));
  mount(main,
    h("section", { class: "panel narrow" },
      h("h1", null, "Sign in"),
      h("p", null, "Paste an API key token (", h("code", null, "wmk_…"), "). ", h("code", null, "make run"),
        " prints one and writes it to ", h("code", null, ".waymark/dev.env"), ". It is kept in this tab only (sessionStorage) and sent as a Bearer token."),
      h("form", {
        onsubmit: async (e) => {
          e.preventDefault();
          const k = key.value.trim();
          mount(msg, h("p", { class: "muted" }, "Checking the key…"));
          try {
            await api.get("/v1/hostedzones", { max_items: 1 }, { key: k });
            api.setApiKey(k);
            announce("Signed in");
            if (!location.hash || location.hash === "#") location.hash = "/zones";
            else route();
          } catch (ex) {
            mount(msg, errorBox(ex));
            key.focus();
          }
        },
      },
      h("div", { class: "field" }, h("label", { for: "api-key" }, "API key"), key),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in"))),
      msg));
  key.focus();
}

api.whenUnauthorized((err) => {
  api.setApiKey(null);
  renderNav(false);
  if (cleanup) cleanup();
  cleanup = null;
  signIn(err);
});

document.getElementById("skip").addEventListener("click", (e) => {
  e.preventDefault(); // the fragment is the router's
  main.focus();
});
window.addEventListener("hashchange", route);
route();
