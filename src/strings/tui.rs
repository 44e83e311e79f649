//! Every string the terminal UI shows, in Chinese and English.

use super::{Lang, pick};
use crate::domain::indicators::OdorFailure;

macro_rules! s {
    ($($name:ident = $zh:literal, $en:literal;)+) => {
        $(pub fn $name(l: Lang) -> &'static str { pick(l, $zh, $en) })+
    };
}

s! {
    title = "农村人居环境调查", "Rural sanitation survey";
    all_counties = "全部区县", "All counties";
    search = "搜索", "Search";
    search_hint = "输入村名或代码筛选", "type a name or code to filter";
    code = "代码", "Code";
    name = "名称", "Name";
    last_visit = "最近调查", "Last visit";
    sewage = "污水治理", "Sewage";
    treated = "已治理", "treated";
    not_treated = "未治理", "not treated";
    not_surveyed = "未调查", "not surveyed";
    community = "社区", "community";
    community_not_surveyed = "社区·不调查", "community ✗";
    place = "所属乡镇·区县", "Township · county";
    more = "…（继续向下翻看更多）", "… (move down for more)";
    nothing = "没有匹配的单位", "Nothing matches";
    community_refused = "社区不是行政村，不做调查", "A community is not an administrative village; it is not surveyed";
    visits = "调查记录", "Visits";
    date = "日期", "Date";
    surveyor = "调查人", "Surveyor";
    households = "户数", "Households";
    children = "设施/养殖场/水体", "Facilities/farms/water";
    no_visits = "尚无调查记录，按 n 新建", "No visits yet; press n to add one";
    new_visit = "新调查", "New visit";
    conflict = "有冲突，待县级处理（F3 冲突）", "conflict: to be settled by the county (F3, conflicts)";
    edit_visit = "编辑调查", "Edit visit";
    sec_village = "村庄情况", "Village";
    sec_facilities = "污水设施", "Sewage facilities";
    sec_farms = "养殖场", "Livestock farms";
    sec_water = "黑臭水体", "Water bodies";
    no_rows = "（无，按 a 添加）", "(none; press a to add)";
    no_figure = "—", "—";
    from_facilities = "（由设施服务户数引起）", " (caused by the households served by facilities)";
    treated_share = "治理户数占比", "Treated share";
    share_short = "治理占比", "Treated";
    counts_treated = "计为已治理村", "counts as treated";
    counts_not_treated = "未达到治理标准", "does not count as treated";
    garbage_coverage = "垃圾收运自然村覆盖率", "Garbage coverage (natural villages)";
    manure = "粪污", "manure";
    tonnes = "吨/年", "t/yr";
    scale_farm = "规模场", "scale farm";
    utilized = "利用", "utilized";
    not_scale = "非规模", "not scale";
    black_odor = "黑臭", "black-odorous";
    not_black_odor = "不黑臭", "not black-odorous";
    relapsed = "返黑返臭", "relapsed";
    remediated = "已消除", "remediated";
    served = "服务", "serves";
    hh_unit = "户", "hh";
    yes = "是", "yes";
    no = "否", "no";
    saved = "已保存", "Saved";
    unchanged = "内容未变，未写入", "Nothing changed; nothing written";
    deleted = "已删除", "Deleted";
    cannot_save = "无法保存，请先改正", "Cannot save; first fix";
    problems_unit = "处问题", "problem(s)";
    confirm_delete_visit = "删除这次调查？", "Delete this visit?";
    confirm_delete_row = "删除这一行？", "Delete this row?";
    confirm_same_day = "这个村今天已有一次调查，再建一次会算作重复调查。仍要新建吗？", "This village has a visit on this day already; another would count as a duplicate visit. Add it anyway?";
    confirm_discard = "有未保存的修改，放弃吗？", "There are unsaved changes. Discard them?";
    confirm_draft = "发现上次未保存的草稿，恢复吗？", "An unsaved draft from last time was found. Restore it?";
    confirm_keys = "y 是　n 否", "y yes   n no";
    draft_saved_at = "草稿保存于", "draft saved";
    draft_discarded = "草稿已丢弃", "Draft discarded";
    help_title = "帮助", "Help";
    day_title = "今日工作", "The day's work";
    day_needs_township = "先进入本乡镇（或打开其中一个村），再按 Ctrl-T", "First open your township (or one of its villages), then press Ctrl-T";
    round_start = "本轮起始日", "Round started";
    saved_today = "今天已保存", "Saved today";
    visits_unit = "次调查", "visit(s)";
    nothing_saved_today = "今天还没有保存调查", "Nothing saved today yet";
    returned_visits = "县里退回待改", "Returned for correction";
    to_visit = "本轮尚未调查的村", "Villages not visited this round";
    all_visited = "本轮各村都已调查", "Every village has been visited this round";
    date_hint = "输入日期后按 Enter，Esc 取消", "type a date, Enter to set, Esc to cancel";
    error = "错误", "Error";
    no_terminal = "终端界面需要在终端中运行", "the terminal UI needs a terminal";
}

/// The help screen, one line each.
pub fn help(l: Lang) -> &'static [&'static str] {
    match l {
        // No characters of ambiguous width (→ ↑ ↓ ← · …): a terminal on
        // Chinese Windows draws them two columns wide and pushes the box's
        // right border out of line.
        Lang::Zh => &[
            "村庄浏览：区县 ＞ 乡镇 ＞ 村；直接输入村名、代码或拼音（如 xhc）即可筛选。",
            "  Enter 打开　Esc 返回上一级　上下键 PgUp PgDn 移动　Ctrl-T 今日工作",
            "调查记录：Enter 编辑　n 新建（复制上次调查）　d 删除",
            "调查表：",
            "  Tab / Shift-Tab / 上下键 移动字段，最后一个字段后进入下一分区",
            "  PgUp / PgDn 切换分区；左右键 移动光标，选项字段用左右键或空格切换",
            "  刚进入的数字直接输入即替换；Ctrl-U 清空　Ctrl-W 删词　Home/End",
            "  备注可写多行（Enter 换行，Tab 离开）",
            "  列表分区：a 添加　d 删除　Enter 编辑一行",
            "  Ctrl-S 保存（有错误时拒绝保存）；Esc 返回（有修改时先询问）",
            "  输入过程自动保存草稿，断电后下次启动可恢复。",
            "任何界面：F1 帮助　F2 村组调查　F3 县级汇总/合并　F4 督导看板　Ctrl-Q 退出",
        ],
        Lang::En => &[
            "Village browser: county → township → village; type a name, code or pinyin (xhc).",
            "  Enter open   Esc up one level   ↑↓ PgUp PgDn move   Ctrl-T the day's work",
            "Visits: Enter edit   n new (copied from the last visit)   d delete",
            "Visit form:",
            "  Tab / Shift-Tab / ↑↓ move between fields; after the last, the next section",
            "  PgUp / PgDn change section; ←→ move the cursor, or change an option (also Space)",
            "  Typing into a value just reached replaces it; Ctrl-U clear  Ctrl-W word  Home/End",
            "  Notes take several lines (Enter new line, Tab leaves)",
            "  List sections: a add   d delete   Enter edit a row",
            "  Ctrl-S save (refused while anything is invalid); Esc back (asks if unsaved)",
            "  A draft is kept as you type; after a power cut it is offered back.",
            "Anywhere: F1 help   F2 crew survey   F3 county merge   F4 supervisor   Ctrl-Q quit",
        ],
    }
}

/// The label of a form field, by its column name.
pub fn field(l: Lang, key: &str) -> &'static str {
    let (zh, en) = match key {
        "village_code" => ("村代码", "Village code"),
        "survey_date" => ("调查日期", "Survey date"),
        "surveyor" => ("调查人", "Surveyor"),
        "households" => ("常住户数", "Households"),
        "hh_sewer" => ("纳管户数", "Sewered hh"),
        "hh_reuse" => ("资源化利用户数", "Reuse hh"),
        "hh_controlled" => ("管控户数", "Controlled hh"),
        "natural_villages" => ("自然村数", "Natural villages"),
        "nv_garbage_covered" => ("垃圾覆盖自然村", "Garbage-covered NV"),
        "notes" => ("备注", "Notes"),
        "facility_id" | "farm_id" | "water_id" => ("编号", "Id"),
        "kind" => ("类型", "Kind"),
        "households_served" => ("服务户数", "Households served"),
        "status" => ("状态", "Status"),
        "capacity_m3_d" => ("处理能力 m³/d", "Capacity m³/d"),
        "name" => ("名称", "Name"),
        "species" => ("畜种", "Species"),
        "head_on_hand" => ("存栏", "Head on hand"),
        "annual_out" => ("年出栏", "Annual output"),
        "manure_t" => ("实测粪污 吨/年", "Measured manure t/yr"),
        "utilized_pct" => ("综合利用 %", "Utilized %"),
        "facility_equipped" => ("配套处理设施", "Facility equipped"),
        "area_m2" => ("面积 m²", "Area m²"),
        "length_m" => ("长度 m", "Length m"),
        "depth_cm" => ("水深 cm", "Depth cm"),
        "transparency_cm" => ("透明度 cm", "Transparency cm"),
        "do_mg_l" => ("溶解氧 mg/L", "Dissolved O₂ mg/L"),
        "nh3n_mg_l" => ("氨氮 mg/L", "Ammonia N mg/L"),
        "listed" => ("监管清单", "Listed"),
        _ => ("?", "?"),
    };
    pick(l, zh, en)
}

// The crew's key bar: what each key does (the keys themselves are not words).
s! {
    k_select = "选择", "select";
    k_open = "打开", "open";
    k_back = "返回", "back";
    k_type_to_search = "输入即搜索", "type to search";
    k_help = "帮助", "help";
    k_quit = "退出", "quit";
    k_edit = "编辑", "edit";
    k_new = "新建", "new";
    k_delete = "删除", "delete";
    k_field = "字段", "field";
    k_cursor = "光标/选项", "cursor/option";
    k_section = "分区", "section";
    k_save = "保存", "save";
    k_add = "添加", "add";
    k_to_list = "回到列表", "back to list";
    k_yes = "是", "yes";
    k_no = "否", "no";
    k_cancel = "取消", "cancel";
    k_close_help = "关闭帮助", "close help";
    k_round_start = "本轮起始日", "round start";
    k_day = "今日", "today";
}

/// A number of a measurement as people write it: at most one decimal, no
/// trailing zero (18, 8, 1.5).
fn num(x: f64) -> String {
    let t = format!("{x:.1}");
    t.strip_suffix(".0").map(str::to_string).unwrap_or(t)
}

/// Which measurement made a water body black-odorous: "透明度 18 cm < 25 cm".
pub fn odor_failure(l: Lang, f: &OdorFailure) -> String {
    match *f {
        OdorFailure::Transparency { value, limit } => {
            format!("{} {} cm < {} cm", pick(l, "透明度", "transparency"), num(value), num(limit))
        }
        OdorFailure::DissolvedOxygen { value, limit } => {
            format!("{} {} mg/L < {} mg/L", pick(l, "溶解氧", "dissolved O₂"), num(value), num(limit))
        }
        OdorFailure::Ammonia { value, limit } => {
            format!("{} {} mg/L > {} mg/L", pick(l, "氨氮", "ammonia N"), num(value), num(limit))
        }
    }
}

/// The banner of a visit copied forward, until it is saved.
pub fn copied_banner(l: Lang, date: &str, surveyor: &str) -> String {
    match l {
        Lang::Zh => format!("复制自 {date} {surveyor} 的调查：只改变化的项，保存前请核对"),
        Lang::En => format!("Copied from the visit of {date} by {surveyor}; check before saving"),
    }
}
