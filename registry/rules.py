"""The one registry of validation rules, and the issues they raise.

Every check in the product — the registry import, the profile import, and the
professional app's single-record updates — reports through a rule listed
here, so an error receipt, the CLI's `registry rules`, and docs/rules.md all
speak of the same stable ids with the same messages. A rule's id never
changes meaning; a new check gets a new id.

Messages are templates over `{value}`, `{expected}` and `{column}` plus
rule-specific names; both languages always say which value was wrong and
what was expected, so a sender can fix the file without asking.

A file-level error refuses the whole file, so it is kept for defects of the
file itself; each such rule says why in `stops_file` (docs/rules.md lists
them). A defect confined to some cells is a record- or field-level error on
those rows, and the receipt lists every row's defects in one pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["file", "record", "field", "cross_record", "load"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    severity: Severity
    message_zh: str
    message_en: str
    stops_file: str = ""  # why an error of this file-level rule refuses the whole file


@dataclass(frozen=True)
class Issue:
    """One finding in a submission: what an error receipt lists."""

    rule_id: str
    severity: Severity
    row: int | None
    fi_code: str | None
    column: str | None
    value: str | None
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_RULES: dict[str, Rule] = {}


def _rule(
    id: str, level: Level, severity: Severity, zh: str, en: str, *, stops_file: str = ""
) -> None:
    if id in _RULES:
        raise ValueError(f"rule {id} defined twice")
    if (level == "file" and severity == "error") != bool(stops_file):
        raise ValueError(f"rule {id}: a file-level error, and only one, says why it stops the file")
    _RULES[id] = Rule(id, level, severity, zh, en, stops_file)


# --- file and header ----------------------------------------------------------------------------
_rule(
    "FILE-TYPE",
    "file",
    "error",
    "文件类型不支持：{value}{expected}；应为 CSV 或 XLSX 文件",
    "unsupported file type: {value}{expected}; expected a CSV or XLSX file",
    stops_file="No row can be read: the file is no CSV or XLSX (an image, a PDF, an .xls, a "
    "damaged workbook), or CSV text holding NUL bytes (binary data, or UTF-16 without its "
    "byte-order mark; PostgreSQL text cannot hold a NUL). Also when a CSV or sheet cannot be "
    "parsed past some row: what follows is unknown, and a full snapshot read in part would "
    "report every later record missing.",
)
_rule(
    "FILE-EMPTY",
    "file",
    "error",
    "文件为空或没有数据行：{value}{expected}",
    "the file is empty or has no data rows: {value}{expected}",
    stops_file="There is no row to refuse: no header, or no data row under it.",
)
_rule(
    "FILE-ENCODING",
    "file",
    "error",
    "文件编码无法识别（{value}）{expected}；应为 UTF-8 或 GB18030",
    "cannot decode the file ({value}){expected}; expected UTF-8 or GB18030",
    stops_file="The file is in another encoding (UTF-16, Big5, Latin-1 ...): its header, or "
    "more than half of its data lines holding non-ASCII bytes, cannot be read as UTF-8 or as "
    "GB18030. Bytes that cannot be read in fewer lines of a file whose header reads are "
    "damage in those rows: FLD-ENCODING on each such cell.",
)
_rule(
    "FILE-MOJIBAKE",
    "file",
    "error",
    "文件中有乱码（{value}）{expected}，可能在保存时用错了编码；请用 UTF-8 或 GB18030 重新导出",
    "the file contains garbled text ({value}){expected}, probably saved with the wrong "
    "encoding; export it again as UTF-8 or GB18030",
    stops_file="The whole file was converted wrongly: its header is garbled, or more than "
    "half of the cells holding non-ASCII text in its first 200 data rows are; the message "
    "gives the probable original. Garbled text in fewer cells is FLD-MOJIBAKE on each such "
    "cell, with its repair, and every other row is checked as usual.",
)
_rule(
    "HDR-MISSING",
    "file",
    "error",
    "缺少必需的列“{column}”（可用列名：{value}）",
    "required column '{column}' is missing (accepted names: {value})",
    stops_file="The column is missing from every row, and which header cell was meant to be "
    "it cannot be guessed.",
)
_rule(
    "HDR-UNKNOWN",
    "file",
    "warning",
    "无法识别的列“{value}”，已忽略",
    "unknown column '{value}' ignored",
)
_rule(
    "HDR-DUPLICATE",
    "file",
    "error",
    "列“{column}”出现了多次（{value}）",
    "column '{column}' appears more than once ({value})",
    stops_file="Two header cells name the same column: which of them holds its values is "
    "unknown, in every row (often one of them is another column mislabelled).",
)

# --- record ---------------------------------------------------------------------------------------
_rule(
    "REC-EXTRA-CELLS",
    "record",
    "warning",
    "本行的单元格比表头多，多出的内容已忽略：{value}",
    "this row has more cells than the header; ignored: {value}",
)
_rule(
    "REC-HEAD-OFFICE-LEGAL",
    "record",
    "error",
    "总行/总公司的法人机构编码应等于其自身编码 {expected}，实际为 {value}",
    "a head office's legal_entity_code must equal its own fi_code {expected}, got {value}",
)
_rule(
    "REC-BRANCH-LEGAL",
    "record",
    "error",
    "非总行机构的法人机构编码不能等于其自身编码 {value}",
    "legal_entity_code {value} equals the fi_code, but the level is not head_office",
)
_rule(
    "REC-HEAD-OFFICE-PARENT",
    "record",
    "error",
    "总行/总公司不应有上级机构编码，实际为 {value}",
    "a head office has no parent, got parent_code {value}",
)
_rule(
    "REC-KIND-LEVEL",
    "record",
    "error",
    "自助银行或 ATM（{expected}）的机构层级应为网点（outlet），实际为 {value}",
    "a self-service point or ATM ({expected}) has level outlet, got {value}",
)
_rule(
    "REC-SELF-PARENT",
    "record",
    "error",
    "上级机构编码 {value} 与本机构编码相同",
    "parent_code {value} is the record's own fi_code",
)

# --- field ----------------------------------------------------------------------------------------
_rule(
    "FLD-REQUIRED",
    "field",
    "error",
    "“{column}”为必填项，不能为空",
    "'{column}' is required and must not be empty",
)
_rule(
    "FLD-FICODE-FORMAT",
    "field",
    "error",
    "“{column}”的值 {value} 格式错误：{expected}",
    "'{column}' value {value} is malformed: {expected}",
)
_rule(
    "FLD-FICODE-CHECK",
    "field",
    "warning",
    "金融机构编码 {value} 的校验位应为 {expected}（校验算法未经核实，仅作提示）",
    "fi_code {value} should end in check digit {expected} (the algorithm is unverified; "
    "a warning only)",
)
_rule(
    "FLD-LEVEL-VALUE",
    "field",
    "error",
    "机构层级 {value} 无效；应为 {expected}",
    "level {value} is not valid; expected {expected}",
)
_rule(
    "FLD-KIND-VALUE",
    "field",
    "error",
    "网点类型 {value} 无效；应为 {expected}（空白为营业网点）",
    "kind {value} is not valid; expected {expected} (empty: a branch)",
)
_rule(
    "FLD-REGION-VALUE",
    "field",
    "error",
    "行政区划代码 {value} 不是现行有效的县级代码（GB/T 2260）{expected}",
    "region_code {value} is not a current county-level GB/T 2260 code{expected}",
)
_rule(
    "FLD-POSTCODE-FORMAT",
    "field",
    "error",
    "邮政编码 {value} 应为 6 位数字",
    "postcode {value} must be 6 digits",
)
_rule(
    "FLD-PHONE-FORMAT",
    "field",
    "error",
    "联系电话 {value} 格式错误；应为带区号的固定电话（如 025-84001234）"
    "或 11 位手机号，多个用 ; 分隔",
    "phone {value} is malformed; expected a landline with area code (e.g. 025-84001234) or an "
    "11-digit mobile number, several separated by ;",
)
_rule(
    "FLD-LICENCE-FORMAT",
    "field",
    "error",
    "金融许可证号 {value} 格式错误：{expected}",
    "licence_no {value} is malformed: {expected}",
)
_rule(
    "FLD-LICENCE-MISSING",
    "field",
    "warning",
    "吸收存款类银行机构应填写金融许可证号",
    "a deposit-taking bank institution should have a licence_no",
)
_rule(
    "FLD-USCC-CHECK",
    "field",
    "error",
    "统一社会信用代码 {value} 无效：{expected}",
    "uscc {value} is invalid: {expected}",
)
_rule(
    "FLD-STATUS-VALUE",
    "field",
    "error",
    "状态 {value} 无效；应为 正常/active 或 撤销/revoked",
    "status {value} is not valid; expected active/正常 or revoked/撤销",
)
_rule(
    "FLD-DATE-FORMAT",
    "field",
    "error",
    "“{column}”的日期 {value} 无法识别；应为 YYYY-MM-DD、YYYYMMDD 或 YYYY/MM/DD",
    "'{column}' date {value} is not understood; expected YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD",
)
_rule(
    "FLD-DATE-RANGE",
    "field",
    "error",
    "“{column}”的日期 {value} 超出范围：{expected}",
    "'{column}' date {value} is out of range: {expected}",
)
_rule(
    "FLD-REVOKED-ON",
    "field",
    "error",
    "撤销日期 {value} 与状态不符：{expected}",
    "revoked_on {value} does not fit the status: {expected}",
)
_rule(
    "FLD-MOJIBAKE",
    "field",
    "error",
    "“{column}”的内容 {value} 是乱码{expected}",
    "'{column}' value {value} is garbled text{expected}",
)
_rule(
    "FLD-ENCODING",
    "field",
    "error",
    "“{column}”中有文件编码无法识别的字节：{value}{expected}；文件应为 UTF-8 或 GB18030 文本",
    "'{column}' holds bytes the file's encoding cannot read: {value}{expected}; expected "
    "UTF-8 or GB18030 text",
)
_rule(
    "FLD-TEXT-LENGTH",
    "field",
    "error",
    "“{column}”过长（{value} 个字符），最多 {expected} 个字符",
    "'{column}' is too long ({value} characters); at most {expected}",
)

# --- cross-record (within the file, and with what is stored) -------------------------------------
_rule(
    "XRC-DUPLICATE",
    "cross_record",
    "error",
    "金融机构编码 {value} 在文件中重复出现（第 {expected} 行）",
    "fi_code {value} appears more than once in the file (rows {expected})",
)
_rule(
    "XRC-PARENT-MISSING",
    "cross_record",
    "error",
    "上级机构 {value} 既不在文件中也不在库中",
    "parent {value} is neither in the file nor in the registry",
)
_rule(
    "XRC-PARENT-REJECTED",
    "cross_record",
    "error",
    "上级机构 {value} 的记录被拒绝（第 {expected} 行），本行无法导入",
    "parent {value} was rejected (row {expected}), so this row cannot be loaded",
)
_rule(
    "XRC-HIERARCHY-CYCLE",
    "cross_record",
    "error",
    "上下级关系形成循环：{value}",
    "the parent chain forms a cycle: {value}",
)
_rule(
    "XRC-LEGAL-MISSING",
    "cross_record",
    "error",
    "法人机构 {value} 既不在文件中也不在库中",
    "legal entity {value} is neither in the file nor in the registry",
)
_rule(
    "XRC-LEGAL-ENTITY",
    "cross_record",
    "error",
    "法人机构编码 {value} 与上级机构的法人机构编码 {expected} 不一致",
    "legal_entity_code {value} differs from the parent's legal entity {expected}",
)
_rule(
    "XRC-REVOKED-PARENT",
    "cross_record",
    "error",
    "机构为正常状态，但其上级机构 {value} 已撤销",
    "the record is active but its parent {value} is revoked",
)
_rule(
    "XRC-LEVEL-ORDER",
    "cross_record",
    "error",
    "机构层级 {value} 不能隶属于层级为 {expected} 的上级机构",
    "level {value} cannot sit under a parent of level {expected}",
)
_rule(
    "XRC-CODE-PREFIX",
    "cross_record",
    "warning",
    "金融机构编码 {value} 的前 6 位与法人机构编码 {expected} 不同",
    "fi_code {value} does not share its first 6 characters with the legal entity {expected}",
)

_rule(
    "XRC-KIND-PARENT",
    "cross_record",
    "error",
    "自助银行或 ATM 的上级机构 {value} 应为其所属或所在的营业网点（支行或网点层级），"
    "实际为{expected}",
    "a self-service point's or ATM's parent {value} must be the branch it belongs to or "
    "stands in (a branch-kind sub_branch or outlet), got {expected}",
)

# --- load (against what is stored) ---------------------------------------------------------------
_rule(
    "LOAD-LEGAL-CHANGED",
    "load",
    "error",
    "库中已有编码 {value}，但属于另一法人机构 {expected}",
    "fi_code {value} is already registered under another legal entity {expected}",
)
_rule(
    "LOAD-REACTIVATION",
    "load",
    "error",
    "机构 {value} 在库中已撤销，文件中为正常；恢复需明确指定（--allow-reactivation）",
    "{value} is revoked in the registry but active in the file; re-activation must be explicit "
    "(--allow-reactivation)",
)
_rule(
    "LOAD-REACTIVATED",
    "load",
    "warning",
    "机构 {value} 已按要求从撤销恢复为正常",
    "{value} re-activated from revoked, as requested",
)
_rule(
    "LOAD-ACTIVE-CHILDREN",
    "load",
    "error",
    "机构 {value} 被撤销，但库中仍有正常状态的下级机构 {expected}；请同时撤销或迁移它们",
    "{value} is revoked but stored active children remain under it ({expected}); revoke or "
    "move them in the same file",
)
_rule(
    "LOAD-MISSING",
    "load",
    "warning",
    "库中正常状态的机构 {value} 不在本辖区全量文件中{expected}",
    "active institution {value} is absent from this full snapshot of the jurisdiction{expected}",
)

# --- profile import -----------------------------------------------------------------------------
_rule(
    "PRF-FICODE-UNKNOWN",
    "load",
    "error",
    "金融机构编码 {value} 不在库中{expected}",
    "fi_code {value} is not in the registry{expected}",
)
_rule(
    "PRF-DUPLICATE",
    "cross_record",
    "error",
    "金融机构编码 {value} 在文件中重复出现（第 {expected} 行）",
    "fi_code {value} appears more than once in the file (rows {expected})",
)
_rule(
    "PRF-NUMBER",
    "field",
    "error",
    "“{column}”的值 {value} 不是数字",
    "'{column}' value {value} is not a number",
)
_rule(
    "PRF-POSITION-RANGE",
    "field",
    "error",
    "坐标 {value} 超出范围：{expected}",
    "position {value} is out of range: {expected}",
)
_rule(
    "PRF-POSITION-CHINA",
    "field",
    "error",
    "坐标 {value} 不在中国境内",
    "position {value} is outside China",
)
_rule(
    "PRF-POSITION-REGION",
    "load",
    "error",
    "坐标 {value}（WGS-84）不在该机构所在行政区 {expected} 的范围内",
    "position {value} (WGS-84) is outside the bounds of the institution's region {expected}",
)
_rule(
    "PRF-COORD-SYSTEM",
    "field",
    "error",
    "坐标系 {value} 无效；应为 {expected}",
    "coordinate system {value} is not valid; expected {expected}",
)
_rule(
    "PRF-BUSINESS-TYPE",
    "field",
    "error",
    "业务类型 {value} 不在词表中；可用：{expected}",
    "business type {value} is not in the vocabulary; known: {expected}",
)
_rule(
    "PRF-KIND-BUSINESS",
    "load",
    "error",
    "业务类型 {value} 不适用于{expected}",
    "business type {value} does not apply to {expected}",
)
_rule(
    "PRF-HOURS",
    "field",
    "error",
    "营业时间 {value} 格式错误：{expected}",
    "opening hours {value} are malformed: {expected}",
)


def get(rule_id: str) -> Rule:
    return _RULES[rule_id]


def all_rules() -> list[Rule]:
    return list(_RULES.values())


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def issue(
    rule_id: str,
    *,
    row: int | None = None,
    fi_code: str | None = None,
    column: str | None = None,
    value: str | None = None,
    expected: str = "",
    severity: Severity | None = None,
) -> Issue:
    """An issue of `rule_id`, its messages filled in; unknown ids fail loudly."""
    rule = _RULES[rule_id]
    params = _Missing(
        value=value if value is not None else "", expected=expected, column=column or ""
    )
    return Issue(
        rule_id=rule.id,
        severity=severity or rule.severity,
        row=row,
        fi_code=fi_code or None,
        column=column,
        value=value,
        message_zh=rule.message_zh.format_map(params),
        message_en=rule.message_en.format_map(params),
    )
