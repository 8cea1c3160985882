// Blind cycle count: scan the bin, scan its items (each scan one unit) or type a quantity for the
// last item, submit. The screen shows what was counted, never what the system expects.
import * as api from "../api.js";
import { h, button } from "../dom.js";
import { signal } from "../feedback.js";
import { t } from "../i18n.js";

async function enter(ctx, code, qty) {
  const { count, bin } = ctx.data;
  const sent = await ctx.send(`/api/stock/counts/${count.id}/entries`, { location: bin, code, qty }, { count: count.id });
  const row = ctx.data.rows[code] || (ctx.data.rows[code] = { code, name: code, counted: 0 });
  if (sent.queued) {
    row.counted += qty;
    signal("warn", t("queued"));
  } else {
    row.name = sent.data.name || sent.data.sku;
    row.counted = sent.data.counted ?? row.counted + qty;
    signal("ok", `${row.name} +${qty}`);
  }
  ctx.data.last = code;
  ctx.render();
}

export default {
  name: "count",
  start: "scan_bin",
  states: {
    scan_bin: {
      prompt: "count.scan_bin",
      view: () => [h("h1", {}, t("count.title")), h("p", { class: "prompt" }, t("count.scan_bin"))],
      async scan(ctx, scan) {
        const r = await api.request("POST", "/api/stock/counts", { body: { locations: [scan.code] } });
        ctx.data = { count: r.data, bin: scan.code, rows: {}, last: null };
        signal("ok", t("count.bin_ok", { bin: scan.code }));
        ctx.go("scan_items");
      },
    },
    scan_items: {
      prompt: "count.scan_item",
      quantity: true,
      view(ctx) {
        const rows = Object.values(ctx.data.rows);
        const qty = h("input", { id: "count-qty", type: "number", inputmode: "numeric", min: 1, "data-keep-focus": true });
        return [h("h1", {}, t("count.bin", { bin: ctx.data.bin })),
          h("p", { class: "hint" }, t("count.blind")),
          h("table", { class: "lines", id: "count-lines" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("verify.item")), h("th", { scope: "col" }, t("count.counted")))),
            h("tbody", {}, rows.map((r) => h("tr", { dataset: { code: r.code }, class: r.code === ctx.data.last ? "row-ok" : null },
              h("td", {}, r.name), h("td", { class: "num" }, String(r.counted)))))),
          ctx.data.last ? h("div", { class: "qty-entry" },
            h("label", { for: "count-qty" }, t("count.enter_qty", { item: ctx.data.rows[ctx.data.last].name })), qty,
            button(t("count.add_qty"), () => ctx.act(async () => {
              const n = Number(qty.value);
              if (!Number.isInteger(n) || n < 1) return signal("warn", t("count.qty_invalid"));
              await enter(ctx, ctx.data.last, n);
            }), { id: "count-add" })) : null,
          button(t("count.submit"), () => ctx.act(async () => {
            const sent = await ctx.send(`/api/stock/counts/${ctx.data.count.id}/submit`, {}, { count: ctx.data.count.id });
            ctx.data.result = sent.queued ? { state: "queued", recount: [] } : sent.data;
            signal(sent.queued ? "warn" : "ok", t(`count.state.${ctx.data.result.state}`));
            ctx.go("done");
          }), { main: true, id: "count-submit" })];
      },
      scan: (ctx, scan) => enter(ctx, scan.code, 1),
    },
    done: {
      prompt: "count.scan_bin",
      view(ctx) {
        const r = ctx.data.result;
        return [h("h1", { id: "count-state", dataset: { state: r.state } }, t(`count.state.${r.state}`)),
          (r.recount || []).length ? h("ul", {}, r.recount.map((x) => h("li", {}, `${x.location} · ${x.sku}`))) : null,
          h("p", { class: "prompt" }, t("count.scan_bin"))];
      },
      scan(ctx, scan) {
        return ctx.flow.states.scan_bin.scan(ctx, scan);
      },
    },
  },
};
