// A new version of the app, deployed while this page is open: the service worker installs
// it beside the running one and it waits; this page is told, shows "Updated — reload",
// and the reload lets it take over (the new code against the new API).

const CHECK_EVERY_MS = 30 * 60 * 1000;

/** Call `onReady()` once a new version is installed and waiting for this page. */
export function watchForUpdates(registration, onReady) {
  const container = navigator.serviceWorker;
  let told = false;
  const tell = () => {
    // The first worker of this phone is no update: there was no old version.
    if (told || !container.controller || !registration.waiting) return;
    told = true;
    onReady();
  };
  const follow = (worker) => {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") tell();
    });
  };
  tell();
  follow(registration.installing);
  registration.addEventListener("updatefound", () => follow(registration.installing));
  // Look for a new version now and then, and whenever the app comes back to the front.
  const check = () => registration.update().catch(() => undefined);
  setInterval(check, CHECK_EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
}

/** Let the waiting version take over, then load the page again under it. */
export function applyUpdate(registration) {
  const container = navigator.serviceWorker;
  let reloaded = false;
  container.addEventListener("controllerchange", () => {
    if (reloaded) return;
    reloaded = true;
    window.location.reload();
  });
  if (registration.waiting) registration.waiting.postMessage({ type: "skip-waiting" });
  else window.location.reload();
}
