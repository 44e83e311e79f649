//! The words of the data-quality checks (疑点) and of reviews.

use super::{Lang, pick};
use crate::domain::checks::{Check, Finding, Item, Rule};

/// A rule's name, for headings and the review queue.
pub fn rule_name(r: Rule, l: Lang) -> &'static str {
    match r {
        Rule::HouseholdsChanged => pick(l, "户数变化大", "households changed"),
        Rule::TreatedShareRose => pick(l, "治理比例陡增", "treated share jumped"),
        Rule::Gone => pick(l, "设施/养殖场/水体消失", "item gone"),
        Rule::RemediatedUnmeasured => pick(l, "治理完成无监测", "remediated, unmeasured"),
        Rule::RemediatedStillBlack => pick(l, "治理完成仍黑臭", "remediated, still black"),
        Rule::ScaleFarmUnequipped => pick(l, "规模场无设施满利用", "scale farm unequipped"),
        Rule::TooManyVillages => pick(l, "一天村数过多", "too many villages a day"),
        Rule::FarApart => pick(l, "同日乡镇过多", "too many townships a day"),
        Rule::CopiedForm => pick(l, "表格雷同", "copied form"),
        Rule::Incomplete => pick(l, "乡镇完成率低", "township incomplete"),
    }
}

fn item(i: Item, l: Lang) -> &'static str {
    match i {
        Item::Facility => pick(l, "污水处理设施", "sewage facility"),
        Item::Farm => pick(l, "养殖场", "farm"),
        Item::Water => pick(l, "列入名录的水体", "listed water body"),
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// What a check found, with its figures, in one sentence.
pub fn message(f: &Finding, l: Lang) -> String {
    use Finding::*;
    match (f, l) {
        (HouseholdsChanged { before, after, previous_visit }, Lang::Zh) => {
            format!("户数由上次调查（{}）的 {before} 变为 {after}", short(previous_visit))
        }
        (HouseholdsChanged { before, after, previous_visit }, Lang::En) => {
            format!("households went from {before} (visit {}) to {after}", short(previous_visit))
        }
        (TreatedShareRose { before, after, .. }, Lang::Zh) => {
            format!("治理户比例由 {before:.1}% 升至 {after:.1}%，却无新建或修复的设施")
        }
        (TreatedShareRose { before, after, .. }, Lang::En) => {
            format!("treated share rose from {before:.1}% to {after:.1}% with no new or repaired facility")
        }
        (Gone { item: i, id, previous_visit }, Lang::Zh) => {
            format!("上次调查（{}）的{} {id} 不见了，且无备注", short(previous_visit), item(*i, l))
        }
        (Gone { item: i, id, previous_visit }, Lang::En) => {
            format!("{} {id} of the previous visit ({}) is gone, with no note", item(*i, l), short(previous_visit))
        }
        (RemediatedUnmeasured { water_id }, Lang::Zh) => format!("水体 {water_id} 标为已治理，但无监测数据"),
        (RemediatedUnmeasured { water_id }, Lang::En) => {
            format!("water body {water_id} is marked remediated without measurements")
        }
        (RemediatedStillBlack { water_id }, Lang::Zh) => format!("水体 {water_id} 标为已治理，监测值仍达黑臭标准"),
        (RemediatedStillBlack { water_id }, Lang::En) => {
            format!(
                "water body {water_id} is marked remediated but its measurements still meet the black-odour criteria"
            )
        }
        (ScaleFarmUnequipped { farm_id }, Lang::Zh) => format!("规模养殖场 {farm_id} 粪污利用率 100%，却无处理设施"),
        (ScaleFarmUnequipped { farm_id }, Lang::En) => {
            format!("scale farm {farm_id} utilises 100 % of its manure without equipment")
        }
        (TooManyVillages { surveyor, date, villages, max }, Lang::Zh) => {
            format!("调查员 {surveyor} 在 {date} 调查了 {villages} 个村（上限 {max}）")
        }
        (TooManyVillages { surveyor, date, villages, max }, Lang::En) => {
            format!("surveyor {surveyor} recorded {villages} villages on {date} (at most {max})")
        }
        (FarApart { surveyor, date, townships, max }, Lang::Zh) => {
            format!(
                "调查员 {surveyor} 在 {date} 于 {} 个乡镇调查（上限 {max}）：{}",
                townships.len(),
                townships.join("、")
            )
        }
        (FarApart { surveyor, date, townships, max }, Lang::En) => {
            format!(
                "surveyor {surveyor} recorded visits in {} townships on {date} (at most {max}): {}",
                townships.len(),
                townships.join(", ")
            )
        }
        (CopiedForm { other_visit, other_village }, Lang::Zh) => {
            format!("各项数据与 {other_village} 村的调查（{}）完全相同", short(other_visit))
        }
        (CopiedForm { other_visit, other_village }, Lang::En) => {
            format!("every figure equals those of visit {} of village {other_village}", short(other_visit))
        }
        (Incomplete { visited, villages, min_pct }, Lang::Zh) => {
            format!("本轮仅 {visited}/{villages} 个村有调查（应不少于 {min_pct}%）")
        }
        (Incomplete { visited, villages, min_pct }, Lang::En) => {
            format!("only {visited} of {villages} villages have a visit in the round (at least {min_pct} % expected)")
        }
    }
}

/// A line for the table: place, rule, message.
pub fn line(c: &Check, l: Lang) -> String {
    let place = match (&c.village_code, &c.visit_id) {
        (Some(code), Some(v)) => format!("{code} {}", short(v)),
        _ => format!("{} {}", c.area, pick(l, "乡镇", "township")),
    };
    format!("{place}  {}: {}", rule_name(c.rule(), l), message(&c.finding, l))
}

/// The heading above the table of checks.
pub fn heading(n: usize, as_of: &str, l: Lang) -> String {
    match l {
        Lang::Zh => format!("截至 {as_of}：{n} 个疑点"),
        Lang::En => format!("As of {as_of}: {n} check(s) fired"),
    }
}

/// Why a review in a file to merge was refused.
pub fn review_refused(l: Lang, review: &str, visit: &str, why: &crate::store::error::ReviewReason) -> String {
    use crate::store::error::ReviewReason::*;
    let what = match (why, l) {
        (Field(f), Lang::Zh) => format!("{f} 无效"),
        (Field(f), Lang::En) => format!("{f} is not valid"),
        (IdMismatch, _) => pick(l, "编号与内容不符", "its id does not match its content").into(),
        (UnknownRevision(rev), Lang::Zh) => format!("所审核的版本 {rev} 本库和文件中都没有（或属于另一调查）"),
        (UnknownRevision(rev), Lang::En) => {
            format!("the revision it judged ({rev}) is held neither here nor in the file (or is of another visit)")
        }
        (Unsigned, _) => pick(l, "没有签名", "is not signed").into(),
        (BadSignature { fingerprint }, Lang::Zh) => format!("签名无效（密钥 {fingerprint}）"),
        (BadSignature { fingerprint }, Lang::En) => format!("its signature does not verify (key {fingerprint})"),
        (Relabelled, _) => {
            pick(l, "本库已有，但签名不同（被改写）", "is held here with another signature (re-labelled)").into()
        }
    };
    match l {
        Lang::Zh => format!("审核 {review}（调查 {visit}）：{what}"),
        Lang::En => format!("review {review} (visit {visit}): {what}"),
    }
}

/// The reviews a merged file brought.
pub fn reviews_merged(l: Lang, n: u64) -> String {
    match l {
        Lang::Zh => format!("  新审核记录 {n} 条"),
        Lang::En => format!("  {n} new review(s)"),
    }
}

/// Why a review was not recorded.
pub fn review_error(e: &crate::store::review::ReviewError, l: Lang) -> String {
    use crate::store::review::ReviewError::*;
    match (e, l) {
        (NoSuchVisit { visit_id }, Lang::Zh) => format!("没有调查 {visit_id}（或已删除）"),
        (NoSuchVisit { visit_id }, Lang::En) => format!("no visit {visit_id} (or it was deleted)"),
        (Note(r), _) => format!("{}: {}", pick(l, "备注", "note"), r.message(l)),
    }
}

/// A review state in words.
pub fn state_name(s: crate::domain::review::ReviewState, l: Lang) -> &'static str {
    use crate::domain::review::ReviewState::*;
    match s {
        Approved => pick(l, "通过", "approved"),
        Issues => pick(l, "有问题", "has issues"),
        Rejected => pick(l, "退回", "rejected"),
    }
}

/// Where a visit's current revision stands, in a few words.
pub fn standing(s: &crate::domain::review::Standing, l: Lang) -> String {
    use crate::domain::review::Standing::*;
    match s {
        Unreviewed => pick(l, "待审核", "waiting for review").into(),
        Agreed(x) => state_name(*x, l).into(),
        Disputed(states) => {
            let names: Vec<&str> = states.iter().map(|x| state_name(*x, l)).collect();
            match l {
                Lang::Zh => format!("审核意见不一：{}", names.join(" / ")),
                Lang::En => format!("reviewers disagree: {}", names.join(" / ")),
            }
        }
    }
}

/// What the crew sees on a visit sent back: "returned: <note>".
pub fn returned(note: &str, l: Lang) -> String {
    match l {
        Lang::Zh => format!("退回：{note}"),
        Lang::En => format!("returned: {note}"),
    }
}

/// A corrected revision waiting for a new review.
pub fn corrected_waiting(l: Lang) -> &'static str {
    pick(l, "已修改，待复审", "corrected, waiting for review")
}

/// The line `ruralsan review` prints.
pub fn reviewed_line(r: &crate::store::review::Review, l: Lang) -> String {
    let rev = r.rev_id.get(..8).unwrap_or(&r.rev_id);
    match l {
        Lang::Zh => format!("{}：版本 {rev} 审核为“{}”", r.visit_id, state_name(r.state, l)),
        Lang::En => format!("{}: revision {rev} reviewed as {}", r.visit_id, state_name(r.state, l)),
    }
}

// The county's review queue.

pub fn tab_review(l: Lang) -> &'static str {
    pick(l, "审核", "Review")
}
pub fn k_record(l: Lang) -> &'static str {
    pick(l, "记录", "record")
}
pub fn k_cancel(l: Lang) -> &'static str {
    pick(l, "取消", "cancel")
}
pub fn k_move(l: Lang) -> &'static str {
    pick(l, "选择", "select")
}
pub fn k_township(l: Lang) -> &'static str {
    pick(l, "按乡镇", "township")
}
pub fn k_crew(l: Lang) -> &'static str {
    pick(l, "按调查组", "crew")
}
pub fn h_village(l: Lang) -> &'static str {
    pick(l, "村", "village")
}
pub fn h_date(l: Lang) -> &'static str {
    pick(l, "日期", "date")
}
pub fn h_state(l: Lang) -> &'static str {
    pick(l, "状态", "state")
}
pub fn queue_empty(l: Lang) -> &'static str {
    pick(l, "没有待审核的调查", "No visit is waiting for review")
}
pub fn note_prompt(l: Lang) -> &'static str {
    pick(l, "备注", "note")
}
pub fn earlier_return(l: Lang) -> &'static str {
    pick(l, "上次退回：", "returned before:")
}

/// The queue's heading: how many are shown of how many, and the filters.
pub fn queue_heading(l: Lang, shown: usize, all: usize, township: Option<&str>, crew: Option<&str>) -> String {
    let mut out = match l {
        Lang::Zh => format!("待审核 {shown}/{all}（⚑ 有疑点的在前）"),
        Lang::En => format!("Waiting for review {shown}/{all} (⚑ flagged first)"),
    };
    if let Some(t) = township {
        out.push_str(&format!("  {}{t}", pick(l, "乡镇：", "township: ")));
    }
    if let Some(c) = crew {
        out.push_str(&format!("  {}{c}", pick(l, "调查组：", "crew: ")));
    }
    out
}

/// A visit's main figures in one line.
pub fn figures_line(v: &crate::domain::VisitData, l: Lang) -> String {
    match l {
        Lang::Zh => format!(
            "户数 {}，纳管 {}，资源化 {}，管控 {}；自然村 {}（垃圾覆盖 {}）；设施 {}，养殖场 {}，水体 {}",
            v.households,
            v.hh_sewer,
            v.hh_reuse,
            v.hh_controlled,
            v.natural_villages,
            v.nv_garbage_covered,
            v.facilities.len(),
            v.farms.len(),
            v.water_bodies.len()
        ),
        Lang::En => format!(
            "households {}, sewer {}, reuse {}, controlled {}; natural villages {} ({} covered); facilities {}, farms {}, water bodies {}",
            v.households,
            v.hh_sewer,
            v.hh_reuse,
            v.hh_controlled,
            v.natural_villages,
            v.nv_garbage_covered,
            v.facilities.len(),
            v.farms.len(),
            v.water_bodies.len()
        ),
    }
}
