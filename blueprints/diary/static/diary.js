/* The diary offline (issue #14, item 8): registers the service worker, keeps the page the
   family is reading, and says so when the page shown is the kept copy. */
(function () {
  const notice = document.getElementById("diary-offline");
  function show() { if (notice) notice.hidden = navigator.onLine; }
  window.addEventListener("online", show);
  window.addEventListener("offline", show);
  show();
  if (!("serviceWorker" in navigator) || !notice) return;
  navigator.serviceWorker.register(notice.dataset.worker, { scope: notice.dataset.scope }).then(() => navigator.serviceWorker.ready)
    .then(() => {
      // The page that registered the worker was loaded before the worker ran: keep it now,
      // with its files (later pages pass through the worker, which keeps them itself).
      const files = Array.from(document.querySelectorAll("link[rel=stylesheet][href^='/static/'], script[src^='/static/']"),
        (node) => node.getAttribute("href") || node.getAttribute("src"));
      return caches.open(notice.dataset.cache).then((cache) => Promise.all([location.href, ...files].map(
        (url) => cache.match(url).then((hit) => hit || cache.add(url)))));
    })
    .then(() => document.documentElement.setAttribute("data-offline-ready", "1"))
    .catch(() => {});
})();
