// Open Sesame service worker (version {{ version }}).
// Keeps the app's shell (the page, its code, styles and icons) so that it opens
// without a network. API answers are never cached here: the app keeps the last score
// it saw itself, and says how old it is.
const CACHE = "open-sesame-shell-{{ version }}";
const SHELL_URL = "{{ shell_url|escapejs }}";
const PRECACHE = {{ precache|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("open-sesame-shell-") && key !== CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  // The page itself: the kept copy at once (no waiting for a slow or absent network),
  // refreshed from the network for next time. The first visit, with nothing kept, waits
  // for the network.
  if (request.mode === "navigate" && url.pathname === SHELL_URL) {
    let stored = Promise.resolve();
    const fresh = fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        stored = caches.open(CACHE).then((cache) => cache.put(SHELL_URL, copy));
      }
      return response;
    });
    event.waitUntil(fresh.then(() => stored).catch(() => undefined));
    event.respondWith(caches.match(SHELL_URL).then((kept) => kept || fresh));
    return;
  }

  // The shell's own files: kept ones first; this version's list names them all.
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
