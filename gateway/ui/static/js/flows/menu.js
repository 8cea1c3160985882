// The menu: one big button per task the operator's roles allow.
import * as api from "../api.js";
import * as session from "../session.js";
import { h, button } from "../dom.js";
import { t } from "../i18n.js";

const TASKS = [
  ["pick", ["picker"]],
  ["verify", ["verifier"]],
  ["putaway", ["receiver", "stock_manager"]],
  ["count", ["counter", "stock_manager"]],
  ["lookup", []],
  ["print", ["labeler", "receiver", "stock_manager"]],
];

export default {
  name: "menu",
  start: "choose",
  states: {
    choose: {
      view(ctx) {
        const items = TASKS.filter(([, roles]) => !roles.length || session.hasRole(...roles))
          .map(([name]) => button(t(`${name}.title`), () => ctx.open(name), { main: true, id: `task-${name}` }));
        return [h("h1", {}, t("menu.title")), h("nav", { class: "tasks" }, items),
          button(t("menu.logout"), () => ctx.act(async () => {
            await api.request("POST", "/api/auth/logout", { body: {} }).catch(() => {});
            session.clear();
            ctx.open("login");
          }), { id: "logout" })];
      },
    },
  },
};
