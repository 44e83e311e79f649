//! Every string of the county screens (merge crews' files, settle
//! conflicts, export), in Chinese and English.

use super::{Lang, pick};

macro_rules! s {
    ($($name:ident = $zh:literal, $en:literal;)+) => {
        $(pub fn $name(l: Lang) -> &'static str { pick(l, $zh, $en) })+
    };
}

s! {
    tab_sync = "合并数据", "Merge files";
    tab_conflicts = "冲突", "Conflicts";
    tab_export = "导出", "Export";
    path = "文件路径", "Path";
    path_hint = "输入 .db 文件或文件夹路径，Tab 补全", "type a .db file or a folder; Tab completes";
    folder = "文件夹", "Folder";
    parent = "上一级", "up";
    marked_title = "已选文件", "Files chosen";
    none_marked = "（尚未选择文件：在列表中按空格标记 .db 文件）", "(none yet: press Space on a .db file in the list)";
    empty_folder = "（此文件夹中没有 .db 文件或子文件夹）", "(no .db files or folders here)";
    unreadable_folder = "无法读取文件夹", "cannot read the folder";
    no_such_path = "路径不存在", "no such file or folder";
    not_db = "不是 .db 文件", "is not a .db file";
    mark_first = "请先选择要合并的 .db 文件（空格标记）", "First choose the .db files to merge (Space marks one)";
    preview_title = "预检结果（尚未写入任何数据）", "Dry run (nothing written yet)";
    preview_confirm = "按 Enter 或 y 合并以上文件，Esc 返回修改选择", "Press Enter or y to merge these files, Esc to change the choice";
    nothing_to_merge = "没有可以合并的文件", "Nothing here can be merged";
    merging = "正在合并…", "Merging…";
    done_title = "合并完成", "Merge done";
    done_hint = "Enter 继续选择文件　F6 查看冲突", "Enter choose more files   F6 see the conflicts";
    backup = "合并前已备份本地数据库到", "Backup of the local database taken first:";
    already = "此前已合并过，未作改动", "merged before; nothing changed";
    refused = "已拒绝，本地数据未改动", "refused; the local database is unchanged";
    refused_dry = "将被拒绝", "would be refused";
    open_conflicts = "未解决冲突", "Open conflicts";
    total = "合计", "Total";
    conflicts_none = "没有未解决的冲突", "No open conflicts";
    village = "村", "Village";
    visit = "调查", "Visit";
    fields_in_conflict = "冲突字段", "Fields in conflict";
    field = "字段", "Field";
    side = "版本", "Side";
    legend = "! 需选择　≠ 不同（已自动合并）　▶ 采用", "! to choose   ≠ differs (merged)   ▶ taken";
    deleted_label = "删除调查", "Visit deleted";
    deleted_value = "已删除", "deleted";
    kept_value = "保留", "kept";
    absent = "（无）", "(none)";
    choose_all = "请为每个 ! 字段选择一方（←→），或按数字键采用整个版本", "Choose a side for every ! field (←→), or press a number to take a whole side";
    resolved = "冲突已解决", "Conflict settled";
    taking_side = "采用整个版本", "Taking whole side";
    field_by_field = "逐字段选择", "Field by field";
    chosen = "已选", "chosen";
    export_csv = "CSV 数据包（文件夹）", "CSV bundle (folder)";
    export_snapshot = "U 盘快照（.db 文件）", "Snapshot for the stick (.db file)";
    export_xlsx = "汇总报表（.xlsx 文件）", "Spreadsheet report (.xlsx file)";
    export_intro = "选择要导出的内容，确认路径后按 Enter", "Choose what to export, check the path, press Enter";
    export_failed = "导出失败", "Export failed";
    help_title = "帮助 · 县级", "Help · county";
    k_tabs = "F5/F6/F7 合并/冲突/导出", "F5/F6/F7 merge/conflicts/export";
    k_move = "选择", "select";
    k_open = "打开/标记", "open/mark";
    k_mark = "标记", "mark";
    k_up = "上一级", "up";
    k_complete = "补全", "complete";
    k_list = "到列表", "to list";
    k_input = "到路径", "to path";
    k_check = "预检", "dry run";
    k_merge = "合并", "merge";
    k_back = "返回", "back";
    k_continue = "继续", "continue";
    k_view = "查看", "view";
    k_side = "选择一方", "choose side";
    k_take = "采用整个版本", "take side";
    k_next_conflict = "下一冲突", "next !";
    k_apply = "解决", "settle";
    k_run = "导出", "export";
    k_item = "选择项目", "choose item";
    k_help = "帮助", "help";
    list_sep = "、", ", ";
}

/// The help lines of the county screens.
pub fn help(l: Lang) -> &'static [&'static str] {
    match l {
        Lang::Zh => &[
            "F5 合并数据　F6 冲突　F7 导出　F9 审核",
            "合并数据：输入路径（Tab 补全）或在列表中浏览 U 盘；",
            "  Enter 打开文件夹，空格标记 .db 文件，Backspace 上一级；",
            "  F8 预检（不写入），再按 Enter 合并；合并前自动备份本地数据库。",
            "冲突：Enter 查看两方差异；←→ 为 ! 字段选择一方，",
            "  数字键 1、2… 采用整个版本，Enter 解决，Esc 返回列表。",
            "导出：↑↓ 选择 CSV 数据包、U 盘快照或汇总报表，",
            "  修改路径（Tab 补全）后按 Enter 导出。",
            "审核：有疑点（⚑）的在前；a 通过、i 有问题、r 退回，写备注后 Enter；",
            "  t 按乡镇、c 按调查组筛选（再按切换，转一圈取消）。",
            "任何界面：F2 村组调查　F3 县级汇总/合并　F4 督导看板　Ctrl-Q 退出",
        ],
        Lang::En => &[
            "F5 merge files   F6 conflicts   F7 export   F9 review",
            "Merge: type a path (Tab completes) or browse a USB stick in the list;",
            "  Enter opens a folder, Space marks a .db file, Backspace goes up;",
            "  F8 dry run (writes nothing), then Enter merges; a backup is taken first.",
            "Conflicts: Enter shows the sides; ←→ chooses a side for a ! field,",
            "  1, 2… take a whole side, Enter settles, Esc back to the list.",
            "Export: ↑↓ choose CSV bundle, snapshot for the stick or report,",
            "  edit the path (Tab completes), Enter exports.",
            "Review: flagged (⚑) first; a approve, i has issues, r reject, a note, Enter;",
            "  t filters by township, c by crew (press again for the next, round to none).",
            "Anywhere: F2 crew survey   F3 county merge   F4 supervisor   Ctrl-Q quit",
        ],
    }
}

/// "new visits 3 · new revisions 5 · …" of one merged file.
#[allow(clippy::too_many_arguments)]
pub fn file_counts(
    l: Lang,
    revisions: u64,
    new_revisions: u64,
    new_visits: u64,
    auto_merged: u64,
    conflicts: u64,
    roster_added: u64,
) -> String {
    match l {
        Lang::Zh => format!(
            "修订 {revisions}（新 {new_revisions}）· 新调查 {new_visits} · 自动合并 {auto_merged} · 冲突 {conflicts} · 新增名录 {roster_added}"
        ),
        Lang::En => format!(
            "revisions {revisions} (new {new_revisions}) · new visits {new_visits} · auto-merged {auto_merged} · conflicts {conflicts} · roster added {roster_added}"
        ),
    }
}

/// "merged 2, already merged 0, refused 1".
pub fn outcome_counts(l: Lang, merged: usize, already: usize, refused: usize, dry_run: bool) -> String {
    match (l, dry_run) {
        (Lang::Zh, true) => format!("可合并 {merged} 个 · 已合并过 {already} 个 · 将拒绝 {refused} 个"),
        (Lang::Zh, false) => format!("已合并 {merged} 个 · 已合并过 {already} 个 · 已拒绝 {refused} 个"),
        (Lang::En, true) => format!("{merged} to merge · {already} merged before · {refused} to refuse"),
        (Lang::En, false) => format!("{merged} merged · {already} merged before · {refused} refused"),
    }
}

/// "file 2 of 3".
pub fn progress(l: Lang, done: usize, total: usize) -> String {
    match l {
        Lang::Zh => format!("{done}/{total} 个文件"),
        Lang::En => format!("{done} of {total} files"),
    }
}

/// "N files chosen".
pub fn n_marked(l: Lang, n: usize) -> String {
    match l {
        Lang::Zh => format!("已选 {n} 个文件"),
        Lang::En => format!("{n} file(s) chosen"),
    }
}

/// The line under an already-merged file.
pub fn merged_before(l: Lang, at: &str, first_name: &str) -> String {
    match l {
        Lang::Zh => format!("{at} 以 {first_name} 合并过，未作改动"),
        Lang::En => format!("merged on {at} as {first_name}; nothing changed"),
    }
}

/// What a CSV export wrote.
pub fn wrote_csv(l: Lang, path: &str, villages: u64, visits: u64, facilities: u64, farms: u64, water: u64) -> String {
    match l {
        Lang::Zh => format!(
            "已导出到 {path}：名录 {villages} 个单位，调查 {visits} 次，设施 {facilities}，养殖场 {farms}，水体 {water}"
        ),
        Lang::En => format!(
            "Written to {path}: {villages} roster units, {visits} visits, {facilities} facilities, {farms} farms, {water} water bodies"
        ),
    }
}

/// What a snapshot wrote.
pub fn wrote_snapshot(l: Lang, path: &str, visits: i64, revisions: i64, bytes: u64) -> String {
    let kb = bytes.div_ceil(1024);
    match l {
        Lang::Zh => format!("快照已写入 {path}：调查 {visits} 次，修订 {revisions} 条，{kb} KB"),
        Lang::En => format!("Snapshot written to {path}: {visits} visits, {revisions} revisions, {kb} KB"),
    }
}

/// What the spreadsheet report wrote.
pub fn wrote_xlsx(l: Lang, path: &str, counties: usize, townships: usize, villages: usize) -> String {
    match l {
        Lang::Zh => format!("报表已写入 {path}：区县 {counties} 个，乡镇 {townships} 个，村 {villages} 个"),
        Lang::En => {
            format!("Report written to {path}: {counties} counties, {townships} townships, {villages} villages")
        }
    }
}

/// "Side A: device · author · time".
/// A side's column title: its crew, editor, time and the file it came in.
/// The column of the value both sides started from.
pub fn base_title(l: Lang) -> &'static str {
    match l {
        Lang::Zh => "原值",
        Lang::En => "Base",
    }
}

pub fn side_title(l: Lang, n: usize, crew: &str, author: &str, when: &str, file: Option<&str>) -> String {
    let crew = crate::text::one_line(if crew.is_empty() { "?" } else { crew });
    let author = crate::text::one_line(author);
    let file = file.map(|f| {
        let name = std::path::Path::new(f).file_name().map_or(f.to_string(), |n| n.to_string_lossy().into_owned());
        crate::text::one_line(&name)
    });
    match l {
        Lang::Zh => format!("{n}: {crew} {author} {when} {}", file.unwrap_or_else(|| "本机".into())),
        Lang::En => format!("{n}: {crew} {author} {when} {}", file.unwrap_or_else(|| "here".into())),
    }
}

/// "N open conflicts".
pub fn n_conflicts(l: Lang, n: usize) -> String {
    match l {
        Lang::Zh => format!("未解决冲突 {n} 个"),
        Lang::En => format!("{n} open conflict(s)"),
    }
}

/// "facilities fac-1 · status".
pub fn child_field(l: Lang, list: &str, id: &str, field: &str) -> String {
    let list = match list {
        "facilities" => pick(l, "设施", "facility"),
        "farms" => pick(l, "养殖场", "farm"),
        _ => pick(l, "水体", "water"),
    };
    format!("{list} {id} · {}", super::tui::field(l, field))
}
