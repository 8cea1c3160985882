"""The printing error codes in the operator's language."""
from common import i18n

i18n.register({
    "unknown_printer": {"en": "No printer with this name.", "zh-CN": "没有这个打印机。"},
    "printer_exists": {"en": "A printer with this name exists.", "zh-CN": "该名称的打印机已存在。"},
    "invalid_printer_uri": {"en": "The printer address must be tcp://host:port, cups://queue or file:///dir.",
                            "zh-CN": "打印机地址须为 tcp://主机:端口、cups://队列 或 file:///目录。"},
    "same_printer": {"en": "Choose another printer to move the labels to.", "zh-CN": "请选择另一台打印机来转移标签。"},
    "unknown_print_job": {"en": "No print job with this id.", "zh-CN": "没有这个打印任务。"},
    "job_not_cancellable": {"en": "This label is already sent or finished; it cannot be cancelled.",
                            "zh-CN": "该标签已发送或已结束，无法取消。"},
    "invalid_barcode": {"en": "This barcode cannot be printed with that symbology.",
                        "zh-CN": "该条码无法用此码制打印。"},
    "label_too_small": {"en": "The label is too small for this content.", "zh-CN": "标签尺寸太小，放不下这些内容。"},
})
