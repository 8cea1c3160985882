// Item lookup for the inbound inspector: scan, and the picture, name, spec and bins show big.
import * as api from "../api.js";
import { h, picture } from "../dom.js";
import { signal } from "../feedback.js";
import { t } from "../i18n.js";

async function look(ctx, scan) {
  ctx.data.item = await api.get(api.query("/api/stock/items/lookup", { code: scan.code }));
  signal("ok", ctx.data.item.name);
  ctx.go("item");
}

export default {
  name: "lookup",
  start: "scan",
  states: {
    scan: {
      prompt: "lookup.scan",
      view: () => [h("h1", {}, t("lookup.title")), h("p", { class: "prompt" }, t("lookup.scan"))],
      scan: look,
    },
    item: {
      prompt: "lookup.scan",
      view(ctx) {
        const it = ctx.data.item;
        return [
          picture(it.image_url, it.name),
          h("h1", { class: "item-name" }, it.name),
          h("p", { class: "spec" }, it.spec || ""),
          h("p", {}, h("span", { class: "label" }, t("sku")), " ", h("strong", {}, it.sku)),
          // A counter-only operator gets no quantities (counts are blind): show none, not "undefined".
          ...(it.on_hand === undefined ? [] : [
            h("p", {}, h("span", { class: "label" }, t("on_hand")), " ", h("strong", { id: "on-hand" }, String(it.on_hand))),
            h("table", { class: "lines" }, h("caption", {}, t("lookup.bins")),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("bin")), h("th", { scope: "col" }, t("qty")))),
              h("tbody", {}, (it.bins || []).map((b) => h("tr", {}, h("td", {}, b.location), h("td", {}, String(b.qty)))))),
          ]),
        ];
      },
      scan: look,
    },
  },
};
