// Health checks: the list with each check's status, creation, and one
// check's status by region, last failures and history, refreshed live.

import { h, mount, field, select, errorBox, announce, time, title } from "./dom.js";
import * as api from "./api.js";
import { go } from "./app.js";
import { healthCheckLabel } from "./records.js";

const REFRESH_MS = 2000;

// The views refresh themselves; a section is rebuilt only when its data
// changed, so that keyboard focus inside it is not lost every refresh.
const shown = new WeakMap();
function changed(box, data) {
  const s = JSON.stringify(data);
  if (shown.get(box) === s) return false;
  shown.set(box, s);
  return true;
}

function statusBadge(s) {
  return h("span", { class: ["status", s === "HEALTHY" ? "healthy" : "unhealthy"], dataset: { status: s } }, s);
}

/** healthChecksView lists the tenant's health checks, refreshing them. */
export function healthChecksView(main) {
  const listBox = h("div");
  const createBox = h("div");
  const markers = [];
  let marker = "";
  let latest = []; // the checks listed last, children for a calculated check
  let timer = null;
  let stopped = false;
  title("Health checks");
  mount(main,
    h("div", { class: "titlebar" }, h("h1", null, "Health checks"),
      h("button", { type: "button", class: "primary", onclick: showCreate }, "Create health check")),
    createBox, listBox);

  async function load() {
    clearTimeout(timer);
    try {
      const r = await api.get("/v1/healthchecks", { max_items: 50, marker });
      if (stopped) return;
      latest = r.health_checks;
      render(r);
    } catch (e) {
      if (stopped) return;
      mount(listBox, errorBox(e));
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  function render(r) {
    if (!changed(listBox, [r, markers.length])) return;
    mount(listBox,
      r.health_checks.length === 0 ? h("p", null, "No health checks yet.") :
        h("div", { class: "table-wrap" }, h("table", null,
          h("caption", { class: "sr-only" }, "Health checks (refreshed every few seconds)"),
          h("thead", null, h("tr", null, ["Check", "Status", "Since", "Interval", "Id"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, r.health_checks.map((c) => h("tr", { dataset: { check: c.id } },
            h("th", { scope: "row" }, h("a", { href: `#/healthchecks/${encodeURIComponent(c.id)}` }, healthCheckLabel(c))),
            h("td", null, statusBadge(c.status)),
            h("td", null, time(c.status_changed_at)),
            h("td", { class: "num" }, c.config.request_interval ? `${c.config.request_interval} s` : ""),
            h("td", null, h("code", null, c.id))))))),
      h("nav", { class: "pager", "aria-label": "Pages of health checks" },
        h("button", { type: "button", disabled: markers.length === 0, onclick: () => { marker = markers.pop() || ""; load(); } }, "Previous page"),
        h("button", { type: "button", disabled: !r.is_truncated, onclick: () => { markers.push(marker); marker = r.next_marker; load(); } }, "Next page")));
  }

  function showCreate() {
    const type = select({ name: "type" }, ["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP", "CALCULATED"], "HTTP");
    const children = select({ name: "child_health_checks", multiple: true, size: "5" }, latest.map((c) => [c.id, healthCheckLabel(c)]));
    const healthThreshold = h("input", { name: "health_threshold", type: "number", min: "0", max: "256", value: "1" });
    const ip = h("input", { name: "ip_address", spellcheck: "false", placeholder: "192.0.2.10" });
    const fqdn = h("input", { name: "fqdn", spellcheck: "false", placeholder: "www.example.com" });
    const port = h("input", { name: "port", type: "number", min: "1", max: "65535", placeholder: "80" });
    const path = h("input", { name: "resource_path", spellcheck: "false", placeholder: "/health" });
    const search = h("input", { name: "search_string" });
    const interval = h("input", { name: "request_interval", type: "number", min: "1", max: "30", value: "30" });
    const threshold = h("input", { name: "failure_threshold", type: "number", min: "1", max: "10", value: "3" });
    const inverted = h("input", { type: "checkbox", name: "inverted", id: "hc-inverted" });
    const msg = h("div");
    const endpoint = h("div", { class: "grid2" },
      field("IP address", ip, "Where probes go; without it the domain name is resolved"),
      field("Domain name (Host header and SNI)", fqdn), field("Port", port),
      field("Path", path), field("Search string (string match types)", search),
      field("Request interval (seconds)", interval, "10 or 30; shorter where the operator allows it"),
      field("Failure threshold", threshold));
    const calculated = h("div", { class: "grid2" },
      field("Child health checks", children, "Ctrl or Shift to choose several"),
      field("Healthy when at least this many children are", healthThreshold));
    const refresh = () => {
      endpoint.hidden = type.value === "CALCULATED";
      calculated.hidden = type.value !== "CALCULATED";
    };
    type.addEventListener("change", refresh);
    refresh();
    async function create(cfg) {
      try {
        const r = await api.post("/v1/healthchecks", { caller_reference: crypto.randomUUID(), config: cfg });
        announce("Health check created");
        go(`/healthchecks/${encodeURIComponent(r.health_check.id)}`);
      } catch (ex) {
        mount(msg, errorBox(ex));
      }
    }
    mount(createBox, h("form", {
      class: "panel", "aria-label": "Create health check",
      onkeydown: (e) => { if (e.key === "Escape") createBox.replaceChildren(); },
      onsubmit: async (e) => {
        e.preventDefault();
        const cfg = { type: type.value };
        if (type.value === "CALCULATED") {
          cfg.child_health_checks = [...children.selectedOptions].map((o) => o.value);
          cfg.health_threshold = Number(healthThreshold.value);
          if (inverted.checked) cfg.inverted = true;
          return create(cfg);
        }
        if (ip.value.trim()) cfg.ip_address = ip.value.trim();
        if (fqdn.value.trim()) cfg.fqdn = fqdn.value.trim();
        if (port.value) cfg.port = Number(port.value);
        if (path.value.trim() && type.value !== "TCP") cfg.resource_path = path.value.trim();
        if (search.value && type.value.endsWith("STR_MATCH")) cfg.search_string = search.value;
        if (interval.value) cfg.request_interval = Number(interval.value);
        if (threshold.value) cfg.failure_threshold = Number(threshold.value);
        if (inverted.checked) cfg.inverted = true;
        return create(cfg);
      },
    }, h("h2", null, "Create health check"),
    h("div", { class: "grid2" }, field("Type", type)),
    endpoint, calculated,
    h("div", { class: "field check" }, inverted, h("label", { for: "hc-inverted" }, "Invert the status")),
    msg,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create"),
      h("button", { type: "button", onclick: () => createBox.replaceChildren() }, "Cancel"))));
    type.focus();
  }

  load();
  return () => { stopped = true; clearTimeout(timer); };
}

/** healthCheckView shows one check, refreshing its status live. */
export function healthCheckView(main, id) {
  const head = h("div");
  const statusBox = h("div", { "aria-live": "polite" });
  const failBox = h("div");
  const histBox = h("div");
  const msg = h("div");
  let timer = null;
  let stopped = false;
  const settingsBox = h("div");
  mount(main, h("p", { class: "crumbs" }, h("a", { href: "#/healthchecks" }, "Health checks"), " / "), head, msg, statusBox, failBox, histBox, settingsBox);
  const base = `/v1/healthchecks/${api.enc(id)}`;

  async function load() {
    clearTimeout(timer);
    try {
      const [hc, st, lf, hist] = await Promise.all([
        api.get(base), api.get(base + "/status"), api.get(base + "/last-failure"), api.get(base + "/history", { max_items: 20 }),
      ]);
      if (stopped) return;
      renderHead(hc.health_check, st);
      renderSettings(hc.health_check);
      renderStatus(st);
      renderFailures(lf);
      renderHistory(hist);
      msg.replaceChildren();
    } catch (e) {
      if (stopped) return;
      mount(msg, errorBox(e));
      if (e.status === 404) return;
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  function renderHead(c, st) {
    if (!changed(head, [c, st.status, st.status_changed_at])) return;
    title(`Health check ${healthCheckLabel(c)}: ${st.status}`);
    const cfg = c.config;
    mount(head,
      h("div", { class: "titlebar" }, h("h1", null, "Health check ", statusBadge(st.status)),
        h("button", { type: "button", class: "danger", onclick: remove }, "Delete check")),
      h("dl", { class: "facts" },
        h("dt", null, "Id"), h("dd", null, h("code", null, c.id)),
        h("dt", null, "Probe"), h("dd", null, healthCheckLabel(c)),
        h("dt", null, "Interval, threshold"), h("dd", null, `every ${cfg.request_interval} s, ${cfg.failure_threshold} failures`),
        h("dt", null, "Status since"), h("dd", null, time(st.status_changed_at)),
        cfg.inverted ? [h("dt", null, "Inverted"), h("dd", null, "yes")] : null,
        cfg.disabled ? [h("dt", null, "Disabled"), h("dd", null, "yes")] : null));
  }

  // renderSettings is the form of what may change in a check (Route 53's
  // UpdateHealthCheck), rebuilt only when the check's version moves.
  function renderSettings(c) {
    if (!changed(settingsBox, c.version)) return;
    const cfg = c.config;
    const threshold = h("input", { name: "failure_threshold", type: "number", min: "1", max: "10", value: cfg.failure_threshold ?? 3 });
    const inverted = h("input", { type: "checkbox", name: "inverted", id: "set-inverted", checked: Boolean(cfg.inverted) });
    const disabled = h("input", { type: "checkbox", name: "disabled", id: "set-disabled", checked: Boolean(cfg.disabled) });
    const out = h("div");
    mount(settingsBox, h("form", {
      class: "panel", "aria-label": "Settings",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api.patch(base, { version: c.version, failure_threshold: Number(threshold.value), inverted: inverted.checked, disabled: disabled.checked });
          announce("Health check updated");
          load();
        } catch (ex) {
          mount(out, errorBox(ex));
        }
      },
    }, h("h2", null, "Settings"),
    h("div", { class: "grid2" }, field("Failure threshold", threshold, "Consecutive failures before a region calls it unhealthy")),
    h("div", { class: "field check" }, inverted, h("label", { for: "set-inverted" }, "Inverted (healthy when the endpoint fails)")),
    h("div", { class: "field check" }, disabled, h("label", { for: "set-disabled" }, "Disabled (probing stops; the check counts as healthy)")),
    out,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"))));
  }

  function renderStatus(st) {
    if (!changed(statusBox, st)) return;
    mount(statusBox, h("section", { class: "panel" }, h("h2", null, "Status by region"),
      st.checkers.length === 0 ? h("p", { class: "muted" }, "No region has reported yet.") :
        h("div", { class: "table-wrap" }, h("table", { class: "regions" },
          h("thead", null, h("tr", null, ["Region", "Status", "Checked", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, st.checkers.map((k) => h("tr", { dataset: { region: k.region } },
            h("th", { scope: "row" }, k.region), h("td", null, statusBadge(k.status)), h("td", null, time(k.checked_at)), h("td", null, k.reason))))))));
  }

  function renderFailures(lf) {
    if (!changed(failBox, lf)) return;
    mount(failBox, h("section", { class: "panel" }, h("h2", null, "Last failure by region"),
      lf.checkers.length === 0 ? h("p", { class: "muted" }, "No region has seen it fail.") :
        h("ul", null, lf.checkers.map((k) => h("li", null, h("strong", null, k.region), " ", time(k.failed_at), ": ", k.reason)))));
  }

  function renderHistory(hist) {
    if (!changed(histBox, hist)) return;
    mount(histBox, h("section", { class: "panel" }, h("h2", null, "History"),
      hist.transitions.length === 0 ? h("p", { class: "muted" }, "No transitions yet.") :
        h("ol", { class: "history" }, hist.transitions.map((t) => h("li", null, statusBadge(t.status), " ", time(t.at), " — ", t.reason)))));
  }

  async function remove() {
    try {
      await api.del(base);
      announce("Health check deleted");
      go("/healthchecks");
    } catch (e) {
      mount(msg, errorBox(e));
    }
  }

  load();
  return () => { stopped = true; clearTimeout(timer); };
}
