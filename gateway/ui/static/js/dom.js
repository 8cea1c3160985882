// A tiny element builder: text always goes in as text, never as HTML, so server data cannot inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "style") el.style.cssText = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function button(label, onclick, { main = false, kind = "", id, disabled = false } = {}) {
  return h("button", { type: "button", class: [main ? "main" : "", kind].join(" ").trim() || null, onclick, id, disabled }, label);
}

export function picture(url, alt) {
  return url ? h("img", { class: "picture", src: url, alt, referrerpolicy: "no-referrer" })
    : h("div", { class: "picture none", role: "img", "aria-label": alt }, "□");
}
