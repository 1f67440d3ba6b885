// The hosted zones: search, paging, creation.

import { h, mount, field, errorBox, announce, title } from "./dom.js";
import * as api from "./api.js";
import { go } from "./app.js";

const PAGE = 20;

/**
 * zonesView lists zones a page at a time, in the API's order (DNS order:
 * by reversed labels). The search box lists a name and the zones under
 * it: those are contiguous in that order, so the API's own paging
 * (ListHostedZonesByName: start at a name) serves the search too.
 */
export function zonesView(main, q) {
  const term = (q.get("q") || "").trim().toLowerCase().replace(/\.$/, "");
  title(term ? `Zones: ${term}` : "Hosted zones");
  const listBox = h("div", { "aria-live": "polite" });
  const createBox = h("div");
  const search = h("input", { type: "search", name: "q", value: term, placeholder: "example.com", spellcheck: "false", autocomplete: "off" });
  const stack = []; // the start tokens of the pages before this one
  let page = null;

  mount(main,
    h("div", { class: "titlebar" }, h("h1", null, "Hosted zones"),
      h("button", { type: "button", class: "primary", onclick: showCreate }, "Create hosted zone")),
    createBox,
    h("form", {
      role: "search", class: "searchbar",
      onsubmit: (e) => {
        e.preventDefault();
        const v = search.value.trim();
        go(v ? `/zones?q=${encodeURIComponent(v)}` : "/zones");
      },
    }, field("Search by zone name (the zone and the zones below it)", search),
    h("button", { type: "submit" }, "Search")),
    listBox);

  function matches(z) {
    if (!term) return true;
    const n = z.name.replace(/\.$/, "");
    return n === term || n.endsWith("." + term);
  }

  async function load(start) {
    mount(listBox, h("p", { class: "muted" }, "Loading…"));
    try {
      page = await api.get("/v1/hostedzones", { max_items: PAGE, name: start?.name || (term && !start ? term : ""), zone_id: start?.zone_id });
      render();
    } catch (e) {
      mount(listBox, errorBox(e));
    }
  }

  function render() {
    const zones = page.hosted_zones.filter(matches);
    // With a search, the first zone outside the name ends the results.
    const ended = term && zones.length < page.hosted_zones.length;
    const more = page.is_truncated && !ended;
    mount(listBox,
      zones.length === 0 ? h("p", null, term ? `No zone is ${term} or below it.` : "No hosted zones yet.") :
        h("div", { class: "table-wrap" }, h("table", null,
          h("caption", { class: "sr-only" }, "Hosted zones"),
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Record sets"),
            h("th", { scope: "col" }, "Comment"), h("th", { scope: "col" }, "Zone id"))),
          h("tbody", null, zones.map((z) => h("tr", null,
            h("th", { scope: "row" }, h("a", { href: `#/zones/${encodeURIComponent(z.id)}` }, z.name)),
            h("td", { class: "num" }, z.record_set_count),
            h("td", null, z.comment),
            h("td", null, h("code", null, z.id))))))),
      h("nav", { class: "pager", "aria-label": "Pages of zones" },
        h("button", {
          type: "button", disabled: stack.length === 0,
          onclick: () => { stack.pop(); load(stack[stack.length - 1]); },
        }, "Previous page"),
        h("span", { class: "muted" }, `Page ${stack.length + 1}`),
        h("button", {
          type: "button", disabled: !more,
          onclick: () => {
            const next = { name: page.next_name, zone_id: page.next_zone_id };
            stack.push(next);
            load(next);
          },
        }, "Next page")));
  }

  function showCreate() {
    const name = h("input", { name: "zone_name", required: true, placeholder: "example.com", spellcheck: "false", autocomplete: "off" });
    const comment = h("input", { name: "comment", maxlength: "256" });
    const msg = h("div");
    mount(createBox, h("form", {
      class: "panel", "aria-label": "Create hosted zone",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api.post("/v1/hostedzones", { name: name.value.trim(), comment: comment.value, caller_reference: crypto.randomUUID() });
          announce(`Created ${r.hosted_zone.name}`);
          go(`/zones/${encodeURIComponent(r.hosted_zone.id)}`);
        } catch (ex) {
          mount(msg, errorBox(ex));
          name.focus();
        }
      },
      onkeydown: (e) => { if (e.key === "Escape") createBox.replaceChildren(); },
    }, h("h2", null, "Create hosted zone"),
    h("div", { class: "grid2" }, field("Domain name", name), field("Comment (optional)", comment)),
    msg,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create"),
      h("button", { type: "button", onclick: () => createBox.replaceChildren() }, "Cancel"))));
    name.focus();
  }

  load(null);
}
