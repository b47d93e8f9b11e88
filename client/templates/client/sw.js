// Open Sesame service worker (version {{ version }}).
// Keeps the app's shell (the page, its code, styles and icons) so that it opens
// without a network. API answers are never cached here: the app keeps the last score
// it saw itself, and says how old it is.
//
// Updates: the first worker takes over at once. A later version installs beside the one
// running and waits: the open pages are told a new version is ready ("Updated — reload"),
// and it takes over when one of them asks (the reload) or when no page of the old version
// is left. The previous version's cache is kept until the next activation after that, so
// a page of the old version still open elsewhere keeps finding its files.
const PREFIX = "open-sesame-shell-";
const CACHE = "open-sesame-shell-{{ version }}";
const META = "open-sesame-meta";
const SHELL_URL = "{{ shell_url|escapejs }}";
const PRECACHE = {{ precache|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => {
        // Nothing to replace (the first install): take over at once.
        if (!self.registration.active) return self.skipWaiting();
        return undefined;
      }),
  );
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
});

/** The cache of the version this one replaces: kept for this activation. */
async function previousCache() {
  const meta = await caches.open(META);
  const answer = await meta.match("current");
  const previous = answer ? await answer.text() : null;
  await meta.put("current", new Response(CACHE));
  return previous;
}

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const previous = await previousCache();
      const keys = await caches.keys();
      await Promise.all(
        keys
          .filter((key) => key.startsWith(PREFIX) && key !== CACHE && key !== previous)
          .map((key) => caches.delete(key)),
      );
      await self.clients.claim();
    })(),
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
    event.respondWith(
      caches
        .open(CACHE)
        .then((cache) => cache.match(SHELL_URL))
        .then((kept) => kept || fresh),
    );
    return;
  }

  // The shell's own files: this version's kept ones first, then the previous version's
  // (a page of that version may still be open), then the network.
  if (PRECACHE.includes(url.pathname) || url.pathname.startsWith("{{ static_prefix|escapejs }}")) {
    event.respondWith(
      caches
        .open(CACHE)
        .then((cache) => cache.match(url.pathname))
        .then((hit) => hit || caches.match(url.pathname))
        .then((hit) => hit || fetch(request)),
    );
  }
});
