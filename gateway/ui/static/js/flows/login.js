// Login: scan the badge, type the PIN, tap. The tap also unlocks the sounds.
import * as api from "../api.js";
import * as session from "../session.js";
import { h } from "../dom.js";
import { signal, unlockAudio } from "../feedback.js";
import { setLang, t } from "../i18n.js";

async function submit(ctx, form) {
  unlockAudio();
  const pin = form.querySelector("#pin").value;
  const badge = form.querySelector("#badge").value.trim();
  if (!badge) return signal("warn", t("login.scan_badge"));
  if (!pin) return signal("warn", t("login.enter_pin"));
  const r = await api.request("POST", "/api/auth/login", { body: { badge, pin, device: session.device() } });
  session.save(r.data.token, r.data.operator);
  setLang(r.data.operator.lang);
  signal("ok", t("login.welcome", { name: r.data.operator.name }));
  ctx.open("menu");
}

export default {
  name: "login",
  start: "badge",
  states: {
    badge: {
      prompt: "login.scan_badge",
      view(ctx) {
        const form = h("form", { id: "login-form", onsubmit: (e) => { e.preventDefault(); ctx.act(() => submit(ctx, form)); } },
          h("h1", {}, t("login.title")),
          h("label", { for: "badge" }, t("login.badge")),
          h("input", { id: "badge", value: ctx.data.badge || "", autocomplete: "username", autocapitalize: "characters", "data-keep-focus": true }),
          h("label", { for: "pin" }, t("login.pin")),
          h("input", { id: "pin", type: "password", inputmode: "numeric", autocomplete: "current-password", "data-keep-focus": true }),
          h("button", { type: "submit", class: "main", id: "login" }, t("login.submit")));
        return form;
      },
      scan(ctx, scan) {
        ctx.data.badge = scan.code;
        ctx.render();
        signal("ok", t("login.badge_read", { badge: scan.code }));
        document.getElementById("pin").focus();
      },
    },
  },
};
