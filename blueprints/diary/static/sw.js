/* The diary's service worker (issue #14, item 8): rural links drop, so the diary pages a
   family has opened stay readable offline. Pages: network first, the last copy when the
   network fails. Static files (their URLs carry a content hash): the cache first.
   Nothing but GET requests of this origin; a sign-out clears it all (Clear-Site-Data). */
const CACHE = "tabel-diary-1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function keep(request, response) {
  // A redirect (a session that ended lands on the sign-in page) or an error is not kept.
  if (response.ok && !response.redirected && response.type === "basic") {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/diary")) {
    event.respondWith(fetch(request).then((response) => keep(request, response))
      .catch(() => caches.match(request).then((hit) => hit || Response.error())));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => keep(request, response))));
  }
});
