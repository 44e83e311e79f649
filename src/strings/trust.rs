//! Words of identity, enrolment, signatures and the clock rule.

use super::{Lang, pick};

/// Names of revision metadata fields, as shown.
fn field(l: Lang, f: &str) -> &'static str {
    match f {
        "hlc" => pick(l, "时间戳", "stamp"),
        "device" => pick(l, "设备", "device"),
        "crew" => pick(l, "调查组", "crew"),
        "author" => pick(l, "录入人", "editor"),
        "signature" => pick(l, "签名", "signature"),
        _ => pick(l, "其他", "other"),
    }
}

pub fn relabelled(l: Lang, rev: &str, fields: &[&'static str]) -> String {
    let f: Vec<&str> = fields.iter().map(|f| field(l, f)).collect();
    match l {
        Lang::Zh => format!("版本 {rev} 本库已有，但文件中的{}不同（元数据被改写）", f.join("、")),
        Lang::En => {
            format!("revision {rev} is held here but the file states a different {} (re-labelled)", f.join(", "))
        }
    }
}

pub fn signature_format(l: Lang) -> &'static str {
    match l {
        Lang::Zh => "签名应为 128 位十六进制数字",
        Lang::En => "a signature is 128 hex digits",
    }
}

pub fn forged_merge(l: Lang, rev: &str) -> String {
    match l {
        Lang::Zh => format!("版本 {rev} 自称自动合并，但不是其父版本的合并结果（无人签名，予以拒绝）"),
        Lang::En => format!(
            "revision {rev} claims to be an automatic merge but is not the merge of its parents (signed by nobody)"
        ),
    }
}

pub fn unsigned(l: Lang, rev: &str, crew: &str) -> String {
    let crew = if crew.is_empty() { "?" } else { crew };
    match l {
        Lang::Zh => format!("版本 {rev}（{crew}）没有签名：只接受已登记调查组签名的版本"),
        Lang::En => {
            format!("revision {rev} ({crew}) is unsigned: only revisions signed by enrolled crews are accepted")
        }
    }
}

pub fn bad_signature(l: Lang, rev: &str, crew: &str, fp: &str) -> String {
    match l {
        Lang::Zh => format!("版本 {rev}（{crew}，指纹 {fp}）签名无效：内容或元数据被改动过"),
        Lang::En => format!("revision {rev} ({crew}, fingerprint {fp}) is badly signed: content or metadata altered"),
    }
}

pub fn not_enrolled(l: Lang, crew: &str, fp: &str, n: u64) -> String {
    match l {
        Lang::Zh => format!(
            "调查组 {crew}（指纹 {fp}）未登记：{n} 条签名记录（版本或审核）。核对指纹后用 ruralsan crews enrol 卡片文件，或 merge --enrol-new"
        ),
        Lang::En => format!(
            "crew {crew} (fingerprint {fp}) is not enrolled: {n} signed record(s) (revisions or reviews). Check the fingerprint, then ruralsan crews enrol CARD, or merge --enrol-new"
        ),
    }
}

pub fn revoked(l: Lang, crew: &str, fp: &str, n: u64) -> String {
    match l {
        Lang::Zh => format!("调查组 {crew}（指纹 {fp}）已被撤销：{n} 条新签名记录（版本或审核）不予接受"),
        Lang::En => format!(
            "crew {crew} (fingerprint {fp}) is revoked: {n} new signed record(s) (revisions or reviews) refused"
        ),
    }
}

/// A duration in days and hours (or minutes).
pub fn ahead(l: Lang, ms: i64) -> String {
    let mins = ms / 60_000;
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    match l {
        Lang::Zh if d > 0 => format!("{d} 天 {h} 小时"),
        Lang::Zh => format!("{h} 小时 {m} 分钟"),
        Lang::En if d > 0 => format!("{d} days {h} hours"),
        Lang::En => format!("{h} hours {m} minutes"),
    }
}

pub fn future_stamp(l: Lang, crew: &str, fp: &str, ms: i64) -> String {
    let a = ahead(l, ms);
    match l {
        Lang::Zh => format!(
            "调查组 {crew}（指纹 {fp}）的版本时间比本机时钟超前 {a}（上限 1 天）：该电脑时钟有误。校正时钟后在该电脑上运行 ruralsan restamp，再重新生成快照"
        ),
        Lang::En => format!(
            "crew {crew} (fingerprint {fp}) has revisions stamped {a} ahead of this computer's clock (at most 1 day): its clock is wrong. Fix the clock, run ruralsan restamp on that laptop, and make a new snapshot"
        ),
    }
}

pub fn clock_behind(l: Lang, newest: &str) -> String {
    match l {
        Lang::Zh => format!("警告：本机时钟早于本库最新版本的时间（{newest}）：请校正电脑时钟"),
        Lang::En => {
            format!("warning: this computer's clock is before the newest revision held ({newest}): fix the clock")
        }
    }
}

pub fn clock_far_ahead(l: Lang, newest: &str) -> String {
    match l {
        Lang::Zh => format!("警告：本机时钟比本库最新版本（{newest}）晚一年以上：请核对电脑时钟"),
        Lang::En => format!(
            "warning: this computer's clock is more than a year after the newest revision ({newest}): check the clock"
        ),
    }
}

/// Keys enrolled by a merge, one line each (after the merge's report).
pub fn render_enrolled(r: &crate::store::sync::MergeReport, l: Lang) -> String {
    use crate::store::sync::FileOutcome;
    let mut out = String::new();
    for f in &r.files {
        if let FileOutcome::Merged(x) = f {
            for e in &x.enrolled {
                out.push_str(&format!("{}: {}\n", x.file, enrolled_line(l, &e.name, &e.key)));
            }
            if x.adopted_legacy > 0 {
                let n = x.adopted_legacy;
                out.push_str(&match l {
                    Lang::Zh => format!("{}: 接受了 {n} 个升级前的无签名版本（--adopt-legacy）\n", x.file),
                    Lang::En => format!(
                        "{}: adopted {n} unsigned revision(s) from before the upgrade (--adopt-legacy)\n",
                        x.file
                    ),
                });
            }
        }
    }
    out
}

pub fn enrolled_line(l: Lang, name: &str, key: &str) -> String {
    let fp = crate::identity::spoken(key);
    let name = crate::text::one_line(name);
    match l {
        Lang::Zh => format!("已登记调查组 {name}，指纹 {fp}"),
        Lang::En => format!("enrolled crew {name}, fingerprint {fp}"),
    }
}

pub fn revoked_line(l: Lang, name: &str, key: &str, revisions: i64) -> String {
    let fp = crate::identity::spoken(key);
    let name = crate::text::one_line(name);
    match l {
        Lang::Zh => format!("已撤销调查组 {name}（指纹 {fp}）：今后的版本不予接受，已合并的 {revisions} 个版本保留"),
        Lang::En => format!(
            "revoked crew {name} (fingerprint {fp}): its future revisions are refused; the {revisions} merged stay"
        ),
    }
}

pub fn render_identity(
    id: &crate::identity::Identity,
    home: &std::path::Path,
    export: Option<&std::path::Path>,
    l: Lang,
) -> String {
    let name = if id.name().is_empty() {
        pick(l, "（未设置，用 --name 设置）", "(not set; set it with --name)").to_string()
    } else {
        crate::text::one_line(id.name())
    };
    let mut out = format!(
        "{}: {name}\n{}: {}\n{}: {}\n{}: {}\n",
        pick(l, "调查组名称", "crew name"),
        pick(l, "设备编号（公钥）", "device id (public key)"),
        id.key_id(),
        pick(l, "指纹（核对时念出）", "fingerprint (read aloud to check)"),
        crate::identity::spoken(&id.key_id()),
        pick(l, "身份文件夹", "identity folder"),
        home.display()
    );
    if let Some(f) = export {
        out.push_str(&format!("{}: {}\n", pick(l, "登记卡已写入", "crew card written to"), f.display()));
    }
    out
}

pub fn render_crews(keys: &[crate::store::trust::CrewKey], own: &str, l: Lang) -> String {
    let mut out = format!(
        "{}\t{}\t{}\t{}\t{}\n",
        pick(l, "名称", "name"),
        pick(l, "指纹", "fingerprint"),
        pick(l, "登记时间", "enrolled"),
        pick(l, "撤销时间", "revoked"),
        pick(l, "已合并版本", "revisions merged")
    );
    for k in keys {
        let by = if k.enrolled_by == own {
            String::new()
        } else {
            format!(" ({} {})", pick(l, "由", "certified by"), crate::identity::spoken(&k.enrolled_by))
        };
        out.push_str(&format!(
            "{}\t{}\t{}{by}\t{}\t{}\n",
            crate::text::one_line(&k.name),
            crate::identity::spoken(&k.key),
            k.enrolled_at,
            k.revoked_at.as_deref().unwrap_or("-"),
            k.revisions
        ));
    }
    if keys.is_empty() {
        out.push_str(pick(l, "（尚未登记任何调查组）\n", "(no crew enrolled yet)\n"));
    }
    out
}

pub fn restamp_line(l: Lang, r: &crate::store::trust::Restamped) -> String {
    match l {
        Lang::Zh => format!(
            "已重新标时并签名 {} 个本机版本、{} 个自动合并版本；其他设备超前的版本 {} 个（需在其电脑上运行 restamp）。请重新生成快照",
            r.restamped, r.merges, r.others_ahead
        ),
        Lang::En => format!(
            "restamped and signed again {} revision(s) of this installation, {} automatic merge(s); {} revision(s) of other installations still ahead (restamp on their laptops). Make a new snapshot",
            r.restamped, r.merges, r.others_ahead
        ),
    }
}

/// The clock warning shown at the crew app's start.
pub fn clock_warning(l: Lang, w: &crate::store::trust::ClockWarning) -> String {
    use crate::store::trust::ClockWarning::*;
    match w {
        Behind { newest } => clock_behind(l, newest),
        FarAhead { newest } => clock_far_ahead(l, newest),
    }
}

/// The county merge screen's question when a file's signers are not enrolled.
pub fn enrol_question(l: Lang) -> &'static str {
    pick(
        l,
        "以上调查组未登记。请与调查组核对名称和指纹：一致则按 E 登记并重新预检",
        "The crews above are not enrolled. Check their names and fingerprints with them: if they match, press E to enrol them and check again",
    )
}

pub fn k_enrol(l: Lang) -> &'static str {
    pick(l, "登记调查组", "enrol crews")
}
