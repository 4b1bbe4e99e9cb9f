// The verifier's service worker: keeps the page, its scripts, zxing-cpp's WebAssembly reader, the curve
// library and the trust list, so that a loaded verifier works with the network cut. The page and the trust
// list are fetched fresh when the network is there (and kept); scripts come from the cache first.
const VERSION = "__VERSION__";
const FILES = __FILES__;
const CACHE = `mrtd-verifier-${VERSION}`;
const FRESH = new Set(["/verify/", "/verify/trust.json"]);

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(["/verify/", ...FILES])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("mrtd-verifier-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (answer.ok) await cache.put(key, answer.clone());
    return answer;
  } catch (error) {
    const kept = await cache.match(key, { ignoreSearch: true });
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request, { ignoreSearch: true });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return; // POSTs go to the office
  if (FRESH.has(url.pathname)) event.respondWith(networkFirst(event.request, url.pathname));
  else if (url.pathname.startsWith("/static/")) event.respondWith(cacheFirst(event.request));
});
