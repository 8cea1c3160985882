// Camera fallback for a handheld whose scanner is broken: the native BarcodeDetector where the
// browser has it, else the ZXing WebAssembly polyfill served from this origin (never a CDN).
import { signal } from "./feedback.js";
import { t } from "./i18n.js";

const WASM = "/ui/vendor/zxing_reader.wasm";
const FORMATS = ["ean_13", "ean_8", "upc_a", "code_128", "code_39", "qr_code", "data_matrix", "itf"];
let stream = null;

// The ponyfill build: it leaves window.BarcodeDetector alone, so a native one is never shadowed.
function loadPolyfill() {
  if (window.BarcodeDetectionAPI) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "/ui/vendor/barcode-detector-ponyfill.js";
    s.onload = resolve;
    s.onerror = reject;
    document.head.append(s);
  });
}

export async function detector() {
  if ("BarcodeDetector" in window) {
    try {
      const supported = await window.BarcodeDetector.getSupportedFormats();
      if (supported.length) return new window.BarcodeDetector({ formats: FORMATS.filter((f) => supported.includes(f)) });
    } catch { /* the native one without Play services: fall through to the polyfill */ }
  }
  await loadPolyfill();
  const lib = window.BarcodeDetectionAPI;
  lib.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM : prefix + path) },
  });
  return new lib.BarcodeDetector({ formats: FORMATS });
}

export function closeCamera() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  document.getElementById("camera-view").hidden = true;
}

export async function openCamera(onCode) {
  const view = document.getElementById("camera-view");
  const video = document.getElementById("camera-video");
  document.getElementById("camera-close").onclick = closeCamera;
  try {
    const found = await detector();
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    view.hidden = false;
    await video.play();
    const tick = async () => {
      if (!stream) return;
      const codes = await found.detect(video).catch(() => []);
      if (codes.length) {
        closeCamera();
        onCode(codes[0].rawValue);
        return;
      }
      setTimeout(tick, 200);
    };
    tick();
  } catch (err) {
    closeCamera();
    console.warn("camera fallback failed", err);
    signal("error", t("camera_failed"));
  }
}
