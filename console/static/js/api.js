// The console's only way to the server: fetch on the /v1 JSON API with the
// tenant's API key as a Bearer token. The key lives in sessionStorage (gone
// when the tab closes) and never in a URL.

const KEY = "waymark.apiKey";

/** ApiError is a failed request: the API's error code, message, details. */
export class ApiError extends Error {
  constructor(status, code, message, details, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
    this.requestId = requestId;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(k) {
  if (k) sessionStorage.setItem(KEY, k);
  else sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};
/** whenUnauthorized sets what happens on a 401 (the key was revoked). */
export function whenUnauthorized(f) {
  onUnauthorized = f;
}

/**
 * call sends one request. opts: body (JSON), text (a raw body) with
 * contentType, query (an object; empty values dropped), accept "text" for
 * a text response, key (a key to try instead of the stored one), signal.
 */
export async function call(method, path, opts = {}) {
  const headers = { Accept: opts.accept === "text" ? "text/dns, application/json" : "application/json" };
  const key = opts.key || apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  } else if (opts.text !== undefined) {
    headers["Content-Type"] = opts.contentType || "text/dns";
    body = opts.text;
  }
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += "?" + s;
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body, signal: opts.signal, credentials: "omit", cache: "no-store" });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "NetworkError", `The API cannot be reached (${e.message}).`);
  }
  const requestId = res.headers.get("X-Request-Id") || "";
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  if (!res.ok) {
    let code = "HTTP" + res.status, message = res.statusText, details = [];
    if (type.includes("json")) {
      const j = await res.json().catch(() => null);
      if (j && j.error) ({ code, message, details } = j.error);
    }
    const err = new ApiError(res.status, code, message, details, requestId);
    if (res.status === 401 && !opts.key) onUnauthorized(err);
    throw err;
  }
  if (opts.accept === "text" || !type.includes("json")) return res.text();
  return res.json();
}

export const get = (path, query, opts) => call("GET", path, { ...opts, query });
export const post = (path, body, opts) => call("POST", path, { ...opts, body });
export const patch = (path, body, opts) => call("PATCH", path, { ...opts, body });
export const del = (path, opts) => call("DELETE", path, opts);
export const enc = encodeURIComponent;
