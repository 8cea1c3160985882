// Keeps the app shell available when the Wi-Fi drops: shell files are fetched from the network
// first (so a new release arrives at once) and fall back to the cached copy offline. API calls are
// never cached: scans that cannot be sent wait in the page's outbox instead.
const CACHE = "wms-shell-v1";
const SHELL = [
  "/", "/supervisor", "/manifest.webmanifest", "/ui/css/handheld.css", "/ui/css/supervisor.css",
  "/ui/js/app.js", "/ui/js/api.js", "/ui/js/outbox.js", "/ui/js/session.js", "/ui/js/scanner.js",
  "/ui/js/feedback.js", "/ui/js/dom.js", "/ui/js/i18n.js", "/ui/js/camera.js", "/ui/js/supervisor.js",
  "/ui/js/flows/login.js", "/ui/js/flows/menu.js", "/ui/js/flows/pick.js", "/ui/js/flows/verify.js",
  "/ui/js/flows/putaway.js", "/ui/js/flows/count.js", "/ui/js/flows/lookup.js", "/ui/js/flows/print.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/healthz" || url.pathname === "/metrics") return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((c) => c.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true })));
});
