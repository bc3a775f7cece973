"""National code lists used by 缴存人信息变更 (seed 001 ch.10) and 单位信息变更 (ch.3).

Each list is a tuple of (code, label) pairs, usable directly as Django `choices`. Codes are the
standards' own; a code we could not confirm is left out rather than guessed. The 住房公积金基础数据
标准 (JGJ/T 320) names these standards for the same fields.
"""

from collections.abc import Iterable

Code = tuple[str, str]

# 学历 — GB/T 4658-2006 学历代码, the top-level (two-digit, ending in 0) categories. 50 is not used by the standard.
EDUCATION: tuple[Code, ...] = (
    ("10", "研究生教育"),
    ("20", "大学本科教育"),
    ("30", "大学专科教育"),
    ("40", "中等职业教育"),
    ("60", "普通高级中学教育"),
    ("70", "初级中学教育"),
    ("80", "小学教育"),
    ("90", "其他"),
)

# 婚姻状况 — GB/T 2261.2-2003 个人基本信息分类与代码 第2部分：婚姻状况代码.
MARITAL_STATUS: tuple[Code, ...] = (
    ("10", "未婚"),
    ("20", "已婚"),
    ("21", "初婚"),
    ("22", "再婚"),
    ("23", "复婚"),
    ("30", "丧偶"),
    ("40", "离婚"),
    ("90", "未说明的婚姻状况"),
)

# 职称 — the level of a 专业技术职务 (GB/T 8561 lists the posts themselves: 教授, 副教授, 高级工程师 …).
# The portal asks only for the level, coded as the common 专业技术职务级别 code (as in JY/T 1001):
# 1–4 for the four levels and 9 for none.
TITLE: tuple[Code, ...] = (
    ("1", "正高级"),
    ("2", "副高级"),
    ("3", "中级"),
    ("4", "初级"),
    ("9", "无"),
)

# 职业 — GB/T 6565-2015 职业分类与代码, the eight 大类 (major groups) of the 2015 classification.
OCCUPATION: tuple[Code, ...] = (
    ("1", "党的机关、国家机关、群众团体和社会组织、企事业单位负责人"),
    ("2", "专业技术人员"),
    ("3", "办事人员和有关人员"),
    ("4", "社会生产服务和生活服务人员"),
    ("5", "农、林、牧、渔业生产及辅助人员"),
    ("6", "生产制造及有关人员"),
    ("7", "军人"),
    ("8", "不便分类的其他从业人员"),
)

# 职务 — a center-maintained list, not GB/T 12403: that standard codes civil-service post names
# (干部职务名称), which fit few of the enterprise staff who contribute. These four levels are the
# ones the 征信 (credit reporting) interface of the housing fund's loans asks for, so a member's
# record can be reported as it is.
DUTY: tuple[Code, ...] = (
    ("1", "高级领导"),
    ("2", "中级领导"),
    ("3", "一般员工"),
    ("4", "其他"),
)

# 单位经济类型 — GB/T 12402-2000 经济类型分类与代码, both levels (大类 x00, 中类 xx0, 小类 xxx).
ECONOMIC_TYPE: tuple[Code, ...] = (
    ("100", "内资"),
    ("110", "国有全资"),
    ("120", "集体全资"),
    ("130", "股份合作"),
    ("140", "联营"),
    ("141", "国有联营"),
    ("142", "集体联营"),
    ("143", "国有与集体联营"),
    ("149", "其他联营"),
    ("150", "有限责任（公司）"),
    ("151", "国有独资（公司）"),
    ("159", "其他有限责任（公司）"),
    ("160", "股份有限（公司）"),
    ("170", "私有"),
    ("171", "私有独资"),
    ("172", "私有合伙"),
    ("173", "私营有限责任（公司）"),
    ("174", "私营股份有限（公司）"),
    ("175", "个体经营"),
    ("179", "其他私有"),
    ("190", "其他内资"),
    ("200", "港、澳、台投资"),
    ("210", "内地和港、澳或台合资"),
    ("220", "内地和港、澳或台合作"),
    ("230", "港、澳或台独资"),
    ("240", "内地和港、澳或台投资股份有限（公司）"),
    ("290", "其他港、澳或台投资"),
    ("300", "国外投资"),
    ("310", "中外合资"),
    ("320", "中外合作"),
    ("330", "外资"),
    ("340", "国外投资股份有限（公司）"),
    ("390", "其他国外投资"),
)

# 所属行业 — GB/T 4754-2017 国民经济行业分类, the 20 门类 (sections) A–T.
INDUSTRY: tuple[Code, ...] = (
    ("A", "农、林、牧、渔业"),
    ("B", "采矿业"),
    ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"),
    ("E", "建筑业"),
    ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"),
    ("H", "住宿和餐饮业"),
    ("I", "信息传输、软件和信息技术服务业"),
    ("J", "金融业"),
    ("K", "房地产业"),
    ("L", "租赁和商务服务业"),
    ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"),
    ("O", "居民服务、修理和其他服务业"),
    ("P", "教育"),
    ("Q", "卫生和社会工作"),
    ("R", "文化、体育和娱乐业"),
    ("S", "公共管理、社会保障和社会组织"),
    ("T", "国际组织"),
)

ALL_LISTS: dict[str, tuple[Code, ...]] = {
    "education": EDUCATION,
    "marital_status": MARITAL_STATUS,
    "title": TITLE,
    "occupation": OCCUPATION,
    "duty": DUTY,
    "economic_type": ECONOMIC_TYPE,
    "industry": INDUSTRY,
}


def has_code(codes: Iterable[Code], code: str | None) -> bool:
    """Whether `code` is one of the list's codes (an empty code is none of them)."""
    return bool(code) and any(item_code == code for item_code, _ in codes)


def label_of(codes: Iterable[Code], code: str | None) -> str:
    """The label of a code; "" for no code; an unknown code is shown as itself (old data stays readable)."""
    if not code:
        return ""
    for item_code, label in codes:
        if item_code == code:
            return label
    return str(code)
