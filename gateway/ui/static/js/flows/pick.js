// Pick: scan the basket, then walk the tasks in walking order: scan the bin, scan each item (every
// scan is one unit), report a shortage, complete. State names follow the server's next_state.
import * as api from "../api.js";
import { h, button, picture } from "../dom.js";
import { signal } from "../feedback.js";
import { t } from "../i18n.js";

const open = (task) => task && task.picked + (task.short || 0) < task.qty;
const current = (ctx) => ctx.data.pick.tasks.find(open) || null;

function merge(ctx, task) {
  if (!task) return;
  const tasks = ctx.data.pick.tasks;
  const i = tasks.findIndex((x) => x.seq === task.seq);
  if (i >= 0) tasks[i] = { ...tasks[i], ...task };
}

function taskCard(ctx, task, { showBin = true } = {}) {
  const total = ctx.data.pick.tasks.length;
  const left = task.qty - task.picked - (task.short || 0);
  return h("section", { class: "task", "aria-label": t("pick.task") },
    h("p", { class: "progress" }, t("pick.progress", { n: task.seq, total })),
    showBin ? h("p", { class: "bin" }, h("span", { class: "label" }, t("bin")), " ", h("strong", { id: "task-bin" }, task.location)) : null,
    h("div", { class: "item-row" }, picture(task.image_url, task.name),
      h("div", {}, h("p", { class: "item-name", id: "task-name" }, task.name), h("p", { class: "spec" }, task.sku))),
    h("p", { class: "qty-left" }, h("span", { class: "label" }, t("pick.qty_left")), " ", h("strong", { id: "qty-left" }, String(left))));
}

const TRANSITIONS = { wrong_location: "scan_bin" };

// Where the picker is, when no server answer says it: the bin of the next task, or its items.
function place(ctx) {
  const task = current(ctx);
  if (!task) return "complete";
  return task.location === ctx.data.at ? "scan_item" : "scan_bin";
}

async function sendScan(ctx, scan) {
  const pick = ctx.data.pick;
  const task = current(ctx);
  const sent = await ctx.send(`/api/scan/picks/${pick.id}/scan`, { code: scan.code }, { pick: pick.id });
  if (sent.queued) {
    // Offline: carry on where the picker stands; the server's count is read back after the replay.
    if (ctx.state === "scan_bin" && task && scan.code === task.location) ctx.data.at = task.location;
    else if (ctx.state === "scan_item" && task) task.picked += 1;
    signal("warn", t("queued"));
    return ctx.go(place(ctx));
  }
  const answer = sent.data;
  merge(ctx, answer.task);
  merge(ctx, answer.next_task);
  if (answer.location) ctx.data.at = answer.location;
  if (answer.result === "ok") signal("ok", answer.message || t("ok"));
  else signal("error", answer.message || t(`result.${answer.result}`));
  ctx.follow(answer, answer.result === "ok" ? {} : TRANSITIONS);
}

export default {
  name: "pick",
  start: "scan_basket",
  async resync(ctx) {
    if (!ctx.data.pick) return;
    ctx.data.pick = await api.get(`/api/scan/picks/${ctx.data.pick.id}`);
    ctx.data.at = ctx.data.pick.location || ctx.data.at;
    if (["scan_bin", "scan_item"].includes(ctx.state)) ctx.go(place(ctx));
    else ctx.render();
  },
  states: {
    scan_basket: {
      prompt: "pick.scan_basket",
      view: () => [h("h1", {}, t("pick.title")), h("p", { class: "prompt" }, t("pick.scan_basket"))],
      async scan(ctx, scan) {
        const r = await api.request("POST", "/api/scan/picks", { body: { basket: scan.code } });
        ctx.data.pick = r.data;
        ctx.data.at = r.data.location || null;
        signal("ok", t("pick.basket_ok", { basket: r.data.basket, n: r.data.tasks.length }));
        ctx.go(place(ctx));
      },
    },
    scan_bin: {
      prompt: "pick.scan_bin",
      view(ctx) {
        const task = current(ctx);
        return [h("h1", {}, t("pick.go_to_bin")), taskCard(ctx, task),
          h("p", { class: "hint" }, t("repeat_ignored"))];
      },
      scan: sendScan,
    },
    scan_item: {
      prompt: "pick.scan_item",
      quantity: true,
      view(ctx) {
        const task = current(ctx);
        return [h("h1", {}, t("pick.scan_items")), taskCard(ctx, task),
          h("p", { class: "hint" }, t("each_scan_counts")),
          button(t("pick.short"), () => ctx.go("short"), { kind: "danger", id: "short" })];
      },
      scan: sendScan,
    },
    short: {
      view(ctx) {
        const task = current(ctx);
        const left = task.qty - task.picked - (task.short || 0);
        const qty = h("input", { id: "short-qty", type: "number", inputmode: "numeric", min: 1, max: left, value: left, "data-keep-focus": true });
        return [h("h1", {}, t("pick.short_title")), taskCard(ctx, task),
          h("label", { for: "short-qty" }, t("pick.short_qty")), qty,
          button(t("pick.short_confirm"), () => ctx.act(async () => {
            const sent = await ctx.send(`/api/scan/picks/${ctx.data.pick.id}/short`,
              { location: task.location, sku: task.sku, qty: Number(qty.value) });
            if (sent.queued) {
              task.short = (task.short || 0) + Number(qty.value);
              signal("warn", t("queued"));
            } else {
              merge(ctx, sent.data.task);
              merge(ctx, sent.data.next_task);
              signal("warn", t("pick.short_recorded"));
            }
            ctx.go(current(ctx) ? "scan_bin" : "complete");
          }), { main: true, id: "short-confirm" }),
          button(t("back"), () => ctx.go("scan_item"), { id: "short-back" })];
      },
    },
    complete: {
      view(ctx) {
        return [h("h1", {}, t("pick.all_done")),
          h("p", { class: "prompt" }, t("pick.basket", { basket: ctx.data.pick.basket })),
          button(t("pick.complete"), () => ctx.act(async () => {
            const r = await api.request("POST", `/api/scan/picks/${ctx.data.pick.id}/complete`, { body: {} });
            ctx.data.result = r.data;
            signal(r.data.state === "picked" ? "ok" : "warn", t(`pick.state.${r.data.state}`));
            ctx.go("done");
          }), { main: true, id: "complete" })];
      },
    },
    done: {
      prompt: "pick.scan_basket",
      view(ctx) {
        const r = ctx.data.result;
        return [h("h1", { id: "pick-state", dataset: { state: r.state } }, t(`pick.state.${r.state}`)),
          h("ul", { class: "orders" }, r.orders.map((o) => h("li", {}, typeof o === "string" ? o : o.order_no))),
          h("p", { class: "prompt" }, t("pick.next_basket"))];
      },
      async scan(ctx, scan) {
        ctx.data = {};
        return ctx.flow.states.scan_basket.scan(ctx, scan);
      },
    },
  },
};
