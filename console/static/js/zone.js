// One hosted zone: its record sets edited as one change batch (with the
// diff shown before it is submitted, and the change followed to INSYNC),
// zone-file import with errors shown on their lines, export, and
// test-answer.

import { h, mount, field, select, errorBox, announce, title } from "./dom.js";
import * as api from "./api.js";
import { go } from "./app.js";
import { tracker } from "./change.js";
import { TYPES, key, diffLines, policyText, editor } from "./records.js";

const PAGE = 100;

// Staged change batches by zone id: they survive switching tabs.
const batches = new Map();

function batchOf(zoneId) {
  if (!batches.has(zoneId)) batches.set(zoneId, []);
  return batches.get(zoneId);
}

/**
 * stage adds an edit to the batch. before is the record set as the server
 * has it (null for a new one), after the wanted one (null to delete).
 * A change to a record set's name, type or set identifier is a DELETE and
 * a CREATE; the same identity is an UPSERT.
 */
function stage(batch, before, after) {
  const keys = new Set([before && key(before), after && key(after)].filter(Boolean));
  const onServer = new Map(); // identity → the server's record set
  if (before) onServer.set(key(before), before);
  for (let i = batch.length - 1; i >= 0; i--) {
    const c = batch[i];
    if (keys.has(key(c.rrset)) || (c.before && keys.has(key(c.before)))) {
      if (c.before) onServer.set(key(c.before), c.before);
      batch.splice(i, 1);
    }
  }
  if (before && after && key(before) === key(after)) {
    batch.push({ action: "UPSERT", rrset: after, before });
    return;
  }
  if (before) batch.push({ action: "DELETE", rrset: before, before });
  if (after) {
    const old = onServer.get(key(after));
    batch.push(old ? { action: "UPSERT", rrset: after, before: old } : { action: "CREATE", rrset: after, before: null });
  }
}

/** zoneView shows one zone on one tab; it returns its cleanup. */
export function zoneView(main, zoneId, tab) {
  const stops = [];
  const head = h("div");
  const body = h("div");
  mount(main, head, body);
  let zone = null;

  const tabs = [["records", "Record sets"], ["import", "Import"], ["export", "Export"], ["test", "Test answer"]];

  async function loadZone() {
    try {
      zone = await api.get(`/v1/hostedzones/${api.enc(zoneId)}`);
    } catch (e) {
      mount(head, h("h1", null, "Hosted zone"), errorBox(e), h("p", null, h("a", { href: "#/zones" }, "Back to the zones")));
      return false;
    }
    renderHead();
    return true;
  }

  // The head is built once; a reload (after a change is INSYNC) only
  // refreshes its facts, so that the tabs and buttons keep their focus.
  const facts = h("dl", { class: "facts" });
  function renderHead() {
    const z = zone.hosted_zone;
    title(`${z.name} ${Object.fromEntries(tabs)[tab]}`);
    mount(facts,
      h("dt", null, "Zone id"), h("dd", null, h("code", null, z.id)),
      h("dt", null, "Version (SOA serial)"), h("dd", { dataset: { field: "version" } }, z.version),
      h("dt", null, "Record sets"), h("dd", null, z.record_set_count),
      h("dt", null, "Name servers"), h("dd", null, (zone.delegation_set?.name_servers || []).join(", ")),
      z.comment ? [h("dt", null, "Comment"), h("dd", null, z.comment)] : null);
    if (head.contains(facts)) return;
    mount(head,
      h("p", { class: "crumbs" }, h("a", { href: "#/zones" }, "Hosted zones"), " / "),
      h("div", { class: "titlebar" }, h("h1", null, z.name),
        h("button", { type: "button", class: "danger", onclick: confirmDelete }, "Delete zone")),
      facts,
      h("div", { id: "delete-confirm" }),
      h("nav", { class: "tabs", "aria-label": "Zone sections" }, tabs.map(([t, label]) =>
        h("a", { href: `#/zones/${encodeURIComponent(zoneId)}/${t}`, "aria-current": t === tab ? "page" : undefined }, label))));
  }

  function confirmDelete() {
    const box = head.querySelector("#delete-confirm");
    const msg = h("div");
    mount(box, h("div", { class: "panel warn", role: "alertdialog", "aria-label": "Confirm deletion" },
      h("p", null, `Delete ${zone.hosted_zone.name}? Only a zone with nothing but its SOA and NS record sets can be deleted.`),
      msg,
      h("div", { class: "actions" },
        h("button", {
          type: "button", class: "danger", onclick: async () => {
            try {
              await api.del(`/v1/hostedzones/${api.enc(zoneId)}`);
              announce("Zone deleted");
              go("/zones");
            } catch (e) { mount(msg, errorBox(e)); }
          },
        }, "Delete it"),
        h("button", { type: "button", onclick: () => box.replaceChildren() }, "Keep it"))));
    box.querySelector("button").focus();
  }

  loadZone().then((ok) => {
    if (!ok) return;
    const views = { records: recordsTab, import: importTab, export: exportTab, test: testTab };
    views[tab]();
  });

  // ---- Record sets --------------------------------------------------------

  function recordsTab() {
    const z = zone.hosted_zone;
    const batch = batchOf(zoneId);
    const ctx = { zone: z.name, zoneId, healthChecks: [], cidrCollections: [] };
    const editorBox = h("div");
    const batchBox = h("div");
    const changeBox = h("div");
    const tableBox = h("div");
    const filter = h("input", { type: "search", name: "filter", placeholder: "www or MX", spellcheck: "false", autocomplete: "off" });
    const stack = [];
    let page = null;
    let start = null;

    mount(body,
      h("div", { class: "toolbar" },
        h("button", { type: "button", class: "primary", onclick: () => edit(null) }, "Add record set"),
        h("div", { class: "filter" }, field("Filter this page", filter))),
      editorBox, batchBox, changeBox, tableBox);
    filter.addEventListener("input", renderTable);

    // Menus of the editor, and the health checks' status for the table; a
    // failure leaves them empty, not the page broken.
    api.get("/v1/cidrcollections").then((r) => { ctx.cidrCollections = r.cidr_collections; }).catch(() => {});

    async function load() {
      try {
        // One render per load, with the checks' current status in it.
        const checks = api.get("/v1/healthchecks", { max_items: 100 }).then((r) => { ctx.healthChecks = r.health_checks; }).catch(() => {});
        [page] = await Promise.all([api.get(`/v1/hostedzones/${api.enc(zoneId)}/rrsets`, { max_items: PAGE, ...(start || {}) }), checks]);
        renderTable();
      } catch (e) {
        mount(tableBox, errorBox(e));
      }
    }

    // edit opens the editor on a record set of the server (rs, or null
    // for a new one), showing its staged version if it has one; staged is
    // a staged CREATE being edited again instead.
    function edit(rs, staged) {
      const st = rs && stagedFor(rs);
      const shown = staged ? staged.rrset : st && st.action === "UPSERT" ? st.rrset : rs;
      mount(editorBox, editor(shown, ctx, (after) => {
        if (staged) batch.splice(batch.indexOf(staged), 1);
        stage(batch, rs, after);
        editorBox.replaceChildren();
        announce(`Staged ${after.name} ${after.type}; ${batch.length} change${batch.length === 1 ? "" : "s"} in the batch`);
        renderBatch();
        renderTable();
        batchBox.querySelector("h2")?.focus();
      }, () => {
        editorBox.replaceChildren();
        tableBox.querySelector("button")?.focus();
      }));
      editorBox.scrollIntoView({ block: "nearest" });
    }

    function remove(rs) {
      stage(batch, rs, null);
      announce(`Staged deletion of ${rs.name} ${rs.type}`);
      renderBatch();
      renderTable();
    }

    function unstage(rs) {
      for (let i = batch.length - 1; i >= 0; i--) {
        const c = batch[i];
        if (key(c.rrset) === key(rs) || (c.before && key(c.before) === key(rs))) batch.splice(i, 1);
      }
      announce(`Unstaged ${rs.name} ${rs.type}`);
      renderBatch();
      renderTable();
    }

    function stagedFor(rs) {
      return batch.find((c) => key(c.rrset) === key(rs) || (c.before && key(c.before) === key(rs)));
    }

    // healthOf links a record set's health check, with its status.
    function healthOf(rs) {
      if (!rs.health_check_id) return null;
      const c = ctx.healthChecks.find((x) => x.id === rs.health_check_id);
      return h("a", { class: "hc-link", href: `#/healthchecks/${encodeURIComponent(rs.health_check_id)}`, "aria-label": `Health check of ${rs.name} ${rs.set_identifier || ""}: ${c ? c.status : "status unknown"}` },
        c ? h("span", { class: ["status", c.status === "HEALTHY" ? "healthy" : "unhealthy"], dataset: { status: c.status } }, c.status) : "health check");
    }

    function renderTable() {
      if (!page) return;
      const f = filter.value.trim().toLowerCase();
      const rows = page.rrsets.filter((rs) => !f || rs.name.includes(f) || rs.type.toLowerCase() === f);
      const created = batch.filter((c) => c.action === "CREATE" && !page.rrsets.some((rs) => key(rs) === key(c.rrset)));
      const apexCore = (rs) => rs.name === z.name && (rs.type === "SOA" || rs.type === "NS");
      mount(tableBox,
        h("div", { class: "table-wrap" }, h("table", { class: "rrsets" },
          h("caption", { class: "sr-only" }, `Record sets of ${z.name}`),
          h("thead", null, h("tr", null, ["Name", "Type", "Routing", "TTL", "Values", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null,
            rows.map((rs) => {
              const st = stagedFor(rs);
              const label = `${rs.name} ${rs.type}${rs.set_identifier ? " " + rs.set_identifier : ""}`;
              return h("tr", { class: st ? `staged-${st.action.toLowerCase()}` : "", dataset: { key: key(rs) } },
                h("th", { scope: "row" }, rs.name), h("td", { class: "c-type", "data-label": "Type" }, rs.type),
                h("td", { class: "c-route", "data-label": "Routing" }, policyText(rs), healthOf(rs)),
                h("td", { class: "num c-ttl", "data-label": "TTL" }, rs.alias_target ? "—" : rs.ttl),
                h("td", null, rs.alias_target ? `→ ${rs.alias_target.dns_name}` : h("ul", { class: "values" }, (rs.records || []).map((v) => h("li", null, v)))),
                h("td", { class: "row-actions" },
                  st ? h("span", { class: "badge" }, { DELETE: "to delete", UPSERT: "edited", CREATE: "to create" }[st.action]) : null,
                  st?.action === "DELETE" ? null : h("button", { type: "button", onclick: () => edit(rs), "aria-label": `Edit ${label}` }, "Edit"),
                  st ? h("button", { type: "button", onclick: () => unstage(rs), "aria-label": `Undo the staged change of ${label}` }, "Undo") :
                    apexCore(rs) ? null : h("button", { type: "button", class: "danger", onclick: () => remove(rs), "aria-label": `Delete ${label}` }, "Delete")));
            }),
            created.map((c) => h("tr", { class: "staged-create" },
              h("th", { scope: "row" }, c.rrset.name), h("td", { class: "c-type", "data-label": "Type" }, c.rrset.type),
              h("td", { class: "c-route", "data-label": "Routing" }, policyText(c.rrset)),
              h("td", { class: "num c-ttl", "data-label": "TTL" }, c.rrset.alias_target ? "—" : c.rrset.ttl),
              h("td", null, c.rrset.alias_target ? `→ ${c.rrset.alias_target.dns_name}` : h("ul", { class: "values" }, (c.rrset.records || []).map((v) => h("li", null, v)))),
              h("td", { class: "row-actions" }, h("span", { class: "badge" }, "new"),
                h("button", { type: "button", onclick: () => edit(null, c), "aria-label": `Edit the new ${c.rrset.name} ${c.rrset.type}` }, "Edit"),
                h("button", { type: "button", onclick: () => unstage(c.rrset), "aria-label": `Undo the new ${c.rrset.name} ${c.rrset.type}` }, "Undo"))))))),
        h("nav", { class: "pager", "aria-label": "Pages of record sets" },
          h("button", { type: "button", disabled: stack.length === 0, onclick: () => { stack.pop(); start = stack[stack.length - 1] || null; load(); } }, "Previous page"),
          h("span", { class: "muted" }, `Page ${stack.length + 1}`),
          h("button", {
            type: "button", disabled: !page.is_truncated, onclick: () => {
              start = { name: page.next_name, type: page.next_type, identifier: page.next_identifier };
              stack.push(start);
              load();
            },
          }, "Next page")));
    }

    function renderBatch() {
      if (batch.length === 0) {
        batchBox.replaceChildren();
        return;
      }
      const comment = h("input", { name: "comment", maxlength: "256", placeholder: "What and why" });
      const msg = h("div");
      const errAt = new Map();
      mount(batchBox, h("section", { class: "panel batch", "aria-labelledby": "batch-title" },
        h("h2", { id: "batch-title", tabindex: "-1" }, `Change batch: ${batch.length} change${batch.length === 1 ? "" : "s"}, not yet submitted`),
        h("p", { class: "muted" }, "Everything below is applied at once, or not at all. Review the difference, then submit."),
        h("ol", { class: "diff-list" }, batch.map((c, i) => h("li", { dataset: { index: i } },
          h("div", { class: "diff-head" }, h("span", { class: `action ${c.action.toLowerCase()}` }, c.action), ` ${c.rrset.name} ${c.rrset.type}`,
            c.rrset.set_identifier ? ` [${c.rrset.set_identifier}]` : "",
            h("button", { type: "button", class: "link", onclick: () => { batch.splice(i, 1); renderBatch(); renderTable(); }, "aria-label": `Unstage change ${i + 1}` }, "unstage")),
          h("pre", { class: "diff", "aria-label": `Difference of change ${i + 1}` },
            diffLines(c.action === "CREATE" ? null : c.before, c.action === "DELETE" ? null : c.rrset).map(([m, l]) =>
              h("span", { class: m === "+" ? "add" : m === "-" ? "del" : "ctx" }, `${m} ${l}\n`))),
          (() => { const d = h("div", { class: "change-error" }); errAt.set(i, d); return d; })()))),
        field("Comment (optional)", comment),
        msg,
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", onclick: submit }, "Submit change batch"),
          h("button", { type: "button", onclick: () => { batch.length = 0; renderBatch(); renderTable(); announce("Change batch discarded"); } }, "Discard all"))));

      async function submit() {
        const changes = batch.map((c) => ({ action: c.action, rrset: c.rrset }));
        // One submission at a time: a double click must not send it twice.
        const button = batchBox.querySelector(".batch button.primary");
        button.disabled = true;
        msg.replaceChildren();
        for (const box of errAt.values()) {
          box.replaceChildren();
          box.closest("li").classList.remove("bad");
        }
        try {
          const r = await api.post(`/v1/hostedzones/${api.enc(zoneId)}/rrsets/changes`, { comment: comment.value || undefined, changes });
          batch.length = 0;
          renderBatch();
          announce(`Change ${r.change.id} submitted`);
          follow(r.change);
          await load();
          loadZone();
        } catch (e) {
          button.disabled = false;
          // Details about one change show under it; the rest in the box.
          const atChange = (d) => d.index !== undefined && errAt.has(d.index);
          mount(msg, errorBox({ code: e.code, message: e.message, requestId: e.requestId, details: (e.details || []).filter((d) => !atChange(d)) }));
          for (const d of (e.details || []).filter(atChange)) {
            const box = errAt.get(d.index);
            box.closest("li").classList.add("bad");
            box.appendChild(h("p", { role: "alert", class: "error-text" }, d.field ? `${d.field}: ${d.message}` : d.message));
          }
        }
      }
    }

    function follow(change) {
      stops.forEach((s) => s());
      const t = tracker(change, () => loadZone());
      stops.push(t.stop);
      mount(changeBox, t.el);
      t.el.focus();
    }

    renderBatch();
    load();
  }

  // ---- Import -------------------------------------------------------------

  function importTab() {
    const text = h("textarea", { name: "zonefile", rows: "14", spellcheck: "false", class: "mono" });
    const file = h("input", { type: "file", name: "file", accept: ".zone,.txt,.db,text/plain,text/dns" });
    const msg = h("div");
    const linesBox = h("div");
    const changeBox = h("div");
    file.addEventListener("change", async () => {
      if (file.files[0]) text.value = await file.files[0].text();
    });
    mount(body, h("section", { class: "panel" },
      h("h2", null, "Import a zone file"),
      h("p", null, "An RFC 1035 master file, origin ", h("code", null, zone.hosted_zone.name),
        ". Every record set in the file is created or replaced in one change batch (UPSERT); record sets not in the file are kept. Errors are shown on their lines."),
      h("form", {
        onsubmit: async (e) => {
          e.preventDefault();
          mount(msg);
          linesBox.replaceChildren();
          const button = e.currentTarget.querySelector("button[type=submit]");
          button.disabled = true;
          try {
            const r = await api.call("POST", `/v1/hostedzones/${api.enc(zoneId)}/import`, { text: text.value, contentType: "text/dns" });
            announce("Zone file imported");
            mount(msg, h("p", { class: "ok", role: "status" }, "Imported as one change."));
            stops.forEach((s) => s());
            const t = tracker(r.change, () => loadZone());
            stops.push(t.stop);
            mount(changeBox, t.el);
          } catch (ex) {
            mount(msg, errorBox({ ...ex, message: ex.message, details: [] }));
            showLines(ex.details || []);
          } finally {
            button.disabled = false;
          }
        },
      },
      field("Zone file from disk", file),
      field("Zone file", text),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Import"))),
      msg, linesBox, changeBox));

    function showLines(details) {
      const byLine = new Map();
      for (const d of details) {
        if (!d.line) continue;
        if (!byLine.has(d.line)) byLine.set(d.line, []);
        byLine.get(d.line).push(d.message);
      }
      const other = details.filter((d) => !d.line);
      if (byLine.size === 0 && other.length === 0) return;
      const src = text.value.split("\n");
      mount(linesBox, h("section", { class: "panel", "aria-label": "Errors by line" },
        h("h3", null, `${details.length} problem${details.length === 1 ? "" : "s"} in the file`),
        other.length ? h("ul", null, other.map((d) => h("li", null, d.index !== undefined ? `record set ${d.index + 1}: ` : "", d.message))) : null,
        h("ol", { class: "zonelines" }, src.map((l, i) => {
          const errs = byLine.get(i + 1);
          return h("li", { class: errs ? "bad" : "", dataset: { line: i + 1 }, tabindex: errs ? "0" : undefined },
            h("span", { class: "ln", "aria-hidden": "true" }, i + 1), h("code", null, l || " "),
            errs ? errs.map((m) => h("div", { class: "line-error", role: "note" }, `Line ${i + 1}: ${m}`)) : null);
        }))));
      linesBox.querySelector("li.bad")?.focus();
    }
  }

  // ---- Export -------------------------------------------------------------

  function exportTab() {
    const pre = h("pre", { class: "zonefile", tabindex: "0", "aria-label": "Zone file" }, "Loading…");
    const msg = h("div");
    let text = "";
    const download = h("button", { type: "button", disabled: true, onclick: () => {
      const url = URL.createObjectURL(new Blob([text], { type: "text/dns" }));
      const a = h("a", { href: url, download: zone.hosted_zone.name.replace(/\.$/, "") + ".zone" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } }, "Download");
    const copy = h("button", { type: "button", disabled: true, onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        announce("Copied");
      } catch (e) { mount(msg, errorBox(e)); }
    } }, "Copy");
    mount(body, h("section", { class: "panel" }, h("h2", null, "Export"),
      h("p", null, "The zone as an RFC 1035 master file. Routing policies, health checks and aliases are kept in ", h("code", null, ";"), "-comment lines that import reads back."),
      h("div", { class: "actions" }, download, copy), msg, pre));
    api.call("GET", `/v1/hostedzones/${api.enc(zoneId)}/export`, { accept: "text" }).then((t) => {
      text = t;
      pre.textContent = t;
      download.disabled = false;
      copy.disabled = false;
    }).catch((e) => { pre.textContent = ""; mount(msg, errorBox(e)); });
  }

  // ---- Test answer ----------------------------------------------------------

  function testTab() {
    // Resolver addresses of a few places, for "what would a client there
    // get". Which place an address is depends on the nameservers' GeoIP
    // database; the explanation says what they made of it.
    const places = [
      ["", "Any (this console's connection)"],
      ["3.120.0.10", "Frankfurt, Germany (3.120.0.10)"],
      ["3.248.0.10", "Dublin, Ireland (3.248.0.10)"],
      ["3.80.0.10", "Ashburn, Virginia (3.80.0.10)"],
      ["13.112.0.10", "Tokyo, Japan (13.112.0.10)"],
      ["18.228.0.10", "Sao Paulo, Brazil (18.228.0.10)"],
      ["3.24.0.10", "Sydney, Australia (3.24.0.10)"],
    ];
    const name = h("input", { name: "name", value: zone.hosted_zone.name, required: true, spellcheck: "false" });
    const type = select({ name: "type" }, TYPES, "A");
    const place = select({ name: "place" }, places, "3.120.0.10");
    const clientIP = h("input", { name: "client_ip", value: "3.120.0.10", spellcheck: "false", inputmode: "decimal" });
    const ecs = h("input", { name: "ecs", placeholder: "e.g. 3.120.0.0/24", spellcheck: "false" });
    place.addEventListener("change", () => { clientIP.value = place.value; });
    const out = h("div", { "aria-live": "polite" });
    mount(body, h("section", { class: "panel" }, h("h2", null, "Test answer"),
      h("p", null, "Ask a live nameserver what it would answer a resolver, and why: the routing policy and branch taken, the location or prefix that matched, the health it used."),
      h("form", {
        onsubmit: async (e) => {
          e.preventDefault();
          mount(out, h("p", { class: "muted" }, "Asking a nameserver…"));
          try {
            const r = await api.get(`/v1/hostedzones/${api.enc(zoneId)}/test-answer`, { name: name.value.trim(), type: type.value, client_ip: clientIP.value.trim(), ecs: ecs.value.trim() });
            mount(out, h("section", { class: "answer", "aria-label": "Answer" },
              h("dl", { class: "facts" },
                h("dt", null, "Response code"), h("dd", { dataset: { field: "rcode" } }, r.response_code),
                h("dt", null, "Nameserver"), h("dd", null, r.nameserver),
                h("dt", null, "Zone version"), h("dd", null, r.zone_version),
                r.client_ip ? [h("dt", null, "Client"), h("dd", null, r.client_ip)] : null,
                r.ecs ? [h("dt", null, "Client subnet"), h("dd", null, r.ecs)] : null),
              r.records.length ? h("div", { class: "table-wrap" }, h("table", null, h("caption", null, "Records"),
                h("thead", null, h("tr", null, ["Name", "Type", "TTL", "Data"].map((c) => h("th", { scope: "col" }, c)))),
                h("tbody", null, r.records.map((x) => h("tr", null, h("td", null, x.name), h("td", null, x.type), h("td", { class: "num" }, x.ttl), h("td", null, h("code", null, x.data))))))) :
                h("p", null, "No records in the answer."),
              h("h3", null, "Why"),
              h("ol", { class: "explain" }, r.explanation.map((s) => h("li", null, s)))));
          } catch (ex) {
            mount(out, errorBox(ex));
          }
        },
      },
      h("div", { class: "grid2" }, field("Record name", name), field("Type", type),
        field("Resolver location", place), field("Resolver address", clientIP),
        field("EDNS client subnet (optional)", ecs)),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Test"))),
      out));
  }

  return () => stops.forEach((s) => s());
}

