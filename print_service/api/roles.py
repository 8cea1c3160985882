"""Who may print and who may manage printers."""

PRINTING = ("labeler", "receiver", "stock_manager", "supervisor")
MANAGING = ("supervisor",)
