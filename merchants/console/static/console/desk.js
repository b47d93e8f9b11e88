// The front desk: scan the guest's QR code with the tablet's camera, where the browser
// offers BarcodeDetector; the code is then in the form, as if typed. The app's QR code
// says "opensesame:consent?code=XXXXXXXX&scope=deposit_waiver" (merchants.services
// code_qr_payload). The messages come from the page (data-* attributes, translated).
// After htmx swaps the form in again, the decision's heading takes the focus.
(function () {
  "use strict";

  const SCHEME = "opensesame:consent?";
  let stream = null;
  let timer = null;

  function parsePayload(text) {
    const value = String(text || "").trim();
    if (!value.startsWith(SCHEME)) return null;
    const params = new URLSearchParams(value.slice(SCHEME.length));
    return { code: params.get("code") || "", scope: params.get("scope") || "" };
  }

  function parts() {
    const button = document.querySelector(".scan-start");
    if (!button) return null;
    const form = button.closest("form");
    return {
      button,
      form,
      input: form.querySelector(".code-input"),
      scanner: form.querySelector(".scanner"),
      video: form.querySelector(".scanner-video"),
      status: form.querySelector(".scan-status"),
    };
  }

  function say(message) {
    const p = parts();
    if (p && p.status) p.status.textContent = message;
  }

  function stop() {
    if (timer) window.clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    const p = parts();
    if (p) {
      p.scanner.hidden = true;
      p.video.srcObject = null;
    }
  }

  async function start() {
    const p = parts();
    if (!p) return;
    try {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
      p.scanner.hidden = false;
      p.video.srcObject = stream;
      await p.video.play();
      const look = async () => {
        if (!stream) return;
        let found = [];
        try {
          found = await detector.detect(p.video);
        } catch {
          found = [];
        }
        for (const barcode of found) {
          const payload = parsePayload(barcode.rawValue);
          if (!payload) {
            say(p.button.dataset.notOurs);
            continue;
          }
          if (payload.scope !== "deposit_waiver") {
            say(p.button.dataset.wrongScope);
            continue;
          }
          p.input.value = payload.code;
          stop();
          say(p.button.dataset.found);
          const next = p.form.querySelector("input[name=deposit]");
          (next || p.input).focus();
          return;
        }
        timer = window.setTimeout(look, 250);
      };
      look();
    } catch {
      stop();
      say(p.button.dataset.noCamera);
    }
  }

  function offer() {
    const p = parts();
    const can =
      "BarcodeDetector" in window &&
      navigator.mediaDevices &&
      typeof navigator.mediaDevices.getUserMedia === "function";
    if (p && can) p.button.hidden = false;
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest(".scan-start")) start();
    else if (event.target.closest(".scan-stop")) stop();
  });
  document.addEventListener("DOMContentLoaded", offer);
  document.addEventListener("htmx:beforeSwap", stop);
  document.addEventListener("htmx:afterSwap", (event) => {
    offer();
    if (event.detail && event.detail.target && event.detail.target.id === "check-in-area") {
      const area = document.getElementById("check-in-area");
      const target =
        document.getElementById("decision-heading") ||
        (area && area.querySelector("[aria-invalid=true], .notice, input"));
      if (target) target.focus();
    }
  });
})();
