// The live view of a change: PENDING until every live nameserver has
// applied it, then INSYNC. Tenants see the propagation counts of
// GET /v1/changes/{id} (per-node details are on the operator's
// /v1/nameservers only), so the view shows how many nameservers have the
// change, out of how many gate it, as it moves.

import { h, mount, time, announce, errorBox } from "./dom.js";
import * as api from "./api.js";

/**
 * tracker returns an element that follows change (the API's Change JSON)
 * until it is INSYNC, and a stop function. onInSync runs once, then.
 */
export function tracker(change, onInSync) {
  const box = h("section", { class: "panel change", "aria-label": "Change status", tabindex: "-1", dataset: { change: change.id } });
  let stopped = false;
  let timer = null;
  const ctl = new AbortController();
  const started = Date.now();
  let last = { change, propagation: null };

  function render(err) {
    const c = last.change;
    const p = last.propagation;
    const insync = c.status === "INSYNC";
    const applied = p ? p.applied_nameservers : insync ? 1 : 0;
    const live = p ? p.live_nameservers : 0;
    const took = insync && c.insync_at ? (new Date(c.insync_at) - new Date(c.submitted_at)) / 1000 : null;
    mount(box,
      h("h3", null, "Change ", h("code", null, c.id), " ",
        h("span", { class: "status", dataset: { status: c.status }, "aria-live": "polite" }, c.status)),
      h("ol", { class: "steps" },
        h("li", { class: "done" }, "Submitted ", time(c.submitted_at), c.comment ? ` — ${c.comment}` : ""),
        h("li", { class: insync ? "done" : "current" },
          p ? `Applied by ${applied} of ${live} live nameserver${live === 1 ? "" : "s"}` : "Waiting for the nameservers",
          p && live > 0 ? h("div", { class: "ns-row" },
            Array.from({ length: live }, (_, i) => h("span", { class: ["ns-dot", i < applied && "on"], "aria-hidden": "true" })),
            h("progress", { max: String(Math.max(live, 1)), value: String(insync ? Math.max(live, 1) : applied), "aria-label": "Nameservers that have applied the change" })) : null,
          !insync && p && live === 0 ? h("div", { class: "muted" }, "No nameserver is live: the change stays PENDING until one serves it.") : null),
        h("li", { class: insync ? "done" : "" }, insync ? ["In sync ", time(c.insync_at),
          took !== null ? ` (${took < 1 ? "under a second" : took.toFixed(0) + " s"} after submission)` : ""] : "In sync: every live nameserver serves it")),
      err ? errorBox(err) : null);
  }

  async function poll() {
    if (stopped) return;
    try {
      // A short long-poll: it returns at once when INSYNC, and otherwise
      // at most a second later with fresh counts.
      last = await api.get(`/v1/changes/${api.enc(change.id)}`, { wait: "insync", timeout: "1s" }, { signal: ctl.signal });
      render();
      if (last.change.status === "INSYNC") {
        announce(`Change ${change.id} is INSYNC`);
        stopped = true;
        if (onInSync) onInSync(last.change);
        return;
      }
    } catch (e) {
      if (e.name === "AbortError") return;
      render(e);
    }
    // Back off slowly for a change that takes long (no nameserver live).
    const delay = Date.now() - started > 60000 ? 5000 : 250;
    timer = setTimeout(poll, delay);
  }

  render();
  poll();
  return {
    el: box,
    stop() {
      stopped = true;
      clearTimeout(timer);
      ctl.abort();
    },
  };
}
