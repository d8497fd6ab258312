"""What the demo documents say: one content template per kind of business document, in Chinese and English.

The templates name people, departments, projects, suppliers and clients of the demo organisation
(so mentions link them); :mod:`ingest.demo_docs` plans, renders and loads them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph.demo_org import DEPARTMENTS, PROJECTS

Block = tuple[str, Any]  # ("h", text) | ("p", text) | ("table", rows)


@dataclass
class DemoDoc:
    title: str
    lang: str
    blocks: list[Block]
    fmt: str  # docx | xlsx | pdf | md


@dataclass(frozen=True)
class Person:
    id: str
    username: str
    name: str
    dept: str  # department code


@dataclass
class Context:
    rng: random.Random
    owner: Person
    lang: str
    people: list[Person]  # others with unique names, to be named in the text
    number: int
    month: int



_DEPT = {code: (zh, en) for code, zh, en, _ in DEPARTMENTS}
_TOP_DOMAIN = {"GMO": "general", "FIN": "finance", "HR": "hr", "MKT": "marketing", "SALES": "business",
               "RND": "rnd", "LEGAL": "legal", "PROC": "procurement", "IT": "it"}
SUPPLIERS = [("上海精诚电子有限公司", "Shanghai Jingcheng Electronics Co., Ltd."),
             ("苏州远航物流有限公司", "Suzhou Yuanhang Logistics Co., Ltd."),
             ("杭州云启软件有限公司", "Hangzhou Yunqi Software Co., Ltd."),
             ("深圳华科办公设备有限公司", "Shenzhen Huake Office Equipment Co., Ltd."),
             ("北京博雅咨询有限公司", "Beijing Boya Consulting Co., Ltd."),
             ("广州恒信印务有限公司", "Guangzhou Hengxin Printing Co., Ltd.")]
CLIENTS = [("南京鼎盛贸易", "Nanjing Dingsheng Trading"), ("宁波海川制造", "Ningbo Haichuan Manufacturing"),
           ("天津北辰零售", "Tianjin Beichen Retail"), ("成都锦程医药", "Chengdu Jincheng Pharma"),
           ("厦门蓝海科技", "Xiamen Lanhai Technology"), ("武汉长江汽配", "Wuhan Changjiang Auto Parts")]


def _top(code: str) -> str:
    return code.split("-")[0]


def _dname(code: str, lang: str) -> str:
    zh, en = _DEPT[code]
    return zh if lang == "zh" else en


def _money(rng: random.Random, low: int, high: int, step: int = 100) -> int:
    return rng.randrange(low // step, high // step) * step


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _other(ctx: Context, k: int = 1) -> list[Person]:
    return ctx.rng.sample(ctx.people, k)


# -- content templates: one per kind of business document ---------------------------------------------


def expense_policy(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    approver = _other(ctx)[0]
    hotel = [_money(rng, 500, 900, 50), _money(rng, 350, 600, 50), _money(rng, 250, 400, 50)]
    meal = rng.choice([100, 120, 150])
    year = 2026
    title = _t(lang, f"{year}年差旅及费用报销制度（第{ctx.number}号修订）",
               f"Travel and Expense Reimbursement Policy {year} (rev. {ctx.number})")
    blocks: list[Block] = [
        ("h", _t(lang, "一、适用范围", "1. Scope")),
        ("p", _t(lang, f"本制度适用于汇通科技全体员工的差旅、招待及日常费用报销，由财务部负责解释，会计组负责审核。"
                       f"制度起草人：{ctx.owner.name}。",
                 f"This policy covers travel, entertainment and day-to-day expenses of all Huitong Technology staff. "
                 f"Finance interprets it and Accounting reviews every claim. Drafted by {ctx.owner.name}.")),
        ("h", _t(lang, "二、住宿标准", "2. Hotel limits per night")),
        ("table", [[_t(lang, "城市类别", "City tier"), _t(lang, "住宿上限（元/晚）", "Limit (CNY/night)")],
                   [_t(lang, "一线城市", "Tier 1"), str(hotel[0])], [_t(lang, "二线城市", "Tier 2"), str(hotel[1])],
                   [_t(lang, "其他城市", "Other"), str(hotel[2])]]),
        ("h", _t(lang, "三、餐费与交通", "3. Meals and transport")),
        ("p", _t(lang, f"出差期间餐费补助每人每天{meal}元，市内交通实报实销，须提供发票。"
                       "高铁二等座、经济舱为默认标准。",
                 f"Meal allowance is CNY {meal} per person per day on business trips; local transport is refunded "
                 "against receipts. Second-class rail and economy flights are the default.")),
        ("h", _t(lang, "四、审批流程", "4. Approval")),
        ("p", _t(lang, f"报销单在费用发生后30日内提交，经部门经理审批后交财务部审核；单笔超过5000元须由{approver.name}"
                       "（预算负责人）复核。资金组每周四统一付款。",
                 f"Claims are filed within 30 days, approved by the department manager, then reviewed by Finance; "
                 f"any single claim above CNY 5,000 is countersigned by {approver.name} (budget owner). Treasury pays "
                 "every Thursday.")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["docx", "pdf"]))


def contract(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    supplier = rng.choice(SUPPLIERS)
    amount = _money(rng, 80_000, 2_000_000, 1000)
    reviewer = _other(ctx)[0]
    months = rng.choice([6, 12, 24])
    code = f"HT-PO-2026-{ctx.number:03d}"
    title = _t(lang, f"采购合同 {code}（{supplier[0]}）", f"Purchase Contract {code} ({supplier[1]})")
    blocks: list[Block] = [
        ("p", _t(lang, f"甲方：汇通科技有限公司；乙方：{supplier[0]}。经双方协商一致，订立本合同。",
                 f"Buyer: Huitong Technology Co., Ltd.; Supplier: {supplier[1]}. The parties agree as follows.")),
        ("h", _t(lang, "第一条 合同金额", "Article 1. Contract value")),
        ("p", _t(lang, f"合同总价为人民币{amount:,}元（含税），有效期{months}个月。",
                 f"The total price is CNY {amount:,} including tax, for a term of {months} months.")),
        ("h", _t(lang, "第二条 付款方式", "Article 2. Payment")),
        ("p", _t(lang, "合同签订后支付30%预付款，验收合格后支付60%，质保期满后支付剩余10%。",
                 "30% is paid on signature, 60% on acceptance and the remaining 10% when the warranty ends.")),
        ("h", _t(lang, "第三条 保密与违约", "Article 3. Confidentiality and breach")),
        ("p", _t(lang, "双方对合同内容及履约中获知的商业秘密负有保密义务。"
                       "逾期交付的，每日按合同金额的0.05%支付违约金。",
                 "Both parties keep the terms and any trade secrets confidential. Late delivery costs 0.05% of the "
                 "contract value per day.")),
        ("p", _t(lang, f"甲方经办人：{ctx.owner.name}（{_dname(ctx.owner.dept, lang)}）；法务审核：{reviewer.name}。",
                 f"Handled by {ctx.owner.name} ({_dname(ctx.owner.dept, lang)}); legal review: {reviewer.name}.")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["docx", "docx", "pdf"]))


def sales_report(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    teams = ["SALES-EAST", "SALES-NORTH", "SALES-SOUTH", "SALES-INTL"]
    rows = [[_t(lang, "区域", "Region"), _t(lang, "目标（万元）", "Target (10k CNY)"),
             _t(lang, "实际（万元）", "Actual (10k CNY)"), _t(lang, "完成率", "Attainment")]]
    best, best_rate = "", 0.0
    for team in teams:
        target = rng.randint(300, 900)
        actual = int(target * rng.uniform(0.7, 1.25))
        rate = actual / target
        if rate > best_rate:
            best, best_rate = team, rate
        rows.append([_dname(team, lang), str(target), str(actual), f"{rate:.0%}"])
    star = _other(ctx)[0]
    client = rng.choice(CLIENTS)
    title = _t(lang, f"2026年{ctx.month}月销售月报", f"Sales Report, {_month_en(ctx.month)} 2026")
    blocks: list[Block] = [
        ("table", rows),
        ("h", _t(lang, "本月要点", "Highlights")),
        ("p", _t(lang, f"{_dname(best, lang)}完成率最高（{best_rate:.0%}）。{star.name}签下{client[0]}年度框架协议，"
                       f"成为本月最大单。报告人：{ctx.owner.name}。",
                 f"{_dname(best, lang)} led with {best_rate:.0%} attainment. {star.name} signed the annual framework "
                 f"agreement with {client[1]}, the largest deal of the month. Reported by {ctx.owner.name}.")),
        ("p", _t(lang, "下月重点：回款跟进、渠道返利核对，并配合市场部推进品牌焕新活动。",
                 "Next month: collections, channel rebate reconciliation, and support for Marketing's brand refresh.")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["xlsx", "xlsx", "md"]))


def meeting_minutes(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    attendees = [ctx.owner, *_other(ctx, 3)]
    project = rng.choice(PROJECTS)
    day = rng.randint(1, 28)
    title = _t(lang, f"{project[1]}项目周例会纪要（2026-{ctx.month:02d}-{day:02d}）",
               f"{project[2]} weekly meeting minutes (2026-{ctx.month:02d}-{day:02d})")
    names = "、".join(p.name for p in attendees) if lang == "zh" else ", ".join(p.name for p in attendees)
    a, b = attendees[1], attendees[2]
    progress = rng.randint(40, 95)
    blocks: list[Block] = [
        ("p", _t(lang, f"参会人：{names}。主持：{ctx.owner.name}。项目编号：{project[0]}。",
                 f"Attendees: {names}. Chair: {ctx.owner.name}. Project code: {project[0]}.")),
        ("h", _t(lang, "议题与结论", "Agenda and decisions")),
        ("p", _t(lang, f"1. 进度回顾：整体进度{progress}%，{_dname(a.dept, lang)}负责的模块延期一周，"
                       "需在下周三前给出恢复计划。",
                 f"1. Progress: {progress}% overall; the part owned by {_dname(a.dept, lang)} slipped a week "
                 "and needs a recovery plan by next Wednesday.")),
        ("p", _t(lang, f"2. 预算：追加预算{_money(rng, 20_000, 200_000, 1000):,}元的申请提交财务部审批。",
                 f"2. Budget: a request for an extra CNY {_money(rng, 20_000, 200_000, 1000):,} goes to Finance.")),
        ("h", _t(lang, "行动项", "Action items")),
        ("table", [[_t(lang, "事项", "Item"), _t(lang, "负责人", "Owner"), _t(lang, "截止", "Due")],
                   [_t(lang, "提交恢复计划", "Recovery plan"), a.name, f"2026-{ctx.month:02d}-{min(day + 7, 28):02d}"],
                   [_t(lang, "更新风险清单", "Update the risk register"), b.name,
                    f"2026-{ctx.month:02d}-{min(day + 5, 28):02d}"]]),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["docx", "md", "md"]))


def budget(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    rows: list[list[Any]] = [[_t(lang, "部门", "Department"), _t(lang, "年度预算（元）", "Budget (CNY)"),
             _t(lang, "已执行（元）", "Spent (CNY)"), _t(lang, "执行率", "Used")]]
    for code in ("GMO", "FIN", "HR", "MKT", "SALES", "RND", "LEGAL", "PROC", "IT"):
        total = _money(rng, 500_000, 8_000_000, 10_000)
        spent = int(total * rng.uniform(0.2, 0.95))
        rows.append([_dname(code, lang), total, spent, f"{spent / total:.0%}"])
    title = _t(lang, f"2026年第{(ctx.month - 1) // 3 + 1}季度预算执行表（{ctx.number}）",
               f"Budget execution Q{(ctx.month - 1) // 3 + 1} 2026 ({ctx.number})")
    blocks: list[Block] = [
        ("table", rows),
        ("p", _t(lang, f"编制：{ctx.owner.name}（财务部会计组）。执行率超过80%的部门须在月底前提交追加预算说明。",
                 f"Prepared by {ctx.owner.name} (Finance, Accounting). Departments above 80% explain any top-up by "
                 "month end.")),
    ]
    return DemoDoc(title, lang, blocks, "xlsx")


def hiring_plan(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    rows = [[_t(lang, "部门", "Department"), _t(lang, "岗位", "Position"), _t(lang, "人数", "Headcount"),
             _t(lang, "到岗时间", "Start")]]
    openings = [("RND-PLT", ("软件工程师", "Software Engineer")), ("RND-QA", ("测试工程师", "QA Engineer")),
                ("SALES-EAST", ("销售代表", "Sales Representative")),
                ("MKT-DIG", ("市场专员", "Marketing Specialist")), ("FIN-ACC", ("会计", "Accountant")),
                ("IT-SEC", ("系统管理员", "System Administrator"))]
    for code, role in rng.sample(openings, 4):
        rows.append([_dname(code, lang), role[0] if lang == "zh" else role[1], str(rng.randint(1, 6)),
                     f"2026-{rng.randint(ctx.month, 12):02d}"])
    recruiter = _other(ctx)[0]
    title = _t(lang, f"2026年下半年招聘计划（{ctx.number}）", f"Hiring plan H2 2026 ({ctx.number})")
    blocks: list[Block] = [
        ("p", _t(lang, f"人力资源部招聘组根据各部门编制需求汇总如下，由{recruiter.name}统筹面试安排。",
                 f"Recruiting (Human Resources) consolidated the departments' requests below; {recruiter.name} "
                 "coordinates the interviews.")),
        ("table", rows),
        ("p", _t(lang, f"薪酬组将于每月5日前确认offer薪资范围。联系人：{ctx.owner.name}。",
                 f"Compensation & Payroll confirms offer ranges by the 5th of each month. Contact: {ctx.owner.name}.")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["docx", "xlsx"]))


def tech_design(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    reviewer = _other(ctx)[0]
    topic = rng.choice([("订单服务拆分", "order service split"), ("统一日志平台", "unified logging platform"),
                        ("移动端离线缓存", "mobile offline cache"),
                        ("数据中台指标体系", "data platform metrics layer")])
    qps = rng.choice([500, 1200, 3000, 8000])
    title = _t(lang, f"技术方案：{topic[0]}（RFC-{ctx.number}）", f"Design: {topic[1]} (RFC-{ctx.number})")
    blocks: list[Block] = [
        ("h", _t(lang, "背景", "Background")),
        ("p", _t(lang, f"现有系统峰值约{qps} QPS，单体部署导致发布窗口过长，影响ERP 系统升级项目排期。",
                 f"The current system peaks at about {qps} QPS; the monolith makes releases slow and delays the ERP "
                 "upgrade project.")),
        ("h", _t(lang, "方案", "Proposal")),
        ("p", _t(lang, "按业务边界拆分为独立服务，通过消息队列解耦，数据库按租户分库；灰度发布，保留回滚开关。",
                 "Split along business boundaries into services decoupled by a message queue, shard the database by "
                 "tenant, roll out gradually with a kill switch.")),
        ("h", _t(lang, "风险与评审", "Risks and review")),
        ("p", _t(lang, f"主要风险为数据迁移一致性。作者：{ctx.owner.name}；"
                       f"评审人：{reviewer.name}（{_dname(reviewer.dept, lang)}）。",
                 f"Main risk: consistency during data migration. Author: {ctx.owner.name}; reviewer: {reviewer.name} "
                 f"({_dname(reviewer.dept, lang)}).")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["md", "md", "docx"]))


def security_policy(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    days = rng.choice([60, 90, 180])
    title = _t(lang, f"信息安全管理规范 V{ctx.number % 5 + 1}.{ctx.number % 10}",
               f"Information Security Policy v{ctx.number % 5 + 1}.{ctx.number % 10}")
    blocks: list[Block] = [
        ("h", _t(lang, "账号与密码", "Accounts and passwords")),
        ("p", _t(lang, f"所有系统账号须启用双因素认证，密码每{days}天更换一次，离职员工账号由IT部在24小时内停用。",
                 f"Every system account uses two-factor authentication; passwords change every {days} days; IT "
                 "disables leavers' accounts within 24 hours.")),
        ("h", _t(lang, "数据分级", "Data classification")),
        ("p", _t(lang, "文档按公开、内部、机密、绝密四级管理；机密及以上文档不得通过个人邮箱或即时通讯工具外发。",
                 "Documents are public, internal, confidential or secret; confidential and secret files never leave "
                 "through personal mail or chat apps.")),
        ("p", _t(lang, f"本规范由信息安全组{ctx.owner.name}维护，违规事件请报告至IT-SEC。",
                 f"Maintained by {ctx.owner.name} of Information Security; report incidents to IT-SEC.")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["pdf", "docx"]))


def marketing_plan(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    city = rng.choice([("上海", "Shanghai"), ("杭州", "Hangzhou"), ("深圳", "Shenzhen"), ("北京", "Beijing")])
    spend = _money(rng, 50_000, 600_000, 5000)
    partner = _other(ctx)[0]
    title = _t(lang, f"{city[0]}品牌推广活动方案（{ctx.number}）", f"{city[1]} brand campaign plan ({ctx.number})")
    blocks: list[Block] = [
        ("p", _t(lang, f"配合品牌焕新项目，拟于{ctx.month}月在{city[0]}举办客户沙龙与线上直播，预算{spend:,}元。",
                 f"As part of the brand refresh, a client salon and a live stream in {city[1]} in "
                 f"{_month_en(ctx.month)}, budget CNY {spend:,}.")),
        ("table", [[_t(lang, "渠道", "Channel"), _t(lang, "占比", "Share")],
                   [_t(lang, "线下活动", "Events"), "40%"], [_t(lang, "社交媒体", "Social media"), "35%"],
                   [_t(lang, "行业媒体", "Trade press"), "25%"]]),
        ("p", _t(lang, f"负责人：{ctx.owner.name}；销售部对接人：{partner.name}。效果以线索数和转化率评估。",
                 f"Owner: {ctx.owner.name}; Sales contact: {partner.name}. Measured by leads and conversion.")),
    ]
    return DemoDoc(title, lang, blocks, rng.choice(["docx", "pdf", "md"]))


def supplier_review(ctx: Context) -> DemoDoc:
    lang, rng = ctx.lang, ctx.rng
    rows: list[list[Any]] = [[_t(lang, "供应商", "Supplier"), _t(lang, "质量", "Quality"), _t(lang, "交付", "Delivery"),
             _t(lang, "价格", "Price"), _t(lang, "综合", "Overall")]]
    for supplier in rng.sample(SUPPLIERS, 4):
        scores = [rng.randint(60, 98) for _ in range(3)]
        rows.append([supplier[0] if lang == "zh" else supplier[1], *scores, round(sum(scores) / 3, 1)])
    title = _t(lang, f"2026年度供应商评估表（{ctx.number}）", f"Supplier evaluation 2026 ({ctx.number})")
    blocks: list[Block] = [
        ("table", rows),
        ("p", _t(lang, f"评估人：{ctx.owner.name}（采购部）。"
                       "综合得分低于70分的供应商进入整改名单，由法务部复核合同条款。",
                 f"Evaluated by {ctx.owner.name} (Procurement). Suppliers below 70 go on the improvement list; Legal "
                 "reviews their contracts.")),
    ]
    return DemoDoc(title, lang, blocks, "xlsx")


def _month_en(month: int) -> str:
    return ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December"][month - 1]


# template, domain (None: the owner's department decides), departments the owner comes from, weight
TEMPLATES: list[tuple[Callable[[Context], DemoDoc], str | None, tuple[str, ...], int]] = [
    (expense_policy, "finance", ("FIN",), 2),
    (budget, "finance", ("FIN",), 2),
    (contract, "legal", ("LEGAL", "PROC"), 3),
    (supplier_review, "procurement", ("PROC",), 2),
    (sales_report, "business", ("SALES",), 3),
    (meeting_minutes, None, ("GMO", "FIN", "HR", "MKT", "SALES", "RND", "LEGAL", "PROC", "IT"), 5),
    (hiring_plan, "hr", ("HR",), 2),
    (tech_design, "rnd", ("RND",), 3),
    (security_policy, "it", ("IT",), 1),
    (marketing_plan, "marketing", ("MKT",), 2),
]
