//! Every string of the supervisor views (dashboard, drill-down, as-of input,
//! trend, visit list) and of the role bar, in Chinese and English.

use super::{Lang, pick};
use crate::domain::Level;
use crate::domain::indicators::Indicator;

macro_rules! text {
    ($($(#[$m:meta])* $name:ident = $zh:literal, $en:literal;)+) => {
        $($(#[$m])* pub fn $name(lang: Lang) -> &'static str { pick(lang, $zh, $en) })+
    };
}

text! {
    role_crew = "村组调查", "Crew survey";
    role_county = "县级汇总/合并", "County merge";
    role_supervisor = "督导看板", "Supervisor";
    app_name = "农村人居环境整治调查", "ruralsan";
    total = "合计", "Total";
    national = "全部", "All";
    as_of = "截至", "As of";
    sort = "排序", "Sort";
    below_first = "未达标优先", "below target first";
    met = "达标", "met";
    missed = "未达标", "missed";
    no_data = "无数据", "no data";
    target = "目标", "target";
    col_name = "名称", "Name";
    col_code = "代码", "Code";
    col_surveyed = "已调查/村", "Surveyed";
    col_dup = "重复", "Dup";
    col_conflicts = "冲突", "Confl";
    col_review = "审核/疑点", "Appr/Flag";
    detail_title = "对照目标", "Against targets";
    empty = "此处没有行政村", "No administrative villages here";
    visits_title = "调查记录（新→旧，只读）", "Visits (newest first, read-only)";
    no_visits = "该村尚无调查记录", "No visits of this village yet";
    v_date = "调查日期", "Date";
    v_surveyor = "调查员", "Surveyor";
    v_households = "常住户", "Households";
    v_treated = "纳管+利用", "Sewer+reuse";
    v_controlled = "管控", "Controlled";
    v_garbage = "垃圾覆盖/自然村", "Garbage nv";
    v_counts = "状态", "Status";
    v_notes = "备注", "Notes";
    v_facilities = "设施 正常/总", "Facilities ok/all";
    v_farms = "养殖场", "Farms";
    v_water = "水体", "Water";
    v_counting = "计入", "counts";
    v_duplicate = "同日重复", "same-day dup";
    v_after = "晚于截至日", "after as-of";
    v_older = "旧记录", "older";
    date_title = "截至日期", "As-of date";
    date_hint = "YYYY-MM-DD，回车确认，Esc 取消", "YYYY-MM-DD, Enter to apply, Esc to cancel";
    trend_title = "趋势", "Trend";
    computing = "计算中…", "computing…";
    cancelled = "已取消计算 · F5 重新计算", "Computation cancelled · F5 to compute again";
    k_stop = "取消计算", "cancel";
    k_recompute = "重新计算", "recompute";
    trend_none = "该地区尚无调查记录，无法绘制趋势", "No visits in this area yet: nothing to plot";
    help_title = "帮助", "Help";
    help_roles = "角色切换", "Switch role";
    help_close = "按任意键关闭", "Press any key to close";
    k_move = "移动", "move";
    k_drill = "进入下级", "drill down";
    k_back = "返回上级", "back";
    k_sort = "换排序列", "sort column";
    k_reverse = "反向排序", "reverse";
    k_below = "未达标优先", "below target first";
    k_date = "截至日期", "as-of date";
    k_trend = "趋势", "trend";
    k_indicator = "换指标", "indicator";
    k_help = "帮助", "help";
    k_quit = "退出", "quit";
    k_apply = "确认", "apply";
    k_cancel = "取消", "cancel";
}

/// The short column header of an indicator.
/// The flagged count as shown: the number, `computing` while the checks
/// run, "-" when they did not.
fn flagged_text(flagged: Option<i64>, computing: bool, computing_word: &str) -> String {
    match (flagged, computing) {
        (Some(n), _) => n.to_string(),
        (None, true) => computing_word.to_string(),
        (None, false) => "-".to_string(),
    }
}

/// The review standing of an area's counting visits: how many are
/// approved, and how many flagged by a check (`None`: not counted yet;
/// `computing`: the checks are running).
pub fn review_line(lang: Lang, approved: i64, surveyed: i64, flagged: Option<i64>, computing: bool) -> String {
    let flagged = flagged_text(flagged, computing, self::computing(lang));
    match lang {
        Lang::Zh => format!("审核通过 {approved}/{surveyed} 个计入调查 · 疑点 {flagged}"),
        Lang::En => format!("approved {approved} of {surveyed} counting visits · flagged {flagged}"),
    }
}

/// A review cell: approved/flagged ("…" while the checks run, "-" when not run).
pub fn review_cell(approved: i64, flagged: Option<i64>, computing: bool) -> String {
    format!("{approved}/{}", flagged_text(flagged, computing, "…"))
}

pub fn indicator_short(i: Indicator, lang: Lang) -> &'static str {
    match i {
        Indicator::Sewage => pick(lang, "污水", "Sewage"),
        Indicator::Garbage => pick(lang, "垃圾", "Garbage"),
        Indicator::Manure => pick(lang, "粪污", "Manure"),
        Indicator::BlackOdor => pick(lang, "黑臭", "Odour"),
        Indicator::Equipping => pick(lang, "配套", "Equip"),
    }
}

/// The full name of an indicator.
pub fn indicator_name(i: Indicator, lang: Lang) -> &'static str {
    crate::report::summary::indicator_name(i, lang)
}

/// The name of a level (plural sense, for titles).
pub fn level_name(level: Level, lang: Lang) -> &'static str {
    match level {
        Level::Province => pick(lang, "省", "Provinces"),
        Level::City => pick(lang, "市", "Cities"),
        Level::County => pick(lang, "县(区)", "Counties"),
        Level::Township => pick(lang, "乡镇(街道)", "Townships"),
        Level::Village => pick(lang, "行政村", "Villages"),
    }
}

/// "N areas" after a level title.
pub fn count_areas(n: usize, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{n} 个"),
        Lang::En => format!("{n}"),
    }
}

/// The message for an as-of date that is not a date.
pub fn bad_date(lang: Lang) -> &'static str {
    pick(lang, "日期格式应为 YYYY-MM-DD", "not a date of the form YYYY-MM-DD")
}

/// A quarter's label, e.g. 2025Q4.
pub fn quarter(year: i32, q: u32) -> String {
    format!("{year}Q{q}")
}

/// Province-level divisions by the first two digits of the division code
/// (GB/T 2260); the roster names no province, so the dashboard does.
const PROVINCES: [(&str, &str, &str); 31] = [
    ("11", "北京市", "Beijing"),
    ("12", "天津市", "Tianjin"),
    ("13", "河北省", "Hebei"),
    ("14", "山西省", "Shanxi"),
    ("15", "内蒙古自治区", "Inner Mongolia"),
    ("21", "辽宁省", "Liaoning"),
    ("22", "吉林省", "Jilin"),
    ("23", "黑龙江省", "Heilongjiang"),
    ("31", "上海市", "Shanghai"),
    ("32", "江苏省", "Jiangsu"),
    ("33", "浙江省", "Zhejiang"),
    ("34", "安徽省", "Anhui"),
    ("35", "福建省", "Fujian"),
    ("36", "江西省", "Jiangxi"),
    ("37", "山东省", "Shandong"),
    ("41", "河南省", "Henan"),
    ("42", "湖北省", "Hubei"),
    ("43", "湖南省", "Hunan"),
    ("44", "广东省", "Guangdong"),
    ("45", "广西壮族自治区", "Guangxi"),
    ("46", "海南省", "Hainan"),
    ("50", "重庆市", "Chongqing"),
    ("51", "四川省", "Sichuan"),
    ("52", "贵州省", "Guizhou"),
    ("53", "云南省", "Yunnan"),
    ("54", "西藏自治区", "Xizang"),
    ("61", "陕西省", "Shaanxi"),
    ("62", "甘肃省", "Gansu"),
    ("63", "青海省", "Qinghai"),
    ("64", "宁夏回族自治区", "Ningxia"),
    ("65", "新疆维吾尔自治区", "Xinjiang"),
];

/// The name of a province by its two-digit code.
pub fn province_name(code: &str, lang: Lang) -> Option<&'static str> {
    PROVINCES.iter().find(|(c, _, _)| *c == code).map(|(_, zh, en)| pick(lang, zh, en))
}
