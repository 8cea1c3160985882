// The handheld shell: login, menu, the scan field, feedback, the outbox counter and the language.
// Each scenario is a state table (flows/*.js); the server's answers, and their next_state when
// present, choose the next state.
import * as api from "./api.js";
import * as outbox from "./outbox.js";
import * as session from "./session.js";
import { alarm, alarmOpen, clearMessage, signal, unlockAudio } from "./feedback.js";
import { Scanner } from "./scanner.js";
import { applyStatic, getLang, setLang, t } from "./i18n.js";
import { openCamera } from "./camera.js";
import login from "./flows/login.js";
import menu from "./flows/menu.js";
import pick from "./flows/pick.js";
import verify from "./flows/verify.js";
import putaway from "./flows/putaway.js";
import count from "./flows/count.js";
import lookup from "./flows/lookup.js";
import print from "./flows/print.js";

export const FLOWS = { login, menu, pick, verify, putaway, count, lookup, print };

const screen = document.getElementById("screen");
const field = document.getElementById("scan");

class Runner {
  constructor() {
    this.flow = null;
    this.state = null;
    this.data = {};
    this.queue = Promise.resolve();
  }

  get step() {
    return this.flow.states[this.state];
  }

  open(name, data = {}) {
    // A new task is a new intent: the same code scanned right after is not a double read.
    scanner.forget();
    this.flow = FLOWS[name];
    this.data = data;
    clearMessage();
    this.go(this.flow.start);
  }

  // Move to a state of the current flow (an unknown name is a bug in a table: stay and say so).
  go(state) {
    if (!this.flow.states[state]) throw new Error(`no state ${state} in ${this.flow.name}`);
    this.state = state;
    this.render();
  }

  // The server's answer chooses the next state: its next_state when this flow knows it, else the
  // transition the table gives for the answer's result, else stay.
  follow(answer, transitions = {}) {
    const next = answer && answer.next_state;
    if (next && this.flow.states[next]) return this.go(next);
    const target = answer && transitions[answer.result];
    if (target) return this.go(target);
    this.render();
  }

  render() {
    const step = this.step;
    document.body.dataset.flow = this.flow.name;
    document.body.dataset.state = this.state;
    scanner.expectsQuantity = () => Boolean(step.quantity);
    field.setAttribute("aria-label", t(step.prompt || "scan_field"));
    field.placeholder = step.prompt ? t(step.prompt) : "";
    const body = step.view(this);
    screen.replaceChildren(...[body].flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
    document.getElementById("home").hidden = ["login", "menu"].includes(this.flow.name);
    updateWho();
    applyStatic(document);
    if (!alarmOpen()) scanner.focus();
  }

  // Scans are handled one at a time, in the order they were read: a fast second scan waits for the
  // answer to the first, which may change the state it belongs to.
  scan(scan) {
    if (alarmOpen()) return signal("error", t("ack_alarm_first"));
    this.queue = this.queue.then(() => this.handle(scan));
    return this.queue;
  }

  async handle(scan) {
    if (alarmOpen()) {
      signal("error", t("ack_alarm_first"));
      return;
    }
    const step = this.step;
    if (!step.scan) {
      signal("warn", t("no_scan_here"));
      return;
    }
    try {
      await step.scan(this, scan);
    } catch (err) {
      this.fail(err);
    } finally {
      if (!alarmOpen()) scanner.focus();
    }
  }

  // Run a button's action with the same error handling as a scan.
  async act(fn) {
    try {
      await fn();
    } catch (err) {
      this.fail(err);
    } finally {
      if (!alarmOpen()) scanner.focus({ force: true });
    }
  }

  fail(err) {
    if (err instanceof api.ApiError && err.status === 401 && this.flow.name !== "login") {
      session.clear();
      this.open("login");
      signal("error", t("session_expired"));
      return;
    }
    if (err instanceof api.NetworkError) signal("error", t("offline"));
    else if (err instanceof api.ApiError) signal("error", err.message || err.code);
    else {
      signal("error", String(err.message || err));
      console.error(err);
    }
  }

  // A blocking alarm: nothing else happens until the operator acknowledges it.
  alarm(title, text) {
    return alarm(title, text, t("acknowledge"));
  }

  // A POST that may wait in the outbox when the network is down.
  send(path, body, meta) {
    return outbox.send(path, body, { flow: this.flow.name, ...meta });
  }
}

export const runner = new Runner();
const scanner = new Scanner({
  field,
  onScan: (scan) => runner.scan(scan),
  onRepeat: () => signal("warn", t("double_read")),
});

function updateWho() {
  const op = session.operator();
  document.getElementById("who").textContent = op ? `${op.name} · ${op.badge}` : "";
}

function showWaiting(n) {
  const el = document.getElementById("outbox-count");
  el.dataset.count = String(n);
  el.hidden = n === 0;
  el.textContent = t("waiting_count", { n });
}

outbox.onChange((event) => {
  showWaiting(event.waiting);
  if (event.type === "replayed") {
    if (event.ok) signal("ok", t("replayed"));
    else signal("error", t("replay_refused", { message: event.error.message }));
    if (runner.flow && runner.flow.resync) runner.act(() => runner.flow.resync(runner));
  }
});

document.getElementById("lang").addEventListener("click", () => runner.act(async () => {
  const lang = getLang() === "en" ? "zh-CN" : "en";
  setLang(lang);
  if (session.token()) {
    await api.patch("/api/auth/me", { lang });
    session.updateOperator({ lang });
  }
  outbox.count().then(showWaiting);
  runner.render();
}));
document.getElementById("home").addEventListener("click", () => runner.open("menu"));
document.getElementById("keyboard").addEventListener("click", () => {
  // The scan field normally keeps the soft keyboard closed; this opens it for typing a code.
  field.setAttribute("inputmode", field.getAttribute("inputmode") === "none" ? "text" : "none");
  scanner.focus({ force: true });
});
document.getElementById("camera").addEventListener("click", () => openCamera((code) => scanner.deliver(code, "camera")));
// Any tap may unlock audio (the login tap always does); a tap elsewhere must not lose the scan field.
document.addEventListener("pointerdown", unlockAudio, true);
document.addEventListener("click", (event) => {
  if (!event.target.closest("input, select, textarea")) setTimeout(() => { if (!alarmOpen()) scanner.focus(); }, 0);
});
window.addEventListener("error", (event) => console.error(event.error));

export function start() {
  const op = session.operator();
  setLang(op ? op.lang : getLang());
  outbox.start();
  outbox.count().then(showWaiting);
  runner.open(session.token() ? "menu" : "login");
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

start();
