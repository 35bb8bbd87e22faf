"""The Chinese words the console shows for the registry's and the history's codes.

Only words: every value comes from the libraries' own vocabularies (`LEVELS`,
`STATUSES`, `CHANNELS`, `FIELD_GROUPS`, `CATEGORIES`); a code without a word here is
shown as itself rather than dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

LEVEL_LABELS: Final = {
    "head_office": "总行（法人）",
    "branch": "分行",
    "sub_branch": "支行",
    "outlet": "网点",
}
STATUS_LABELS: Final = {"active": "在营", "revoked": "已撤销"}
CATEGORY_LABELS: Final = {
    "bank": "银行",
    "bank_non_deposit": "非存款类金融机构",
    "securities": "证券",
    "insurance": "保险",
    "trading_settlement": "交易结算",
    "financial_holding": "金融控股",
    "monetary_authority": "人民银行",
    "regulator": "监管机构",
    "other": "其他",
}
CHANNEL_LABELS: Final = {
    "registry_sync": "人民银行机构信息同步",
    "staff_upload": "网点人员上传",
    "pro_update": "专业版信息更新",
    "public_report": "公众纠错",
    "system": "系统",
}
GROUP_LABELS: Final = {
    "position": "地图位置",
    "business_types": "受理业务类型",
    "hours": "营业时间",
    "phone": "联系电话",
    "photos": "门面照片",
    "service_links": "服务链接",
    None: "机构登记信息",
}
TASK_LABELS: Final = {
    "assigned": "已分配，待录入",
    "in_progress": "录入中",
    "submitted": "已提交",
    "confirmed": "已核对确认",
}


def label(table: Mapping[Any, str], code: str | None) -> str:
    """The word for `code`, or the code itself."""
    return table.get(code) or (code or "")


# The keys of a change event's before/after: registry record fields and profile groups.
KEY_LABELS: Final = {
    "name": "名称",
    "short_name": "简称",
    "category": "类别",
    "level": "层级",
    "legal_entity_code": "法人机构编码",
    "parent_code": "上级机构编码",
    "region_code": "行政区划代码",
    "address": "地址",
    "postcode": "邮政编码",
    "phone": "电话",
    "licence_no": "许可证号",
    "uscc": "统一社会信用代码",
    "kind": "网点类型",
    "status": "状态",
    "established_on": "成立日期",
    "revoked_on": "撤销日期",
    "latitude": "纬度",
    "longitude": "经度",
    "accuracy_m": "精度（米）",
    "captured_in": "采集坐标系",
    "confirmed": "核对确认",
}
