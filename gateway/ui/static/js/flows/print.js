// Print labels: choose the template and printer, scan what the label is for, set the copies,
// print, and watch the job until the printer has it.
import * as api from "../api.js";
import { h, button } from "../dom.js";
import { signal } from "../feedback.js";
import { t } from "../i18n.js";

const TEMPLATES = ["sku", "location", "basket", "badge"];
let poller = null;

async function loadPrinters(ctx) {
  const page = await api.get("/api/print/printers");
  ctx.data.printers = page.items;
  if (!ctx.data.printer && page.items.length) ctx.data.printer = page.items[0].name;
  ctx.render();
}

function select(id, labelKey, options, value, onchange) {
  return [h("label", { for: id }, t(labelKey)),
    h("select", { id, onchange: (e) => onchange(e.target.value) },
      options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)))];
}

async function watch(ctx) {
  clearTimeout(poller);
  if (ctx.flow.name !== "print" || ctx.state !== "job") return;
  ctx.data.job = await api.get(`/api/print/jobs/${ctx.data.job.id}`);
  ctx.render();
  if (!["sent", "printed", "done", "failed", "cancelled"].includes(ctx.data.job.state)) {
    poller = setTimeout(() => ctx.act(() => watch(ctx)), 1000);
  }
}

export default {
  name: "print",
  start: "label",
  states: {
    label: {
      prompt: "print.scan_data",
      view(ctx) {
        const d = ctx.data;
        d.template = d.template || "sku";
        if (!d.printers) ctx.act(() => loadPrinters(ctx));
        return [h("h1", {}, t("print.title")),
          select("print-template", "print.template", TEMPLATES.map((x) => [x, t(`print.tpl.${x}`)]), d.template,
            (v) => { d.template = v; d.data = null; ctx.render(); }),
          select("print-printer", "print.printer", (d.printers || []).map((p) => [p.name, `${p.name} · ${t(`print.pstate.${p.state}`, {}, p.state)}`]),
            d.printer, (v) => { d.printer = v; }),
          h("label", { for: "print-copies" }, t("print.copies")),
          h("input", { id: "print-copies", type: "number", inputmode: "numeric", min: 1, max: 99, value: d.copies || 1, "data-keep-focus": true,
            onchange: (e) => { d.copies = Number(e.target.value); } }),
          h("p", { class: "prompt", id: "print-data" }, d.data ? t("print.label_for", { what: d.data.name || d.data.code || d.data.badge || d.data.sku }) : t("print.scan_data")),
          button(t("print.print"), () => ctx.act(async () => {
            if (!d.data) return signal("warn", t("print.scan_data"));
            if (!d.printer) return signal("warn", t("print.no_printer"));
            const copies = Number(document.getElementById("print-copies").value) || 1;
            const r = await api.request("POST", "/api/print/jobs", { body: { printer: d.printer, template: d.template, data: d.data, copies } });
            d.job = r.data;
            signal("ok", t("print.queued"));
            ctx.go("job");
            await watch(ctx);
          }), { main: true, id: "print-go", disabled: !d.data })];
      },
      async scan(ctx, scan) {
        const d = ctx.data;
        if (d.template === "sku") {
          const item = await api.get(api.query("/api/stock/items/lookup", { code: scan.code }));
          d.data = { sku: item.sku, name: item.name, spec: item.spec || "", barcode: (item.barcodes || [])[0] || scan.code };
        } else if (d.template === "badge") {
          d.data = { badge: scan.code, name: scan.code };
        } else {
          d.data = { code: scan.code };
        }
        signal("ok", t("print.label_for", { what: d.data.name || d.data.code || d.data.badge }));
        ctx.render();
      },
    },
    job: {
      view(ctx) {
        const j = ctx.data.job;
        return [h("h1", {}, t("print.job")),
          h("p", { class: "big-state", id: "job-state", dataset: { state: j.state } }, t(`print.jstate.${j.state}`, {}, j.state)),
          h("p", {}, `${j.printer} · ${t(`print.tpl.${j.template}`, {}, j.template)} · #${String(j.id).slice(0, 8)}`),
          j.error ? h("p", { class: "error-text" }, j.error) : null,
          button(t("print.reprint"), () => ctx.act(async () => {
            const r = await api.request("POST", `/api/print/jobs/${j.id}/reprint`, { body: {} });
            ctx.data.job = r.data;
            signal("ok", t("print.queued"));
            await watch(ctx);
          }), { id: "job-reprint" }),
          ["queued", "retrying", "held"].includes(j.state) ? button(t("print.cancel"), () => ctx.act(async () => {
            ctx.data.job = (await api.request("POST", `/api/print/jobs/${j.id}/cancel`, { body: {} })).data;
            signal("warn", t("print.cancelled"));
            ctx.render();
          }), { kind: "danger", id: "job-cancel" }) : null,
          button(t("print.another"), () => { clearTimeout(poller); ctx.go("label"); }, { main: true, id: "print-another" })];
      },
    },
  },
};
