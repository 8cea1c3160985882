// The supervisor's desktop pages. Same origin, same bearer token scheme as the handheld (no
// cookies), no inline script. Each section reads the api.md endpoints and offers their actions.
import * as api from "./api.js";
import * as session from "./session.js";
import { h } from "./dom.js";

const TEXT = {
  en: {
    title: "Supervisor", login: "Log in", badge: "Badge", pin: "PIN", logout: "Log out", lang: "中文",
    work: "Today's work", audit: "End-of-day audit", intercepts: "Intercepts", printing: "Printing",
    variances: "Variances", stock: "Stock reports", operators: "Operators", date: "Date", show: "Show",
    chart: "Items scanned by hour, per person", none: "Nothing", refresh: "Refresh",
    printers: "Printers", queue: "Print queue", pause: "Pause", resume: "Resume", cancel: "Cancel", reprint: "Reprint",
    approve: "Approve", reject: "Reject", reason: "Reason", note: "Note", negative: "Negative stock", low: "Low stock",
    threshold: "Threshold", done: "Done", count: "Count",
  },
  "zh-CN": {
    title: "主管", login: "登录", badge: "工牌", pin: "密码", logout: "退出登录", lang: "EN",
    work: "今日作业", audit: "下班前自我审核", intercepts: "拦截", printing: "打印",
    variances: "盘点差异", stock: "库存报表", operators: "操作员", date: "日期", show: "查看",
    chart: "每人每小时扫描件数", none: "无", refresh: "刷新",
    printers: "打印机", queue: "打印队列", pause: "暂停", resume: "恢复", cancel: "取消", reprint: "重新打印",
    approve: "批准", reject: "驳回", reason: "原因", note: "备注", negative: "负库存", low: "低库存",
    threshold: "阈值", done: "完成", count: "盘点单",
  },
};
// Column and section titles of the tables, in Chinese; English shows the key itself.
const COLUMNS_ZH = {
  active: "启用", attempts: "尝试次数", badge: "工牌", counted: "盘点数", error: "错误", expected: "账面数",
  first: "首次扫描", id: "编号", "items picked": "拣货件数", "items verified": "验货件数", "items/h": "件/小时",
  lang: "语言", last: "末次扫描", location: "库位", lot: "批次", name: "姓名", order: "订单号",
  "orders picked": "拣货单数", printer: "打印机", qty: "数量", roles: "角色", shop: "店铺", shortages: "缺货",
  sku: "商品编码", state: "状态", template: "模板", uri: "地址", variance: "差异", verifications: "验货次数",
  waybill: "运单号", "wrong scans": "错扫", imported: "导入", picked: "已拣货", verified: "已验货",
  shipped: "已发货", verified_not_shipped: "已验货未发货", shipped_not_verified: "已发货未验货",
  printed_without_waybill: "已打印无运单号", intercepted_open: "未处理的拦截", picked_not_verified: "已拣货未验货",
};
const col = (k) => (lang === "zh-CN" && COLUMNS_ZH[k]) || k.replaceAll("_", " ");

const REASONS = ["lost", "damaged", "found", "mis_pick", "receiving_error", "other"];
const SECTIONS = ["work", "audit", "intercepts", "printing", "variances", "stock", "operators"];

let lang = localStorage.getItem("wms.lang") || (navigator.language && navigator.language.startsWith("en") ? "en" : "zh-CN");
const tr = (k) => (TEXT[lang] || TEXT.en)[k] || k;
const page = document.getElementById("page");
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }) : "");
const today = () => new Date().toLocaleDateString("sv-SE");

function say(text) {
  document.getElementById("status").textContent = text;
}

function table(columns, rows, { id } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, tr("none"));
  return h("table", { id },
    h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", { scope: "col" }, col(label))))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, num]) => {
      const v = cell(row);
      return h("td", { class: num ? "num" : null }, v instanceof Node ? v : String(v ?? ""));
    })))));
}

function act(label, fn, kind = "") {
  return h("button", { type: "button", class: kind || null, onclick: () => run(fn) }, label);
}

async function run(fn) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401) {
      session.clear();
      return show();
    }
    say(err.message || String(err));
  }
}

const orderColumns = [["order", (o) => o.order_no], ["waybill", (o) => o.waybill_no || ""], ["state", (o) => o.state || ""],
  ["shop", (o) => o.shop || ""]];

// Items scanned per person and hour of the day (the warehouse's clock): one row of 24 columns each.
function hourChart(rows) {
  const max = Math.max(1, ...rows.flatMap((r) => (r.hours || []).map((x) => x.items)));
  const axis = h("div", { class: "bar-row axis" }, h("span", {}),
    h("div", { class: "hours" }, Array.from({ length: 24 }, (_, hour) => h("span", {}, hour % 3 ? "" : String(hour)))),
    h("span", {}));
  return h("div", { class: "chart", role: "img", "aria-label": tr("chart") }, axis, rows.map((r) => {
    const items = new Map((r.hours || []).map((x) => [x.hour, x.items]));
    const total = [...items.values()].reduce((a, b) => a + b, 0);
    return h("div", { class: "bar-row" },
      h("span", {}, `${r.name || ""} ${r.badge}`),
      h("div", { class: "hours" }, Array.from({ length: 24 }, (_, hour) => {
        const n = items.get(hour) || 0;
        return h("div", { class: "hour", title: `${hour}:00  ${n}` },
          h("div", { class: "bar", style: `height:${Math.round(100 * n / max)}%` }));
      })),
      h("span", { class: "num" }, String(total)));
  }));
}

const SECTION = {
  async work() {
    const date = h("input", { type: "date", id: "work-date", value: today(), "aria-label": tr("date") });
    const out = h("div");
    const load = async () => {
      const rows = (await api.get(api.query("/api/scan/stats/operators", { date: date.value }))).items;
      out.replaceChildren(
        table([["badge", (r) => r.badge], ["name", (r) => r.name], ["orders picked", (r) => r.orders_picked, 1],
          ["items picked", (r) => r.items_picked, 1], ["verifications", (r) => r.verifications, 1],
          ["items verified", (r) => r.items_verified, 1], ["wrong scans", (r) => r.wrong_scans, 1],
          ["shortages", (r) => r.shortages, 1], ["first", (r) => clock(r.first_scan_at)],
          ["last", (r) => clock(r.last_scan_at)], ["items/h", (r) => (r.items_per_hour || 0).toFixed(1), 1]],
        rows, { id: "stats" }),
        h("h3", {}, tr("chart")),
        hourChart(rows));
    };
    await load();
    return [h("div", { class: "toolbar" }, date, act(tr("show"), load, "primary")), out];
  },
  async audit() {
    const a = await api.get(api.query("/api/scan/audit", { date: today() }));
    const parts = [h("p", { id: "audit-totals" }, Object.entries(a.totals || {}).map(([k, v]) => `${col(k)}: ${v}`).join(" · "))];
    for (const key of ["verified_not_shipped", "shipped_not_verified", "printed_without_waybill", "intercepted_open", "picked_not_verified"]) {
      parts.push(h("h3", {}, col(key), ` (${(a[key] || []).length})`), table(orderColumns, a[key] || [], { id: `audit-${key}` }));
    }
    return parts;
  },
  async intercepts() {
    const rows = (await api.get("/api/scan/orders?state=intercepted&limit=200")).items;
    return table(orderColumns, rows, { id: "intercepts" });
  },
  async printing() {
    const printers = (await api.get("/api/print/printers")).items;
    const jobs = [];
    for (const state of ["queued", "retrying", "held", "failed"]) jobs.push(...(await api.get(`/api/print/jobs?state=${state}&limit=100`)).items);
    return [h("h3", {}, tr("printers")),
      table([["name", (p) => p.name], ["uri", (p) => p.uri], ["location", (p) => p.location || ""], ["state", (p) => p.state],
        ["", (p) => (p.state === "paused" ? act(tr("resume"), async () => { await api.post(`/api/print/printers/${encodeURIComponent(p.name)}/resume`); await show(); })
          : act(tr("pause"), async () => { await api.post(`/api/print/printers/${encodeURIComponent(p.name)}/pause`); await show(); }))]],
      printers, { id: "printers" }),
      h("h3", {}, tr("queue")),
      table([["id", (j) => String(j.id).slice(0, 8)], ["printer", (j) => j.printer], ["template", (j) => j.template], ["state", (j) => j.state],
        ["attempts", (j) => j.attempts ?? "", 1], ["error", (j) => j.error || ""],
        ["", (j) => h("span", {}, act(tr("cancel"), async () => { await api.post(`/api/print/jobs/${j.id}/cancel`); await show(); }, "danger"), " ",
          act(tr("reprint"), async () => { await api.post(`/api/print/jobs/${j.id}/reprint`); await show(); }))]],
      jobs, { id: "jobs" })];
  },
  async variances() {
    const counts = (await api.get("/api/stock/counts?state=submitted&limit=100")).items;
    const parts = [];
    for (const c of counts) {
      const lines = (await api.get(`/api/stock/counts/${c.id}/variances?limit=500`)).items.filter((l) => l.state === "pending");
      if (!lines.length) continue;
      parts.push(h("h3", {}, `${tr("count")} #${c.id}`), table([["location", (l) => l.location], ["sku", (l) => l.sku],
        ["expected", (l) => l.expected, 1], ["counted", (l) => l.counted, 1], ["variance", (l) => l.variance, 1],
        ["", (l) => {
          const reason = h("select", { "aria-label": tr("reason") }, REASONS.map((r) => h("option", { value: r }, r)));
          const note = h("input", { "aria-label": tr("note"), placeholder: tr("note") });
          return h("span", {}, reason, " ", note, " ",
            act(tr("approve"), async () => { await api.post(`/api/stock/counts/${c.id}/lines/${l.line_id}/approve`, { reason: reason.value, note: note.value }); await show(); say(tr("done")); }, "primary"), " ",
            act(tr("reject"), async () => { await api.post(`/api/stock/counts/${c.id}/lines/${l.line_id}/reject`, { note: note.value }); await show(); say(tr("done")); }, "danger"));
        }]], lines, { id: `variances-${c.id}` }));
    }
    return parts.length ? parts : h("p", { class: "empty" }, tr("none"));
  },
  async stock() {
    const negative = (await api.get("/api/stock/reports/negative?limit=500")).items;
    const threshold = h("input", { type: "number", min: 0, value: 5, "aria-label": tr("threshold") });
    const low = h("div");
    const loadLow = async () => {
      const rows = (await api.get(`/api/stock/reports/low?threshold=${Number(threshold.value) || 0}&limit=500`)).items;
      low.replaceChildren(table(Object.keys(rows[0] || {}).map((k) => [k, (r) => (typeof r[k] === "object" ? JSON.stringify(r[k]) : r[k])]), rows, { id: "low" }));
    };
    await loadLow();
    return [h("h3", {}, tr("negative")),
      table([["sku", (b) => b.sku], ["location", (b) => b.location], ["lot", (b) => b.lot || ""], ["qty", (b) => b.qty, 1]], negative, { id: "negative" }),
      h("h3", {}, tr("low")), h("div", { class: "toolbar" }, h("label", {}, tr("threshold"), " ", threshold), act(tr("show"), loadLow)), low];
  },
  async operators() {
    const rows = (await api.get("/api/auth/operators")).items;
    return table([["badge", (o) => o.badge], ["name", (o) => o.name], ["roles", (o) => o.roles.join(", ")], ["lang", (o) => o.lang],
      ["active", (o) => (o.active === false ? "no" : "yes")]], rows, { id: "operators" });
  },
};

function loginForm() {
  const badge = h("input", { id: "sup-badge", autocomplete: "username" });
  const pin = h("input", { id: "sup-pin", type: "password", autocomplete: "current-password" });
  return h("form", { class: "login", onsubmit: (e) => { e.preventDefault(); run(async () => {
    const r = await api.request("POST", "/api/auth/login", { body: { badge: badge.value.trim(), pin: pin.value, device: "desk-" + session.device() } });
    session.save(r.data.token, r.data.operator);
    await show();
  }); } },
  h("label", { for: "sup-badge" }, tr("badge")), badge, h("label", { for: "sup-pin" }, tr("pin")), pin,
  h("button", { type: "submit", class: "primary", id: "sup-login" }, tr("login")));
}

async function show() {
  document.documentElement.lang = lang;
  document.getElementById("title").textContent = tr("title");
  document.getElementById("lang").textContent = tr("lang");
  const current = (location.hash || "#work").slice(1);
  const logged = Boolean(session.token());
  const op = session.operator();
  document.getElementById("who").textContent = op ? `${op.name} · ${op.badge}` : "";
  const logout = document.getElementById("logout");
  logout.hidden = !logged;
  logout.textContent = tr("logout");
  document.getElementById("tabs").replaceChildren(...(logged ? SECTIONS.map((s) => h("a", { href: `#${s}`, "aria-current": s === current ? "page" : null }, tr(s))) : []));
  if (!logged) {
    page.replaceChildren(loginForm());
    return;
  }
  say("");
  const section = SECTION[current] ? current : "work";
  page.replaceChildren(h("h2", {}, tr(section)), h("p", {}, "…"));
  document.body.dataset.section = section;
  const content = await SECTION[section]();
  page.replaceChildren(h("h2", {}, tr(section)), ...[content].flat(Infinity).filter(Boolean));
  document.body.dataset.loaded = section;
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "en" ? "zh-CN" : "en";
  localStorage.setItem("wms.lang", lang);
  run(show);
});
document.getElementById("logout").addEventListener("click", () => run(async () => {
  await api.request("POST", "/api/auth/logout", { body: {} }).catch(() => {});
  session.clear();
  await show();
}));
window.addEventListener("hashchange", () => run(show));
run(show);
