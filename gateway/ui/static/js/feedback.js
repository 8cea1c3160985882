// Feedback for every scan, loud enough for a noisy floor: a full-screen colour flash, a large text
// line, a distinct sound, a vibration, and the same words in an aria-live region.

let audio = null;

// Browsers keep audio locked until a user gesture: the login tap unlocks it.
export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume();
}

const SOUNDS = {
  ok: [{ f: 1760, d: 0.09, type: "square" }],
  warn: [{ f: 660, d: 0.14, type: "triangle" }, { f: 660, d: 0.14, type: "triangle", at: 0.22 }],
  error: [{ f: 170, d: 0.75, type: "sawtooth" }],
};
const VIBRATIONS = { ok: [40], warn: [120, 80, 120], error: [350, 100, 350] };
const FLASH_MS = { ok: 450, warn: 900, error: 1400 };

function play(kind) {
  if (!audio || audio.state !== "running") return;
  const t0 = audio.currentTime;
  for (const s of SOUNDS[kind]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = s.type;
    osc.frequency.value = s.f;
    gain.gain.value = 0.35;
    osc.connect(gain).connect(audio.destination);
    osc.start(t0 + (s.at || 0));
    osc.stop(t0 + (s.at || 0) + s.d);
  }
}

let flashTimer = null;

// kind: "ok" | "warn" | "error". The last message stays on screen; the flash fades.
export function signal(kind, text) {
  const flash = document.getElementById("flash");
  const message = document.getElementById("message");
  const live = document.getElementById(kind === "error" ? "live-assertive" : "live-polite");
  flash.dataset.kind = kind;
  flash.textContent = text;
  flash.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { flash.hidden = true; }, FLASH_MS[kind]);
  message.dataset.kind = kind;
  message.textContent = text;
  live.textContent = "";
  live.textContent = text;
  document.body.dataset.feedback = kind;
  play(kind);
  if (navigator.vibrate) navigator.vibrate(VIBRATIONS[kind]);
}

export function clearMessage() {
  const message = document.getElementById("message");
  message.textContent = "";
  delete message.dataset.kind;
}

// A blocking alarm (intercepted parcel, unpaid order): covers everything until acknowledged.
export function alarm(title, text, ackLabel) {
  const box = document.getElementById("alarm");
  box.querySelector("#alarm-title").textContent = title;
  box.querySelector("#alarm-text").textContent = text;
  const button = box.querySelector("#alarm-ack");
  button.textContent = ackLabel;
  box.hidden = false;
  document.body.dataset.alarm = "open";
  play("error");
  if (navigator.vibrate) navigator.vibrate([600, 150, 600, 150, 600]);
  const repeat = setInterval(() => play("error"), 2500);
  button.focus();
  return new Promise((resolve) => {
    button.addEventListener("click", () => {
      clearInterval(repeat);
      box.hidden = true;
      delete document.body.dataset.alarm;
      resolve();
    }, { once: true });
  });
}

export function alarmOpen() {
  return !document.getElementById("alarm").hidden;
}
