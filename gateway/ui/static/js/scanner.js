// Keyboard-wedge scanner input. A scanner "types" the code in a burst (keys 1-20 ms apart) and
// presses Enter; a person types 80+ ms apart. The listener sits on document in the capture phase,
// so a scan is caught wherever the focus is, and a burst that landed in another field (a quantity)
// is taken back out of it.

export const GS = "\u001d";
// AIM symbology identifiers some scanners put before the data: "]" + code letter + modifier.
const AIM = /^\]([A-Za-z])([0-9A-Za-z])/;
const GS1_SYMBOLOGIES = new Set(["C1", "d2", "Q3", "e0"]);

// Strip the AIM prefix and keep what it says: a GS1 element string is told from a plain digit string
// only by its symbology. The GS separator between variable-length GS1 fields is kept.
export function parseScan(raw) {
  let code = raw.replace(/[\r\n]+$/, "");
  let symbology = null;
  const m = code.match(AIM);
  if (m) {
    symbology = m[1] + m[2];
    code = code.slice(3);
  }
  return { code, symbology, gs1: symbology !== null && GS1_SYMBOLOGIES.has(symbology) };
}

const EDITABLE = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.isContentEditable);

export class Scanner {
  constructor({ field, onScan, onRepeat, burstGapMs = 100, pauseMs = 500, minLength = 3, repeatWindowMs = 800 }) {
    this.field = field;
    this.onScan = onScan;
    this.onRepeat = onRepeat || (() => {});
    this.burstGapMs = burstGapMs;
    this.minLength = minLength;
    this.repeatWindowMs = repeatWindowMs;
    // A pause this long ends whatever was being typed or scanned.
    this.pauseMs = pauseMs;
    this.expectsQuantity = () => false;
    this.enabled = true;
    this.buffer = [];
    this.last = { code: null, at: 0 };
    this.onKey = this.onKey.bind(this);
    document.addEventListener("keydown", this.onKey, true);
  }

  // Focus the scan field unless the operator is typing in another field of the screen.
  focus({ force = false } = {}) {
    const active = document.activeElement;
    if (!force && EDITABLE(active) && active !== this.field && active.dataset.keepFocus !== undefined) return;
    this.field.focus({ preventScroll: true });
  }

  // Where the scanner's burst begins in the keys buffered since the last pause: walk back from the
  // Enter through scanner-fast gaps. A slow gap is a stall of a busy handheld when a fast gap comes
  // within the two gaps before it: a busy handheld may stall twice running. Three slow gaps in a row
  // are a person's typing, which ends the burst.
  burstStart() {
    const at = this.buffer.map((k) => k.at);
    const fast = (i) => i > 0 && at[i] - at[i - 1] <= this.burstGapMs;
    let i = at.length - 1;
    while (i > 0 && (fast(i) || fast(i - 1) || fast(i - 2))) i -= 1;
    return i;
  }

  onKey(event) {
    const now = performance.now();
    const target = event.target;
    if (event.key === "Enter" || event.key === "Tab") {
      const last = this.buffer[this.buffer.length - 1];
      const keys = this.buffer.slice(this.burstStart());
      const burst = keys.length >= this.minLength && now - last.at <= this.pauseMs;
      const first = keys[0];
      // In the scan field everything typed since the last Enter is the code, even keys a stall split off.
      const text = burst && first.target === this.field ? this.field.value.trim() : keys.map((k) => k.ch).join("");
      this.buffer = [];
      if (burst) {
        event.preventDefault();
        event.stopPropagation();
        // The burst typed itself into whichever field had the focus: give that field its value back.
        if (first && first.target !== this.field && EDITABLE(first.target)) first.target.value = first.before;
        this.field.value = "";
        this.deliver(text, "scanner", first.at);
      } else if (event.key === "Enter" && target === this.field) {
        // Typed by hand into the scan field (a label too damaged to read).
        event.preventDefault();
        const typed = this.field.value;
        this.field.value = "";
        if (typed.trim()) this.deliver(typed.trim(), "manual", now);
      }
      return;
    }
    if (event.key.length !== 1 || event.ctrlKey || event.altKey || event.metaKey) return;
    const gap = this.buffer.length ? now - this.buffer[this.buffer.length - 1].at : 0;
    if (gap > this.pauseMs) this.buffer = [];
    this.buffer.push({ ch: event.key, at: now, target, before: EDITABLE(target) ? target.value : "" });
    // Keys that land on no field (a button had the focus) would be lost: keep them out of buttons.
    if (!EDITABLE(target)) event.preventDefault();
  }

  // startedAt: when the read began (its first key), so the window measures the pause between two
  // reads, not how long the second one took to type.
  deliver(raw, source, startedAt = performance.now()) {
    const scan = { ...parseScan(raw), raw, source };
    if (!this.enabled || !scan.code) return;
    const repeat = scan.code === this.last.code && startedAt - this.last.at < this.repeatWindowMs;
    this.last = { code: scan.code, at: performance.now() };
    if (repeat && source === "scanner" && !this.expectsQuantity()) {
      this.onRepeat(scan);
      return;
    }
    this.onScan(scan);
  }

  forget() {
    this.last = { code: null, at: 0 };
  }

  stop() {
    document.removeEventListener("keydown", this.onKey, true);
  }
}
