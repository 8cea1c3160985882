// Receive and put away: scan the item, go to the suggested bin, scan it; the units move from
// receiving to that bin.
import * as api from "../api.js";
import { h, picture } from "../dom.js";
import { signal } from "../feedback.js";
import { t } from "../i18n.js";

async function scanItem(ctx, scan) {
  const item = await api.get(api.query("/api/stock/items/lookup", { code: scan.code }));
  let suggestion = null;
  try {
    suggestion = await api.get(api.query("/api/stock/putaway/suggest", { sku: item.sku }));
  } catch (err) {
    if (!(err instanceof api.ApiError && err.status === 404)) throw err;
  }
  ctx.data = { code: scan.code, item, suggested: suggestion ? suggestion.location : null };
  signal("ok", item.name);
  ctx.go("scan_bin");
}

export default {
  name: "putaway",
  start: "scan_item",
  states: {
    scan_item: {
      prompt: "putaway.scan_item",
      view: () => [h("h1", {}, t("putaway.title")), h("p", { class: "prompt" }, t("putaway.scan_item"))],
      scan: scanItem,
    },
    scan_bin: {
      prompt: "putaway.scan_bin",
      view(ctx) {
        const { item, suggested } = ctx.data;
        return [h("div", { class: "item-row" }, picture(item.image_url, item.name),
          h("div", {}, h("p", { class: "item-name" }, item.name), h("p", { class: "spec" }, item.sku))),
        h("p", { class: "bin" }, h("span", { class: "label" }, t("putaway.suggested")), " ",
          h("strong", { id: "suggested-bin" }, suggested || t("putaway.no_suggestion"))),
        h("label", { for: "putaway-qty" }, t("qty")),
        h("input", { id: "putaway-qty", type: "number", inputmode: "numeric", min: 1, value: ctx.data.qty || 1, "data-keep-focus": true }),
        h("p", { class: "prompt" }, t("putaway.scan_bin"))];
      },
      async scan(ctx, scan) {
        const qty = Number(document.getElementById("putaway-qty").value) || 1;
        const sent = await ctx.send("/api/stock/putaway", { code: ctx.data.code, qty, to: scan.code });
        if (ctx.data.suggested && scan.code !== ctx.data.suggested) signal("warn", t("putaway.other_bin", { bin: scan.code }));
        else signal(sent.queued ? "warn" : "ok", sent.queued ? t("queued") : t("putaway.done", { qty, bin: scan.code }));
        ctx.data = {};
        ctx.go("scan_item");
      },
    },
  },
};
