"""One demo operator per role, with the badge codes of a real floor."""
from __future__ import annotations

from typing import Any

DEMO_OPERATORS = [
    ("EDB_PH001", "张伟", "picker", "1111"),
    ("EDB_YH001", "李娜", "verifier", "2222"),
    ("EDB_RK001", "王强", "receiver", "3333"),
    ("EDB_DY001", "刘洋", "labeler", "4444"),
    ("EDB_PD001", "陈静", "counter", "5555"),
    ("EDB_KG001", "杨帆", "stock_manager", "6666"),
    ("EDB_ZG001", "赵敏", "supervisor", "7777"),
]


def seed(client: Any) -> None:
    for badge, name, role, pin in DEMO_OPERATORS:
        client.post("/api/auth/operators", {"badge": badge, "name": name, "roles": [role], "pin": pin,
                                            "lang": "zh-CN"})
