// Record sets: how they are shown, compared and edited. A record set is
// the API's RRSet JSON (openapi.yaml), unchanged.

import { h, field, select, id } from "./dom.js";

export const TYPES = ["A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"];

// Latency routing regions (zonecfg.Regions, docs/routing.md) and the city
// of each, for people.
export const REGIONS = [
  ["af-south-1", "Cape Town"], ["ap-east-1", "Hong Kong"], ["ap-northeast-1", "Tokyo"], ["ap-northeast-2", "Seoul"],
  ["ap-northeast-3", "Osaka"], ["ap-south-1", "Mumbai"], ["ap-south-2", "Hyderabad"], ["ap-southeast-1", "Singapore"],
  ["ap-southeast-2", "Sydney"], ["ap-southeast-3", "Jakarta"], ["ap-southeast-4", "Melbourne"], ["ca-central-1", "Montreal"],
  ["ca-west-1", "Calgary"], ["eu-central-1", "Frankfurt"], ["eu-central-2", "Zurich"], ["eu-north-1", "Stockholm"],
  ["eu-south-1", "Milan"], ["eu-south-2", "Zaragoza"], ["eu-west-1", "Dublin"], ["eu-west-2", "London"],
  ["eu-west-3", "Paris"], ["il-central-1", "Tel Aviv"], ["me-central-1", "Dubai"], ["me-south-1", "Manama"],
  ["sa-east-1", "Sao Paulo"], ["us-east-1", "Ashburn, Virginia"], ["us-east-2", "Columbus, Ohio"],
  ["us-west-1", "San Jose, California"], ["us-west-2", "Boardman, Oregon"],
];

export const CONTINENTS = [["AF", "Africa"], ["AN", "Antarctica"], ["AS", "Asia"], ["EU", "Europe"], ["NA", "North America"], ["OC", "Oceania"], ["SA", "South America"]];

export const POLICIES = [
  ["simple", "Simple"], ["weighted", "Weighted"], ["latency", "Latency"], ["geolocation", "Geolocation"],
  ["failover", "Failover"], ["multivalue", "Multivalue answer"], ["cidr", "IP-based (CIDR)"],
];

/** policyOf names the routing policy of a record set. */
export function policyOf(rs) {
  if (rs.weight !== undefined) return "weighted";
  if (rs.region) return "latency";
  if (rs.geolocation) return "geolocation";
  if (rs.failover) return "failover";
  if (rs.multivalue_answer) return "multivalue";
  if (rs.cidr_routing) return "cidr";
  return "simple";
}

/** policyText is a short description of the routing of rs. */
export function policyText(rs) {
  const p = policyOf(rs);
  let s;
  switch (p) {
    case "weighted": s = `weighted ${rs.weight}`; break;
    case "latency": s = `latency ${rs.region}`; break;
    case "geolocation": {
      const g = rs.geolocation;
      s = "geo " + (g.continent_code || [g.country_code, g.subdivision_code].filter(Boolean).join("-"));
      break;
    }
    case "failover": s = `failover ${rs.failover.toLowerCase()}`; break;
    case "multivalue": s = "multivalue"; break;
    case "cidr": s = `cidr ${rs.cidr_routing.location_name}`; break;
    default: s = "simple";
  }
  if (rs.set_identifier) s += ` [${rs.set_identifier}]`;
  if (rs.alias_target) s += rs.alias_target.evaluate_target_health ? ", alias (evaluates target health)" : ", alias";
  if (rs.health_check_id) s += " + health check";
  return s;
}

/** key identifies a record set in its zone: name, type, set identifier. */
export function key(rs) {
  return `${rs.name.toLowerCase()}|${rs.type}|${rs.set_identifier || ""}`;
}

/** lines renders rs as master-file lines, with its routing as a comment. */
export function lines(rs) {
  const extra = policyOf(rs) === "simple" && !rs.health_check_id ? "" : `  ; ${policyText(rs)}`;
  if (rs.alias_target) {
    const a = rs.alias_target;
    return [`${rs.name} ALIAS ${rs.type} → ${a.dns_name} (zone ${a.hosted_zone_id}${a.evaluate_target_health ? ", evaluate target health" : ""})${extra}`];
  }
  return (rs.records || []).map((r) => `${rs.name} ${rs.ttl} IN ${rs.type} ${r}${extra}`);
}

/** diffLines compares two record sets (either may be null) line by line. */
export function diffLines(before, after) {
  const a = before ? lines(before) : [];
  const b = after ? lines(after) : [];
  const out = [];
  for (const l of a) out.push(b.includes(l) ? [" ", l] : ["-", l]);
  for (const l of b) if (!a.includes(l)) out.push(["+", l]);
  return out;
}

/** fqdn makes name absolute in zone ("@" and "" are the apex). */
export function fqdn(name, zone) {
  name = name.trim();
  if (name === "" || name === "@") return zone;
  if (name.endsWith(".")) return name;
  return `${name}.${zone}`;
}

/** relative shows name relative to zone, "@" for the apex. */
export function relative(name, zone) {
  if (name === zone) return "@";
  if (name.endsWith("." + zone)) return name.slice(0, -zone.length - 1);
  return name;
}

/**
 * editor returns a form that edits rs (null for a new record set) in
 * zone, calling onSave(newRRSet) or onCancel(). ctx: {zone, zoneId,
 * healthChecks: [...], cidrCollections: [...]}.
 */
export function editor(rs, ctx, onSave, onCancel) {
  const zone = ctx.zone;
  const isNew = !rs;
  rs = rs || { name: zone, type: "A", ttl: 300, records: [] };
  const isApexCore = !isNew && rs.name === zone && (rs.type === "SOA" || rs.type === "NS");

  const name = h("input", { name: "name", value: relative(rs.name, zone), autocomplete: "off", spellcheck: "false", disabled: isApexCore });
  const type = select({ name: "type", disabled: isApexCore }, TYPES, rs.type);
  const alias = h("input", { type: "checkbox", name: "alias", checked: Boolean(rs.alias_target), disabled: isApexCore });
  const ttl = h("input", { name: "ttl", type: "number", min: "0", max: "2147483647", value: rs.ttl ?? 300, inputmode: "numeric" });
  const values = h("textarea", { name: "values", rows: "4", spellcheck: "false" });
  values.value = (rs.records || []).join("\n");
  const at = rs.alias_target || { hosted_zone_id: ctx.zoneId, dns_name: "", evaluate_target_health: false };
  const aliasZone = h("input", { name: "alias_zone", value: at.hosted_zone_id, spellcheck: "false" });
  const aliasName = h("input", { name: "alias_name", value: at.dns_name, spellcheck: "false" });
  const aliasEval = h("input", { type: "checkbox", name: "alias_eval", checked: at.evaluate_target_health });

  const policy = select({ name: "policy", disabled: isApexCore }, POLICIES, policyOf(rs));
  const setId = h("input", { name: "set_identifier", value: rs.set_identifier || "", maxlength: "128", spellcheck: "false" });
  const weight = h("input", { name: "weight", type: "number", min: "0", max: "255", value: rs.weight ?? 1 });
  const region = select({ name: "region" }, REGIONS.map(([r, c]) => [r, `${r} (${c})`]), rs.region || "us-east-1");
  const g = rs.geolocation || {};
  const continent = select({ name: "continent" }, [["", "— country instead —"], ...CONTINENTS], g.continent_code || "");
  const country = h("input", { name: "country", value: g.country_code || "", maxlength: "2", placeholder: "DE, US, or * for default", spellcheck: "false" });
  const subdivision = h("input", { name: "subdivision", value: g.subdivision_code || "", maxlength: "3", placeholder: "WA (US only)", spellcheck: "false" });
  const failover = select({ name: "failover" }, ["PRIMARY", "SECONDARY"], rs.failover || "PRIMARY");
  const cidrColl = select({ name: "cidr_collection" }, [["", "— choose —"], ...ctx.cidrCollections.map((c) => [c.id, c.name])], rs.cidr_routing?.collection_id || "");
  const cidrLoc = h("input", { name: "cidr_location", value: rs.cidr_routing?.location_name || "", placeholder: "a location, or * for default", spellcheck: "false" });
  const hc = select({ name: "health_check" }, [["", "— none —"], ...ctx.healthChecks.map((c) => [c.id, healthCheckLabel(c)])], rs.health_check_id || "");

  const valuesBox = h("div", { class: "grid2" }, field("TTL (seconds)", ttl), field("Values, one per line", values, "Presentation format, e.g. 10 mail.example.com. for MX"));
  const aliasBox = h("div", { class: "grid2" }, field("Target hosted zone id", aliasZone), field("Target DNS name", aliasName),
    h("div", { class: "field check" }, aliasEval, h("label", { for: aliasEval.id = id() }, "Evaluate target health")));
  const policyBoxes = {
    weighted: h("div", { class: "grid2" }, field("Weight (0–255)", weight)),
    latency: h("div", { class: "grid2" }, field("Region", region)),
    geolocation: h("div", { class: "grid2" }, field("Continent", continent), field("Country code", country), field("Subdivision", subdivision)),
    failover: h("div", { class: "grid2" }, field("Failover role", failover)),
    multivalue: null,
    cidr: h("div", { class: "grid2" }, field("CIDR collection", cidrColl), field("Location", cidrLoc)),
  };
  const setIdBox = field("Set identifier", setId, "Tells record sets with the same name and type apart");
  const policyArea = h("div");

  function refresh() {
    valuesBox.hidden = alias.checked;
    aliasBox.hidden = !alias.checked;
    const p = policy.value;
    policyArea.replaceChildren(...(p === "simple" ? [] : [setIdBox, policyBoxes[p]].filter(Boolean)));
  }
  alias.addEventListener("change", refresh);
  policy.addEventListener("change", refresh);
  refresh();

  const problem = h("div", { class: "error-box", role: "alert", hidden: true });
  function fail(msg, el) {
    problem.textContent = msg;
    problem.hidden = false;
    if (el) el.focus();
  }

  function build() {
    const out = { name: isApexCore ? rs.name : fqdn(name.value, zone).toLowerCase(), type: isApexCore ? rs.type : type.value };
    if (alias.checked) {
      if (!aliasName.value.trim()) return fail("An alias needs a target DNS name.", aliasName);
      out.alias_target = { hosted_zone_id: aliasZone.value.trim(), dns_name: aliasName.value.trim(), evaluate_target_health: aliasEval.checked };
    } else {
      const n = Number(ttl.value);
      if (!Number.isInteger(n) || n < 0) return fail("The TTL must be a whole number of seconds.", ttl);
      out.ttl = n;
      out.records = values.value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (out.records.length === 0) return fail("Give at least one value.", values);
    }
    const p = isApexCore ? "simple" : policy.value;
    if (p !== "simple") {
      if (!setId.value.trim()) return fail("This routing policy needs a set identifier.", setId);
      out.set_identifier = setId.value.trim();
    }
    switch (p) {
      case "weighted": out.weight = Number(weight.value); break;
      case "latency": out.region = region.value; break;
      case "geolocation":
        if (continent.value) out.geolocation = { continent_code: continent.value };
        else {
          if (!country.value.trim()) return fail("Choose a continent or give a country code.", country);
          out.geolocation = { country_code: country.value.trim().toUpperCase() };
          if (subdivision.value.trim()) out.geolocation.subdivision_code = subdivision.value.trim().toUpperCase();
        }
        break;
      case "failover": out.failover = failover.value; break;
      case "multivalue": out.multivalue_answer = true; break;
      case "cidr":
        if (!cidrColl.value) return fail("Choose a CIDR collection.", cidrColl);
        out.cidr_routing = { collection_id: cidrColl.value, location_name: cidrLoc.value.trim() || "*" };
        break;
    }
    if (hc.value) out.health_check_id = hc.value;
    return out;
  }

  const form = h("form", {
    class: "panel editor", "aria-label": isNew ? "New record set" : `Edit ${rs.name} ${rs.type}`,
    onsubmit: (e) => {
      e.preventDefault();
      const out = build();
      if (out) onSave(out);
    },
    onkeydown: (e) => { if (e.key === "Escape") { e.preventDefault(); onCancel(); } },
  },
  h("h3", null, isNew ? "New record set" : `Edit ${rs.name} ${rs.type}`),
  h("div", { class: "grid2" },
    field(`Name (relative to ${zone}, @ for the apex)`, name),
    field("Type", type)),
  h("div", { class: "field check" }, alias, h("label", { for: alias.id = id() }, "Alias to another record set (no TTL or values)")),
  valuesBox, aliasBox,
  h("div", { class: "grid2" }, field("Routing policy", policy), field("Health check", hc)),
  policyArea,
  problem,
  h("div", { class: "actions" },
    h("button", { type: "submit", class: "primary" }, isNew ? "Add to change batch" : "Stage this edit"),
    h("button", { type: "button", onclick: onCancel }, "Cancel")));
  queueMicrotask(() => (isApexCore ? ttl : name).focus());
  return form;
}

/** healthCheckLabel names a health check for a menu. */
export function healthCheckLabel(c) {
  const cfg = c.config;
  const target = cfg.type === "CALCULATED" ? `${(cfg.child_health_checks || []).length} children` :
    `${cfg.ip_address || cfg.fqdn}${cfg.port ? ":" + cfg.port : ""}${cfg.resource_path || ""}`;
  return `${cfg.type} ${target} (${c.caller_reference})`;
}
