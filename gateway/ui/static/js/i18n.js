// The message catalogues (zh-CN and en) and the language switch. Texts from the server (error
// messages) already come in the operator's language.
const LANG_KEY = "wms.lang";

const CATALOGUES = {
  en: {
    menu: "Menu", scan_field: "Scan", type_code: "Type a code", camera: "Camera", close: "Close",
    ok: "OK", back: "Back", bin: "Bin", sku: "SKU", qty: "Quantity", on_hand: "On hand",
    acknowledge: "I have seen it", ack_alarm_first: "Acknowledge the alarm first",
    no_scan_here: "Nothing to scan on this screen", double_read: "Same code twice: read once",
    repeat_ignored: "A second read of the same code within a second is ignored",
    each_scan_counts: "Every scan counts one unit",
    offline: "No network: try again", queued: "No network: saved, will send",
    waiting_count: "{n} waiting", replayed: "Saved scan sent", replay_refused: "A saved scan was refused: {message}",
    session_expired: "Session expired: log in again", camera_failed: "Camera not available",
    "login.title": "Log in", "login.badge": "Badge", "login.pin": "PIN", "login.submit": "Log in",
    "login.scan_badge": "Scan your badge", "login.enter_pin": "Enter your PIN",
    "login.badge_read": "Badge {badge}", "login.welcome": "Hello {name}",
    "menu.title": "Tasks", "menu.logout": "Log out",
    "pick.title": "Pick", "pick.scan_basket": "Scan the basket", "pick.basket_ok": "Basket {basket}: {n} tasks",
    "pick.go_to_bin": "Go to the bin, scan it", "pick.scan_bin": "Scan the bin", "pick.scan_item": "Scan the item",
    "pick.scan_items": "Scan each item", "pick.task": "Task", "pick.progress": "Task {n} of {total}",
    "pick.qty_left": "Left to pick", "pick.short": "Shortage", "pick.short_title": "Report a shortage",
    "pick.short_qty": "Units missing", "pick.short_confirm": "Record shortage", "pick.short_recorded": "Shortage recorded",
    "pick.all_done": "All tasks done", "pick.basket": "Basket {basket}", "pick.complete": "Complete pick",
    "pick.next_basket": "Scan the next basket", "pick.state.picked": "Picked", "pick.state.short": "Picked with shortage",
    "verify.title": "Verify", "verify.scan_waybill": "Scan the waybill", "verify.waybill_ok": "Waybill {waybill}",
    "verify.notes_first": "Buyer's requests", "verify.notes_read": "Read: start scanning",
    "verify.note_kind.buyer": "Buyer", "verify.note_kind.seller": "Seller", "verify.note_kind.note": "Note",
    "verify.alert.unpaid_allowed": "Unpaid order {order}: its note allows shipping",
    "verify.alert.merged_parcel": "Merged parcel: {orders}", "verify.scan_item": "Scan every item",
    "verify.item": "Item", "verify.expected": "Expected", "verify.scanned": "Scanned",
    "verify.all_scanned": "All items scanned", "verify.complete": "Complete and ship",
    "verify.shipped": "Shipped", "verify.short": "Shortage", "verify.short_title": "Which item is missing?",
    "verify.short_line": "{name}: {n} missing", "verify.short_recorded": "Shortage: return procedure started",
    "verify.state.shipped": "Shipped", "verify.state.short": "Short: returned", "verify.next_waybill": "Scan the next waybill",
    "verify.alarm.order_intercepted": "STOP: parcel intercepted", "verify.alarm.order_unpaid": "STOP: order unpaid",
    "result.wrong_item": "Wrong item", "result.wrong_location": "Wrong bin", "result.over_qty": "Too many",
    "result.unknown_code": "Unknown code",
    "putaway.title": "Receive and put away", "putaway.scan_item": "Scan the item", "putaway.scan_bin": "Scan the bin",
    "putaway.suggested": "Put in", "putaway.no_suggestion": "any free bin", "putaway.done": "{qty} put in {bin}",
    "putaway.other_bin": "Put in {bin}, not the suggested bin",
    "count.title": "Cycle count", "count.scan_bin": "Scan the bin", "count.bin_ok": "Counting {bin}",
    "count.bin": "Bin {bin}", "count.blind": "Count what you see: scan each unit, or type a quantity",
    "count.scan_item": "Scan each unit", "count.counted": "Counted", "count.enter_qty": "Quantity of {item}",
    "count.add_qty": "Add quantity", "count.qty_invalid": "A whole number above 0", "count.submit": "Submit count",
    "count.state.submitted": "Count submitted", "count.state.recount": "Recount needed", "count.state.queued": "Submit saved, will send",
    "lookup.title": "Item lookup", "lookup.scan": "Scan an item", "lookup.bins": "Bins",
    "print.title": "Print labels", "print.template": "Label", "print.printer": "Printer", "print.copies": "Copies",
    "print.scan_data": "Scan what the label is for", "print.label_for": "Label for {what}", "print.print": "Print",
    "print.no_printer": "No printer", "print.queued": "Sent to the print queue", "print.job": "Print job",
    "print.reprint": "Reprint", "print.cancel": "Cancel job", "print.cancelled": "Job cancelled", "print.another": "Another label",
    "print.tpl.sku": "Item", "print.tpl.location": "Bin", "print.tpl.basket": "Basket", "print.tpl.badge": "Badge",
    "print.pstate.ready": "ready", "print.pstate.paused": "paused", "print.pstate.offline": "offline", "print.pstate.unknown": "unknown",
    "print.jstate.queued": "Queued", "print.jstate.sending": "Sending", "print.jstate.sent": "Printed",
    "print.jstate.retrying": "Retrying", "print.jstate.failed": "Failed", "print.jstate.cancelled": "Cancelled", "print.jstate.held": "Held",
  },
  "zh-CN": {
    menu: "菜单", scan_field: "扫描", type_code: "手动输入", camera: "摄像头", close: "关闭",
    ok: "成功", back: "返回", bin: "库位", sku: "商品编码", qty: "数量", on_hand: "实物库存",
    acknowledge: "我已知晓", ack_alarm_first: "请先确认警报",
    no_scan_here: "本页面无需扫描", double_read: "同一条码重复读取：只计一次",
    repeat_ignored: "一秒内重复扫描同一条码将被忽略",
    each_scan_counts: "每扫描一次计一件",
    offline: "无网络：请重试", queued: "无网络：已保存，稍后发送",
    waiting_count: "{n} 条待发送", replayed: "已保存的扫描已发送", replay_refused: "已保存的扫描被拒绝：{message}",
    session_expired: "登录已过期，请重新登录", camera_failed: "摄像头不可用",
    "login.title": "登录", "login.badge": "工牌", "login.pin": "密码", "login.submit": "登录",
    "login.scan_badge": "请扫描工牌", "login.enter_pin": "请输入密码",
    "login.badge_read": "工牌 {badge}", "login.welcome": "你好，{name}",
    "menu.title": "作业", "menu.logout": "退出登录",
    "pick.title": "配货", "pick.scan_basket": "请扫描配货篮", "pick.basket_ok": "配货篮 {basket}：{n} 项任务",
    "pick.go_to_bin": "请到库位并扫描库位", "pick.scan_bin": "请扫描库位", "pick.scan_item": "请扫描商品",
    "pick.scan_items": "请逐件扫描商品", "pick.task": "任务", "pick.progress": "第 {n} 项，共 {total} 项",
    "pick.qty_left": "待拣数量", "pick.short": "缺货", "pick.short_title": "报告缺货",
    "pick.short_qty": "缺少件数", "pick.short_confirm": "记录缺货", "pick.short_recorded": "已记录缺货",
    "pick.all_done": "任务全部完成", "pick.basket": "配货篮 {basket}", "pick.complete": "完成配货",
    "pick.next_basket": "请扫描下一个配货篮", "pick.state.picked": "配货完成", "pick.state.short": "配货完成（有缺货）",
    "verify.title": "验货", "verify.scan_waybill": "请扫描快递单号", "verify.waybill_ok": "快递单 {waybill}",
    "verify.notes_first": "买家留言", "verify.notes_read": "已阅读，开始扫描",
    "verify.note_kind.buyer": "买家", "verify.note_kind.seller": "卖家", "verify.note_kind.note": "备注",
    "verify.alert.unpaid_allowed": "未付款订单 {order}：备注允许发货",
    "verify.alert.merged_parcel": "合并包裹：{orders}", "verify.scan_item": "请逐件扫描商品",
    "verify.item": "商品", "verify.expected": "应验", "verify.scanned": "已扫",
    "verify.all_scanned": "商品已全部扫描", "verify.complete": "完成并发货",
    "verify.shipped": "已发货", "verify.short": "缺货", "verify.short_title": "缺少哪件商品？",
    "verify.short_line": "{name}：缺 {n} 件", "verify.short_recorded": "缺货：已启动退货流程",
    "verify.state.shipped": "已发货", "verify.state.short": "缺货：已退回", "verify.next_waybill": "请扫描下一个快递单号",
    "verify.alarm.order_intercepted": "停止：包裹已拦截", "verify.alarm.order_unpaid": "停止：订单未付款",
    "result.wrong_item": "商品错误", "result.wrong_location": "库位错误", "result.over_qty": "数量超出",
    "result.unknown_code": "无法识别的条码",
    "putaway.title": "收货上架", "putaway.scan_item": "请扫描商品", "putaway.scan_bin": "请扫描库位",
    "putaway.suggested": "放入", "putaway.no_suggestion": "任一空库位", "putaway.done": "{qty} 件已放入 {bin}",
    "putaway.other_bin": "已放入 {bin}，不是推荐库位",
    "count.title": "循环盘点", "count.scan_bin": "请扫描库位", "count.bin_ok": "正在盘点 {bin}",
    "count.bin": "库位 {bin}", "count.blind": "按实际所见盘点：逐件扫描，或输入数量",
    "count.scan_item": "请逐件扫描", "count.counted": "已盘", "count.enter_qty": "{item} 的数量",
    "count.add_qty": "加入数量", "count.qty_invalid": "请输入大于 0 的整数", "count.submit": "提交盘点",
    "count.state.submitted": "盘点已提交", "count.state.recount": "需要复盘", "count.state.queued": "提交已保存，稍后发送",
    "lookup.title": "商品查询", "lookup.scan": "请扫描商品", "lookup.bins": "库位",
    "print.title": "打印标签", "print.template": "标签", "print.printer": "打印机", "print.copies": "份数",
    "print.scan_data": "请扫描要打印的对象", "print.label_for": "标签：{what}", "print.print": "打印",
    "print.no_printer": "没有打印机", "print.queued": "已加入打印队列", "print.job": "打印任务",
    "print.reprint": "重新打印", "print.cancel": "取消任务", "print.cancelled": "任务已取消", "print.another": "打印下一张",
    "print.tpl.sku": "商品", "print.tpl.location": "库位", "print.tpl.basket": "配货篮", "print.tpl.badge": "工牌",
    "print.pstate.ready": "就绪", "print.pstate.paused": "已暂停", "print.pstate.offline": "离线", "print.pstate.unknown": "未知",
    "print.jstate.queued": "排队中", "print.jstate.sending": "发送中", "print.jstate.sent": "已打印",
    "print.jstate.retrying": "重试中", "print.jstate.failed": "失败", "print.jstate.cancelled": "已取消", "print.jstate.held": "已暂停",
  },
};

let lang = localStorage.getItem(LANG_KEY) || (navigator.language && navigator.language.startsWith("en") ? "en" : "zh-CN");

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = CATALOGUES[next] ? next : "zh-CN";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
  const toggle = document.getElementById("lang");
  if (toggle) {
    // The switch shows the language it switches to, in that language.
    toggle.textContent = lang === "en" ? "中文" : "EN";
    toggle.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
  }
}

// t("pick.progress", {n: 1, total: 3}); a key missing from the catalogue gives the fallback, else the key.
export function t(key, params = {}, fallback) {
  const text = CATALOGUES[lang][key] ?? CATALOGUES.en[key] ?? fallback ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? ""));
}

export function keys(which) {
  return Object.keys(CATALOGUES[which]);
}

// Texts written in the HTML itself: data-i18n sets the text, data-i18n-label the accessible name.
export function applyStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
}
