// Every call to the gateway: bearer token, JSON, an Idempotency-Key on every POST, the api.md error
// body turned into an ApiError. Calls that may wait offline go through the outbox (outbox.js).
import * as session from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_" + status;
    this.details = error.details || {};
  }
}

// The network could not be reached (offline, Wi-Fi drop, gateway restarting).
export class NetworkError extends Error {}

export function newKey() {
  return crypto.randomUUID();
}

export async function request(method, path, { body, key, headers = {}, raw = false } = {}) {
  const all = { Accept: "application/json", ...headers };
  const tok = session.token();
  if (tok) all.Authorization = "Bearer " + tok;
  if (body !== undefined) all["Content-Type"] = "application/json";
  if (method === "POST") all["Idempotency-Key"] = key || newKey();
  let response;
  try {
    response = await fetch(path, {
      method, headers: all, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch (err) {
    throw new NetworkError(String(err));
  }
  if (raw) return response;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    // A gateway that cannot reach a service is the network's fault for the outbox: retry later.
    if ([502, 503, 504].includes(response.status) && !(data && data.error)) throw new NetworkError("HTTP " + response.status);
    throw new ApiError(response.status, data);
  }
  return { status: response.status, data, replayed: response.headers.get("Idempotent-Replayed") === "true" };
}

export const get = (path) => request("GET", path).then((r) => r.data);
export const post = (path, body = {}, key) => request("POST", path, { body, key }).then((r) => r.data);
export const patch = (path, body) => request("PATCH", path, { body }).then((r) => r.data);

export function query(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
