//! `ruralsan summary` output: JSON exactly as SPEC §5, a CSV row per area,
//! and a table for people.

use serde_json::{Value, json};

use crate::domain::indicators::{Figures, Indicator, misses_target};
use crate::domain::settings::Settings;
use crate::store::summary::Summary;
use crate::strings::{Lang, pick};
use crate::text;

fn area_json(level: &str, code: &str, name: &str, f: &Figures, flagged_checked: bool) -> Value {
    let r = f.rates();
    json!({
        "level": level, "code": code, "name": name,
        "villages": f.villages, "surveyed": f.surveyed, "duplicate_visits": f.duplicate_visits,
        // `null`: the checks were not run (`summary --flagged` runs them).
        "review": {"approved": f.approved, "flagged": flagged_checked.then_some(f.flagged)},
        "sewage": {
            "villages_treated": f.villages_treated, "villages_controlled": f.villages_controlled,
            "rate": r.sewage, "controlled_rate": r.sewage_controlled,
            "households_treated": f.households_treated, "households": f.households, "household_rate": r.household,
        },
        "facilities": {"normal": f.facilities_normal, "total": f.facilities_total, "rate": r.facilities},
        "garbage": {"covered": f.nv_covered, "natural_villages": f.natural_villages, "rate": r.garbage},
        "manure": {
            "produced_t": f.produced_t, "utilized_t": f.utilized_t, "rate": r.manure,
            "scale_farms": f.scale_farms, "scale_farms_equipped": f.scale_farms_equipped, "equipping_rate": r.equipping,
        },
        "black_odor": {
            "listed": f.water_listed, "remediated": f.water_remediated, "relapsed": f.water_relapsed, "rate": r.black_odor,
        },
    })
}

fn settings_json(s: &Settings) -> Value {
    let t = &s.targets;
    json!({
        "village_threshold": s.village_threshold,
        "targets": {"sewage": t.sewage, "garbage": t.garbage, "manure": t.manure, "black_odor": t.black_odor, "equipping": t.equipping},
        // Beyond SPEC §5's keys: every other setting a figure depends on, the
        // manure coefficients and scale thresholds as the settings file
        // writes them, so that a figure can be reproduced from the output.
        "manure": s.manure,
        "black_odor_criteria": crate::domain::indicators::BLACK_ODOR_CRITERIA,
    })
}

/// The summary as SPEC §5 JSON, serialised an area at a time: a national
/// township summary as one `Value` tree takes hundreds of MB.
struct JsonSummary<'a>(&'a Summary);

struct JsonAreas<'a>(&'a Summary);

impl serde::Serialize for JsonSummary<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(5))?;
        m.serialize_entry("as_of", &self.0.as_of)?;
        m.serialize_entry("open_conflicts", &self.0.open_conflicts)?;
        m.serialize_entry("approved_only", &self.0.approved_only)?;
        m.serialize_entry("settings", &settings_json(&self.0.settings))?;
        m.serialize_entry("areas", &JsonAreas(self.0))?;
        m.end()
    }
}

impl serde::Serialize for JsonAreas<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let s = self.0;
        let mut seq = ser.serialize_seq(Some(s.areas.len() + 1))?;
        seq.serialize_element(&area_json("total", "", TOTAL_NAME, &s.total, s.flagged_checked))?;
        for a in &s.areas {
            seq.serialize_element(&area_json(a.level.code(), &a.code, &a.name, &a.figures, s.flagged_checked))?;
        }
        seq.end()
    }
}

/// The summary as SPEC §5 JSON.
pub fn to_json(s: &Summary) -> Value {
    serde_json::to_value(JsonSummary(s)).expect("a summary always serialises")
}

/// Writes the summary as pretty SPEC §5 JSON (the same text as
/// `to_string_pretty(&to_json(s))`) without building it in memory first.
/// Text a terminal would act on is written as `\uXXXX` escapes (`text::SafeJson`).
pub fn write_json(s: &Summary, out: impl std::io::Write) -> serde_json::Result<()> {
    crate::text::write_json_pretty(out, &JsonSummary(s))
}

/// The name of the total row in JSON (part of the contract).
pub const TOTAL_NAME: &str = "合计";

pub use crate::text::percent;

/// A figure as read from [`Figures`]: what kind of number it is decides how
/// each output shows it (text here, a number format in the workbook).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Count(i64),
    Tonnes(f64),
    /// A fraction, `None` when its denominator is 0.
    Rate(Option<f64>),
}

impl Figure {
    /// The text of the CSV and the table.
    pub fn text(self) -> String {
        match self {
            Figure::Count(v) => v.to_string(),
            Figure::Tonnes(t) => format!("{t:.1}"),
            Figure::Rate(r) => percent(r),
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Label {
    pub const fn new(zh: &'static str, en: &'static str) -> Label {
        Label { zh, en }
    }
    pub fn get(self, lang: Lang) -> &'static str {
        pick(lang, self.zh, self.en)
    }
}

/// The labels every summary output shares (CSV, table, workbook).
pub mod labels {
    use super::Label;
    pub const LEVEL: Label = Label::new("层级", "level");
    pub const CODE: Label = Label::new("代码", "code");
    pub const NAME: Label = Label::new("名称", "name");
    pub const TOTAL: Label = Label::new("合计", "Total");
    pub const TARGET: Label = Label::new("目标", "Target");
    pub const AS_OF: Label = Label::new("截至", "As of");
    /// Visits whose crews' edits conflict until someone resolves them.
    pub const OPEN_CONFLICTS: Label = Label::new("未解决冲突", "Open conflicts");
    pub const MISSED: Label = Label::new("✗ = 未达目标", "✗ = target missed");
    /// Suffix of the "indicator met" columns.
    pub const MET: Label = Label::new("达标", " met");
    pub const YES: Label = Label::new("是", "yes");
    pub const NO: Label = Label::new("否", "no");
    pub const SURVEYED_OF: Label = Label::new("已调查/行政村", "Surveyed/villages");
    pub const DUPLICATES: Label = Label::new("重复调查", "Duplicates");
    /// Counting visits approved / flagged by a check.
    pub const CHECKS: Label = Label::new("疑点", "Checks");
    pub const VISIT: Label = Label::new("调查编号", "visit");
    pub const RULE: Label = Label::new("规则", "rule");
    pub const FOUND: Label = Label::new("发现", "found");
    pub const APPROVED_FLAGGED: Label = Label::new("通过/疑点", "Approved/flagged");
    pub const APPROVED_ONLY: Label =
        Label::new("只计审核通过的调查（--approved-only）", "Approved visits only (--approved-only)");
    pub const THRESHOLD: Label = Label::new("村污水治理户比例达标线", "village sewage threshold");
    /// Columns of one village (the workbook's village sheet).
    pub const STATUS: Label = Label::new("调查状态", "status");
    pub const SURVEYED: Label = Label::new("已调查", "surveyed");
    pub const UNSURVEYED: Label = Label::new("未调查", "not surveyed");
    pub const COUNTING_DATE: Label = Label::new("计入调查日期", "counting visit date");
    pub const SAME_DAY: Label = Label::new("同日重复调查", "same-day duplicates");
    pub const TREATED: Label = Label::new("污水已治理", "sewage treated");
    pub const CONTROLLED: Label = Label::new("治理或管控", "treated or controlled");
    pub const SUMMARY_OF: Label = Label::new("农村人居环境整治指标", "Rural sanitation indicators");
}

/// A column of the CSV, table and workbook forms: header in both languages
/// and how to read the figure.
pub struct Column {
    pub label: Label,
    pub value: fn(&Figures) -> Figure,
    /// The targeted indicator whose rate this column is.
    pub indicator: Option<Indicator>,
    /// Whether the column means something for a single village (counts of
    /// villages do not: the village sheet shows the village's status instead).
    pub per_village: bool,
}

const fn col(zh: &'static str, en: &'static str, value: fn(&Figures) -> Figure) -> Column {
    Column { label: Label::new(zh, en), value, indicator: None, per_village: true }
}

const fn of_villages(zh: &'static str, en: &'static str, value: fn(&Figures) -> Figure) -> Column {
    Column { label: Label::new(zh, en), value, indicator: None, per_village: false }
}

const fn target(c: Column, i: Indicator) -> Column {
    Column { indicator: Some(i), ..c }
}

use Figure::{Count, Rate, Tonnes};

/// Every figure of an area, in the order people read them.
pub const COLUMNS: &[Column] = &[
    of_villages("行政村数", "villages", |f| Count(f.villages)),
    of_villages("已调查", "surveyed", |f| Count(f.surveyed)),
    of_villages("重复调查", "duplicate visits", |f| Count(f.duplicate_visits)),
    of_villages("污水治理村", "villages treated", |f| Count(f.villages_treated)),
    of_villages("治理或管控村", "treated or controlled", |f| Count(f.villages_controlled)),
    target(of_villages("污水治理率", "sewage rate", |f| Rate(f.rates().sewage)), Indicator::Sewage),
    of_villages("治理管控率", "controlled rate", |f| Rate(f.rates().sewage_controlled)),
    col("治理户数", "households treated", |f| Count(f.households_treated)),
    col("常住户数", "households", |f| Count(f.households)),
    col("户治理率", "household rate", |f| Rate(f.rates().household)),
    col("正常运行设施", "facilities normal", |f| Count(f.facilities_normal)),
    col("设施总数", "facilities", |f| Count(f.facilities_total)),
    col("设施正常率", "facilities rate", |f| Rate(f.rates().facilities)),
    col("垃圾覆盖自然村", "natural villages covered", |f| Count(f.nv_covered)),
    col("自然村数", "natural villages", |f| Count(f.natural_villages)),
    target(col("垃圾收运覆盖率", "garbage rate", |f| Rate(f.rates().garbage)), Indicator::Garbage),
    col("粪污产生量(吨)", "manure produced (t)", |f| Tonnes(f.produced_t)),
    col("粪污利用量(吨)", "manure utilized (t)", |f| Tonnes(f.utilized_t)),
    target(col("粪污综合利用率", "manure rate", |f| Rate(f.rates().manure)), Indicator::Manure),
    col("规模养殖场", "scale farms", |f| Count(f.scale_farms)),
    col("已配套设施", "scale farms equipped", |f| Count(f.scale_farms_equipped)),
    target(col("设施装备配套率", "equipping rate", |f| Rate(f.rates().equipping)), Indicator::Equipping),
    col("清单黑臭水体", "listed water bodies", |f| Count(f.water_listed)),
    col("已治理", "remediated", |f| Count(f.water_remediated)),
    col("返黑返臭", "relapsed", |f| Count(f.water_relapsed)),
    target(col("黑臭水体治理率", "black-odour rate", |f| Rate(f.rates().black_odor)), Indicator::BlackOdor),
    of_villages("审核通过", "approved", |f| Count(f.approved)),
    of_villages("有疑点", "flagged", |f| Count(f.flagged)),
    of_villages("审核通过比例", "approved share", |f| {
        Rate(crate::domain::indicators::rate(f.approved as f64, f.surveyed as f64))
    }),
];

/// The name of an indicator, in the language.
pub fn indicator_name(i: Indicator, lang: Lang) -> &'static str {
    match i {
        Indicator::Sewage => pick(lang, "污水治理率", "Sewage"),
        Indicator::Garbage => pick(lang, "垃圾收运覆盖率", "Garbage"),
        Indicator::Manure => pick(lang, "粪污综合利用率", "Manure"),
        Indicator::BlackOdor => pick(lang, "黑臭水体治理率", "Black-odour water"),
        Indicator::Equipping => pick(lang, "规模场设施配套率", "Scale-farm equipping"),
    }
}

/// The header of an indicator's "met" column.
pub fn met_header(i: Indicator, lang: Lang) -> String {
    format!("{}{}", indicator_name(i, lang), labels::MET.get(lang))
}

/// Whether an area meets an indicator's target: `None` when its rate cannot
/// be computed.
pub fn met(f: &Figures, i: Indicator, s: &Settings) -> Option<bool> {
    let rate = i.rate(&f.rates());
    rate.map(|_| !misses_target(rate, i.target(&s.targets)))
}

/// The text of [`met`]: yes, no, or "—".
pub fn met_text(m: Option<bool>, lang: Lang) -> &'static str {
    match m {
        None => "—",
        Some(true) => labels::YES.get(lang),
        Some(false) => labels::NO.get(lang),
    }
}

/// The name of a level (as a column header or sheet name); "total" for
/// anything else.
pub fn level_name(level: &str, lang: Lang) -> &'static str {
    match level {
        "province" => pick(lang, "省", "province"),
        "city" => pick(lang, "市", "city"),
        "county" => pick(lang, "县(区)", "county"),
        "township" => pick(lang, "乡镇(街道)", "township"),
        "village" => pick(lang, "村", "village"),
        _ => labels::TOTAL.get(lang),
    }
}

/// The total row then every area: (level, code, name, figures).
pub fn rows(s: &Summary, lang: Lang) -> Vec<(&'static str, String, String, &Figures)> {
    let mut out = vec![("total", String::new(), labels::TOTAL.get(lang).to_string(), &s.total)];
    out.extend(s.areas.iter().map(|a| (a.level.code(), a.code.clone(), a.name.clone(), &a.figures)));
    out
}

/// One CSV row per area with every figure; rates as fractions for programs,
/// plus one target row per indicator so the sheet carries the goals. With a
/// BOM (spreadsheet programs on Chinese Windows read UTF-8 by it); every row
/// also carries the as-of date and the count of open conflicts, so a sheet
/// copied elsewhere still says what it is.
pub fn to_csv(s: &Summary, lang: Lang) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let mut header: Vec<String> =
        [labels::LEVEL, labels::CODE, labels::NAME].iter().map(|l| l.get(lang).to_string()).collect();
    header.extend(COLUMNS.iter().map(|c| c.label.get(lang).to_string()));
    header.extend(Indicator::ALL.iter().map(|i| met_header(*i, lang)));
    header.push(labels::AS_OF.get(lang).to_string());
    header.push(labels::OPEN_CONFLICTS.get(lang).to_string());
    w.write_record(&header)?;
    for (level, code, name, f) in rows(s, lang) {
        // A name from the roster never reads as a formula in a spreadsheet.
        let name = crate::store::csvio::for_spreadsheet(&name).into_owned();
        let mut rec = vec![level_name(level, lang).to_string(), code, name];
        rec.extend(COLUMNS.iter().map(|c| {
            // Flagged visits are counted only when the checks ran: else the cell is empty.
            if c.label.get(Lang::En) == "flagged" && !s.flagged_checked { String::new() } else { (c.value)(f).text() }
        }));
        rec.extend(Indicator::ALL.iter().map(|i| met_text(met(f, *i, &s.settings), lang).to_string()));
        rec.push(s.as_of.clone());
        rec.push(s.open_conflicts.to_string());
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The table for people: each target indicator beside its target, a ✗ where
/// it is missed, villages surveyed out of the roster.
pub fn to_table(s: &Summary, lang: Lang) -> String {
    let mut header: Vec<String> =
        [labels::CODE, labels::NAME, labels::SURVEYED_OF].iter().map(|l| l.get(lang).to_string()).collect();
    header.extend(Indicator::ALL.iter().map(|i| indicator_name(*i, lang).to_string()));
    header.push(labels::DUPLICATES.get(lang).to_string());
    header.push(labels::APPROVED_FLAGGED.get(lang).to_string());
    let mut table = vec![header];
    let targets = &s.settings.targets;
    let mut target_row = vec![String::new(), labels::TARGET.get(lang).to_string(), String::new()];
    target_row.extend(Indicator::ALL.iter().map(|i| format!("≥{}", percent(Some(i.target(targets))))));
    target_row.push(String::new());
    target_row.push(String::new());
    table.push(target_row);
    for (_, code, name, f) in rows(s, lang) {
        let r = f.rates();
        let mut row = vec![code, name, format!("{}/{}", f.surveyed, f.villages)];
        row.extend(Indicator::ALL.iter().map(|i| {
            let rate = i.rate(&r);
            let mark = if misses_target(rate, i.target(targets)) { " ✗" } else { "  " };
            format!("{}{mark}", percent(rate))
        }));
        row.push(f.duplicate_visits.to_string());
        // "-": not counted (the checks did not run), unlike "—", a rate without a base.
        let flagged = if s.flagged_checked { f.flagged.to_string() } else { "-".to_string() };
        row.push(format!("{}/{flagged}", f.approved));
        table.push(row);
    }
    let cols = table[0].len();
    let widths: Vec<usize> = (0..cols).map(|c| table.iter().map(|r| text::width(&r[c])).max().unwrap_or(0)).collect();
    let mut out = format!("{} {}    {}\n", labels::AS_OF.get(lang), s.as_of, labels::MISSED.get(lang));
    if s.open_conflicts > 0 {
        out.push_str(&crate::strings::sync::summary_conflicts(lang, s.open_conflicts));
        out.push('\n');
    }
    if s.approved_only {
        out.push_str(labels::APPROVED_ONLY.get(lang));
        out.push('\n');
    }
    for (i, row) in table.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| if c >= 2 { text::right(cell, widths[c]) } else { text::pad(cell, widths[c]) })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 1 {
            out.push_str(&"─".repeat(widths.iter().sum::<usize>() + 2 * (cols - 1)));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Level;
    use crate::store::summary::AreaRow;

    #[test]
    fn streamed_json_is_the_json() {
        let f = Figures { villages: 3, surveyed: 2, produced_t: 1.5, utilized_t: 0.75, ..Default::default() };
        let s = Summary {
            as_of: "2025-12-31".into(),
            settings: Settings::default(),
            level: Level::County,
            total: f,
            areas: vec![AreaRow { level: Level::County, code: "430202".into(), name: "荷塘区".into(), figures: f }],
            open_conflicts: 2,
            approved_only: false,
            flagged_checked: true,
        };
        let mut out = Vec::new();
        write_json(&s, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, serde_json::to_string_pretty(&to_json(&s)).unwrap());
        let v = to_json(&s);
        assert_eq!(v["areas"].as_array().unwrap().len(), 2);
        assert_eq!(v["areas"][0]["name"], TOTAL_NAME);
        assert_eq!(v["areas"][1]["manure"]["rate"], 0.5);
        assert_eq!(v["settings"]["targets"]["garbage"], 0.9);
        assert_eq!(v["open_conflicts"], 2);
    }
}
