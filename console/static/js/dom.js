// A tiny hyperscript helper: h("button", {class: "x", onclick: f}, "text").
// Views build real DOM nodes with it and replace their container's
// children to re-render; there is no virtual DOM and no template strings
// parsed as HTML, so nothing the API returns can become markup.

const BOOLEAN = new Set(["disabled", "checked", "selected", "required", "hidden", "readonly", "multiple", "open"]);

/**
 * h creates an element. attrs keys: "class", "for", "text", on<event>
 * (a listener), "dataset" (an object), "style" (an object, set through
 * CSSOM, which the Content-Security-Policy allows), booleans by name, and
 * any other attribute. Children may be nodes, strings, numbers, arrays,
 * or null/false/undefined (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || (v === false && !BOOLEAN.has(k))) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === "class") {
        el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
      } else if (k === "for") {
        el.htmlFor = v;
      } else if (k === "text") {
        el.textContent = v;
      } else if (k === "dataset") {
        Object.assign(el.dataset, v);
      } else if (k === "style") {
        for (const [p, pv] of Object.entries(v)) el.style.setProperty(p, pv);
      } else if (k === "value" && ("value" in el)) {
        el.value = v;
      } else if (BOOLEAN.has(k)) {
        el[k] = Boolean(v);
        if (v) el.setAttribute(k, ""); else el.removeAttribute(k);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** mount replaces el's children with children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** id returns a document-unique id for label/control pairs. */
export function id(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** field is a labelled control: a label and the control, in one block. */
export function field(label, control, hint) {
  if (!control.id) control.id = id();
  let hintEl = null;
  if (hint) {
    hintEl = h("small", { class: "hint", id: control.id + "-hint" }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/** select builds a <select> of [value, label] pairs (or plain strings). */
export function select(attrs, options, selected) {
  return h("select", attrs, options.map((o) => {
    const [v, l] = Array.isArray(o) ? o : [o, o];
    return h("option", { value: v, selected: v === selected }, l);
  }));
}

/** time formats an RFC 3339 time for people, in their locale. */
export function time(s) {
  if (!s) return "";
  const d = new Date(s);
  return h("time", { datetime: s, title: s }, d.toLocaleString());
}

/** title sets the document's title for the view shown. */
export function title(s) {
  document.title = s ? `${s} · Waymark console` : "Waymark console";
}

/** announce tells screen readers about something that happened. */
export function announce(msg) {
  const live = document.getElementById("live");
  if (live) live.textContent = msg;
}

/** errorBox shows an API error: its code, message and details. */
export function errorBox(err) {
  if (!err) return null;
  const details = (err.details || []).filter((d) => d.message && d.line === undefined);
  return h("div", { class: "error-box", role: "alert" },
    h("strong", null, err.code ? `${err.code}: ` : "Error: "), err.message || String(err),
    details.length ? h("ul", null, details.map((d) => h("li", null,
      d.index !== undefined ? `change ${d.index + 1}: ` : "", d.field ? `${d.field}: ` : "", d.message))) : null,
    err.requestId ? h("div", { class: "muted" }, `request id ${err.requestId}`) : null);
}
