// Verify: scan the waybill, read the buyer's requests first, then scan every item. A wrong item
// shows a red row and changes no count; the right one turns its row green. An intercepted or
// unpaid parcel raises a blocking alarm.
import * as api from "../api.js";
import { h, button } from "../dom.js";
import { signal } from "../feedback.js";
import { t } from "../i18n.js";

const BLOCKING = new Set(["order_intercepted", "order_unpaid"]);

async function scanWaybill(ctx, scan) {
  let r;
  try {
    r = await api.request("POST", "/api/scan/verifications", { body: { waybill: scan.code } });
  } catch (err) {
    if (err instanceof api.ApiError && BLOCKING.has(err.code)) {
      ctx.data = {};
      ctx.go("scan_waybill");
      signal("error", err.message);
      // Not awaited: the scan queue must go on so that scans made under the alarm buzz at once.
      ctx.alarm(t(`verify.alarm.${err.code}`), `${scan.code} · ${err.message}`);
      return;
    }
    throw err;
  }
  ctx.data = { v: r.data, wrong: null, last: null };
  signal("ok", t("verify.waybill_ok", { waybill: r.data.waybill }));
  ctx.follow(r.data, {});
  if (ctx.state === "scan_waybill") ctx.go(r.data.notes.length || r.data.alerts.length ? "read_notes" : "scan_item");
}

function linesTable(ctx) {
  const { v, wrong, last } = ctx.data;
  const rows = [];
  if (wrong) {
    rows.push(h("tr", { class: "row-wrong", id: "wrong-row" },
      h("td", {}, h("strong", {}, t(`result.${wrong.result}`)), h("br"), wrong.code), h("td", {}, "—"), h("td", {}, "✗")));
  }
  for (const line of v.lines) {
    const full = line.scanned >= line.expected;
    const cls = [full ? "row-done" : "", last === line.sku ? "row-ok" : ""].join(" ").trim() || null;
    rows.push(h("tr", { class: cls, dataset: { sku: line.sku } },
      h("td", {}, h("span", { class: "item-name" }, line.name || line.sku), h("br"), h("small", {}, line.sku)),
      h("td", { class: "num" }, String(line.expected)),
      h("td", { class: "num scanned" }, String(line.scanned))));
  }
  return h("table", { class: "lines", id: "verify-lines" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("verify.item")), h("th", { scope: "col" }, t("verify.expected")),
      h("th", { scope: "col" }, t("verify.scanned")))),
    h("tbody", {}, rows));
}

async function scanItem(ctx, scan) {
  const { v } = ctx.data;
  const sent = await ctx.send(`/api/scan/verifications/${v.id}/scan`, { code: scan.code, qty: 1 }, { verification: v.id });
  if (sent.queued) {
    signal("warn", t("queued"));
    return ctx.render();
  }
  const answer = sent.data;
  if (answer.lines) v.lines = answer.lines;
  if (answer.result === "ok") {
    ctx.data.wrong = null;
    ctx.data.last = answer.line ? answer.line.sku : null;
    signal("ok", answer.message || t("ok"));
  } else {
    // No refresh: the rows stay as they were, a red row says what was wrong.
    ctx.data.wrong = { result: answer.result, code: scan.code };
    signal("error", answer.message || t(`result.${answer.result}`));
  }
  if (answer.complete) return ctx.go("complete");
  ctx.follow(answer.result === "ok" ? answer : {}, {});
}

export default {
  name: "verify",
  start: "scan_waybill",
  async resync(ctx) {
    if (!ctx.data.v) return;
    ctx.data.v = await api.get(`/api/scan/verifications/${ctx.data.v.id}`);
    const done = ctx.data.v.lines.every((l) => l.scanned >= l.expected);
    if (ctx.state === "scan_item" && done) ctx.go("complete");
    else ctx.render();
  },
  states: {
    scan_waybill: {
      prompt: "verify.scan_waybill",
      view: () => [h("h1", {}, t("verify.title")), h("p", { class: "prompt" }, t("verify.scan_waybill"))],
      scan: scanWaybill,
    },
    read_notes: {
      view(ctx) {
        const { v } = ctx.data;
        const notes = v.notes.map((n) => h("li", { class: `note note-${n.kind || "note"}` },
          h("small", {}, t(`verify.note_kind.${n.kind || "note"}`, {}, n.kind || "")), " ", n.text));
        const alerts = v.alerts.filter((a) => a.code !== "buyer_note")
          .map((a) => h("li", { class: "note alert" }, t(`verify.alert.${a.code}`, { orders: (a.orders || []).join(", "), order: a.order_no || "" })));
        return [h("h1", {}, t("verify.notes_first")), h("ul", { class: "notes", id: "notes" }, notes, alerts),
          button(t("verify.notes_read"), () => ctx.go("scan_item"), { main: true, id: "notes-ack" })];
      },
    },
    scan_item: {
      prompt: "verify.scan_item",
      quantity: true,
      view(ctx) {
        return [h("h1", {}, ctx.data.v.waybill), linesTable(ctx),
          h("p", { class: "hint" }, t("each_scan_counts")),
          button(t("verify.short"), () => ctx.go("short"), { kind: "danger", id: "verify-short" })];
      },
      scan: scanItem,
    },
    complete: {
      prompt: "verify.scan_item",
      quantity: true,
      view(ctx) {
        return [h("h1", {}, t("verify.all_scanned")), linesTable(ctx),
          button(t("verify.complete"), () => ctx.act(async () => {
            const r = await api.request("POST", `/api/scan/verifications/${ctx.data.v.id}/complete`, { body: {} });
            ctx.data.shipped = r.data;
            signal("ok", t("verify.shipped"));
            ctx.go("done");
          }), { main: true, id: "verify-complete" })];
      },
      scan: scanItem,
    },
    short: {
      view(ctx) {
        const missing = ctx.data.v.lines.filter((l) => l.scanned < l.expected);
        return [h("h1", {}, t("verify.short_title")),
          missing.map((l) => button(t("verify.short_line", { name: l.name || l.sku, n: l.expected - l.scanned }), () => ctx.act(async () => {
            await api.request("POST", `/api/scan/verifications/${ctx.data.v.id}/short`, { body: { sku: l.sku, qty: l.expected - l.scanned } });
            ctx.data.shipped = { state: "short" };
            signal("warn", t("verify.short_recorded"));
            ctx.go("done");
          }), { kind: "danger" })),
          button(t("back"), () => ctx.go("scan_item"))];
      },
    },
    done: {
      prompt: "verify.scan_waybill",
      view(ctx) {
        const state = ctx.data.shipped ? ctx.data.shipped.state : "shipped";
        return [h("h1", { id: "verify-state", class: `big-${state}`, dataset: { state } }, t(`verify.state.${state}`)),
          h("p", { class: "prompt" }, t("verify.next_waybill"))];
      },
      scan: scanWaybill,
    },
  },
};
