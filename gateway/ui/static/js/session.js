// Who is logged in on this device. The bearer token lives in sessionStorage (no cookie is ever
// used, so no request can be forged from another site); the device id and language survive reloads.
const TOKEN = "wms.token";
const OPERATOR = "wms.operator";
const DEVICE = "wms.device";

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function operator() {
  const raw = sessionStorage.getItem(OPERATOR);
  return raw ? JSON.parse(raw) : null;
}

export function save(newToken, newOperator) {
  sessionStorage.setItem(TOKEN, newToken);
  sessionStorage.setItem(OPERATOR, JSON.stringify(newOperator));
}

export function updateOperator(changes) {
  const current = operator();
  if (current) sessionStorage.setItem(OPERATOR, JSON.stringify({ ...current, ...changes }));
}

export function clear() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(OPERATOR);
}

export function device() {
  let id = localStorage.getItem(DEVICE);
  if (!id) {
    id = "HH-" + crypto.randomUUID().slice(0, 6).toUpperCase();
    localStorage.setItem(DEVICE, id);
  }
  return id;
}

export function hasRole(...roles) {
  const op = operator();
  if (!op) return false;
  return op.roles.includes("admin") || roles.some((r) => op.roles.includes(r));
}
