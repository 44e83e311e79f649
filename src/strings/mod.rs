//! Every message a person reads, in Chinese (the default) and English.
//! Each renderer takes the language explicitly: there is no process-wide
//! language switch.

pub mod checks;
pub mod county;
pub mod errors;
pub mod input;
pub mod supervisor;
pub mod sync;
pub mod trust;

use crate::domain::validate::Reason;

pub mod tui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

pub fn pick(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

impl Reason {
    pub fn message(&self, lang: Lang) -> String {
        use Reason::*;
        let zh = lang == Lang::Zh;
        match self {
            Required => pick(lang, "必填", "is required").into(),
            NotInteger => pick(lang, "应为整数", "is not a whole number").into(),
            NotNumber => pick(lang, "应为数字", "is not a number").into(),
            Negative => pick(lang, "不能为负数", "must not be negative").into(),
            BadDate => pick(lang, "日期格式应为 YYYY-MM-DD", "is not a date of the form YYYY-MM-DD").into(),
            FutureDate => pick(lang, "日期不能晚于今天", "is after today").into(),
            TooLong(n) if zh => format!("不能超过 {n} 个字符"),
            TooLong(n) => format!("is longer than {n} characters"),
            TooLarge(max) if zh => format!("不能超过 {max}"),
            TooLarge(max) => format!("is more than {max}"),
            BadChar(c) if zh => format!("含有不允许的字符 U+{:04X}（控制字符、换行、双向控制或零宽字符）", *c as u32),
            BadChar(c) => format!(
                "holds the character U+{:04X}, which is not allowed (a control character, line break, bidi override or zero-width character)",
                *c as u32
            ),
            BadEnum(expected) if zh => format!("取值应为：{expected}"),
            BadEnum(expected) => format!("must be one of: {expected}"),
            BadBool => {
                pick(lang, "应为 1/0、true/false、yes/no 或 是/否", "must be 1/0, true/false, yes/no or 是/否").into()
            }
            BadCode => pick(lang, "应为 12 位统计用区划代码", "is not a 12-digit division code").into(),
            UnknownVillage => pick(lang, "不在名录中", "is not in the roster").into(),
            NotAVillage => pick(lang, "是社区，不是行政村", "is a community, not an administrative village").into(),
            HouseholdsExceeded { sum, households } if zh => {
                format!("纳管、资源化利用、管控户数与设施服务户数之和 {sum} 超过常住户数 {households}")
            }
            HouseholdsExceeded { sum, households } => format!(
                "sewered, reuse and controlled households plus households served by facilities make {sum}, more than the {households} households"
            ),
            CoveredExceedsNatural { covered, natural } if zh => {
                format!("垃圾收运覆盖自然村数 {covered} 超过自然村数 {natural}")
            }
            CoveredExceedsNatural { covered, natural } => {
                format!("{covered} covered natural villages, more than the {natural} natural villages")
            }
            PercentRange => pick(lang, "应在 0 到 100 之间", "must be between 0 and 100").into(),
            ManureRequired => {
                pick(lang, "该畜种没有排泄系数，必须填写实测粪污量", "is required for a species without coefficients")
                    .into()
            }
            DuplicateId => pick(lang, "编号在本次调查中重复", "appears twice in the same visit").into(),
            UnknownColumn => pick(lang, "未知的列", "is not a known column").into(),
            MissingColumn => pick(lang, "缺少此列", "column is missing").into(),
            DuplicateColumn => pick(lang, "列重复", "column appears twice").into(),
            UnknownVisit => pick(lang, "在 visits.csv 中找不到此调查", "names no visit of visits.csv").into(),
            DuplicateVisit => pick(lang, "调查编号重复", "appears twice in visits.csv").into(),
            Csv(e) if zh => format!("CSV 格式错误：{e}"),
            Csv(e) => format!("malformed CSV: {e}"),
            Malformed(m) => input::malformed(m, lang),
            ScientificCode => input::scientific_code(lang).into(),
        }
    }
}
