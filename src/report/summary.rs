//! `ruralsan summary` output: JSON exactly as SPEC §5, a CSV row per area,
//! and a table for people.

use serde_json::{Value, json};

use crate::domain::indicators::{Figures, Indicator, misses_target};
use crate::domain::settings::Settings;
use crate::store::summary::Summary;
use crate::strings::{Lang, pick};

fn area_json(level: &str, code: &str, name: &str, f: &Figures) -> Value {
    let r = f.rates();
    json!({
        "level": level, "code": code, "name": name,
        "villages": f.villages, "surveyed": f.surveyed, "duplicate_visits": f.duplicate_visits,
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
    })
}

/// The summary as SPEC §5 JSON.
pub fn to_json(s: &Summary) -> Value {
    let mut areas = vec![area_json("total", "", TOTAL_NAME, &s.total)];
    areas.extend(s.areas.iter().map(|a| area_json(a.level.code(), &a.code, &a.name, &a.figures)));
    json!({"as_of": s.as_of, "open_conflicts": s.open_conflicts, "settings": settings_json(&s.settings), "areas": areas})
}

/// The name of the total row in JSON (part of the contract).
pub const TOTAL_NAME: &str = "合计";

/// Percent with one decimal, or "—" for a rate that cannot be computed.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".to_string(),
    }
}

/// A column of the CSV and table forms: header in both languages and how to
/// read the figure.
struct Column {
    zh: &'static str,
    en: &'static str,
    value: fn(&Figures) -> String,
}

fn num(v: i64) -> String {
    v.to_string()
}

const COLUMNS: &[Column] = &[
    Column { zh: "行政村数", en: "villages", value: |f| num(f.villages) },
    Column { zh: "已调查", en: "surveyed", value: |f| num(f.surveyed) },
    Column { zh: "重复调查", en: "duplicate visits", value: |f| num(f.duplicate_visits) },
    Column { zh: "污水治理村", en: "villages treated", value: |f| num(f.villages_treated) },
    Column { zh: "治理或管控村", en: "treated or controlled", value: |f| num(f.villages_controlled) },
    Column { zh: "污水治理率", en: "sewage rate", value: |f| percent(f.rates().sewage) },
    Column { zh: "治理管控率", en: "controlled rate", value: |f| percent(f.rates().sewage_controlled) },
    Column { zh: "治理户数", en: "households treated", value: |f| num(f.households_treated) },
    Column { zh: "常住户数", en: "households", value: |f| num(f.households) },
    Column { zh: "户治理率", en: "household rate", value: |f| percent(f.rates().household) },
    Column { zh: "正常运行设施", en: "facilities normal", value: |f| num(f.facilities_normal) },
    Column { zh: "设施总数", en: "facilities", value: |f| num(f.facilities_total) },
    Column { zh: "设施正常率", en: "facilities rate", value: |f| percent(f.rates().facilities) },
    Column { zh: "垃圾覆盖自然村", en: "natural villages covered", value: |f| num(f.nv_covered) },
    Column { zh: "自然村数", en: "natural villages", value: |f| num(f.natural_villages) },
    Column { zh: "垃圾收运覆盖率", en: "garbage rate", value: |f| percent(f.rates().garbage) },
    Column { zh: "粪污产生量(吨)", en: "manure produced (t)", value: |f| format!("{:.1}", f.produced_t) },
    Column { zh: "粪污利用量(吨)", en: "manure utilized (t)", value: |f| format!("{:.1}", f.utilized_t) },
    Column { zh: "粪污综合利用率", en: "manure rate", value: |f| percent(f.rates().manure) },
    Column { zh: "规模养殖场", en: "scale farms", value: |f| num(f.scale_farms) },
    Column { zh: "已配套设施", en: "scale farms equipped", value: |f| num(f.scale_farms_equipped) },
    Column { zh: "设施装备配套率", en: "equipping rate", value: |f| percent(f.rates().equipping) },
    Column { zh: "清单黑臭水体", en: "listed water bodies", value: |f| num(f.water_listed) },
    Column { zh: "已治理", en: "remediated", value: |f| num(f.water_remediated) },
    Column { zh: "返黑返臭", en: "relapsed", value: |f| num(f.water_relapsed) },
    Column { zh: "黑臭水体治理率", en: "black-odour rate", value: |f| percent(f.rates().black_odor) },
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

fn level_name(level: &str, lang: Lang) -> &'static str {
    match level {
        "province" => pick(lang, "省", "province"),
        "city" => pick(lang, "市", "city"),
        "county" => pick(lang, "县(区)", "county"),
        "township" => pick(lang, "乡镇(街道)", "township"),
        "village" => pick(lang, "村", "village"),
        _ => pick(lang, "合计", "total"),
    }
}

fn rows(s: &Summary, lang: Lang) -> Vec<(&'static str, String, String, &Figures)> {
    let mut out = vec![("total", String::new(), pick(lang, "合计", "Total").to_string(), &s.total)];
    out.extend(s.areas.iter().map(|a| (a.level.code(), a.code.clone(), a.name.clone(), &a.figures)));
    out
}

/// One CSV row per area with every figure; rates as fractions for programs,
/// plus one target row per indicator so the sheet carries the goals.
pub fn to_csv(s: &Summary, lang: Lang) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        pick(lang, "层级", "level").to_string(),
        pick(lang, "代码", "code").to_string(),
        pick(lang, "名称", "name").to_string(),
    ];
    header.extend(COLUMNS.iter().map(|c| pick(lang, c.zh, c.en).to_string()));
    header.extend(Indicator::ALL.iter().map(|i| format!("{}{}", indicator_name(*i, lang), pick(lang, "达标", " met"))));
    w.write_record(&header)?;
    for (level, code, name, f) in rows(s, lang) {
        let mut rec = vec![level_name(level, lang).to_string(), code, name];
        rec.extend(COLUMNS.iter().map(|c| (c.value)(f)));
        let r = f.rates();
        rec.extend(Indicator::ALL.iter().map(|i| {
            let rate = i.rate(&r);
            match (rate, misses_target(rate, i.target(&s.settings.targets))) {
                (None, _) => "—".to_string(),
                (_, true) => pick(lang, "否", "no").to_string(),
                (_, false) => pick(lang, "是", "yes").to_string(),
            }
        }));
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Pads `s` with spaces to `width` terminal columns (wide characters count two).
pub fn pad(s: &str, width: usize, right: bool) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    let fill = " ".repeat(width.saturating_sub(w));
    if right { format!("{fill}{s}") } else { format!("{s}{fill}") }
}

/// The table for people: each target indicator beside its target, a ✗ where
/// it is missed, villages surveyed out of the roster.
pub fn to_table(s: &Summary, lang: Lang) -> String {
    let mut header = vec![
        pick(lang, "代码", "Code").to_string(),
        pick(lang, "名称", "Name").to_string(),
        pick(lang, "已调查/行政村", "Surveyed/villages").to_string(),
    ];
    header.extend(Indicator::ALL.iter().map(|i| indicator_name(*i, lang).to_string()));
    header.push(pick(lang, "重复调查", "Duplicates").to_string());
    let mut table = vec![header];
    let targets = &s.settings.targets;
    let mut target_row = vec![String::new(), pick(lang, "目标", "Target").to_string(), String::new()];
    target_row.extend(Indicator::ALL.iter().map(|i| format!("≥{}", percent(Some(i.target(targets))))));
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
        table.push(row);
    }
    let cols = table[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| table.iter().map(|r| unicode_width::UnicodeWidthStr::width(r[c].as_str())).max().unwrap_or(0))
        .collect();
    let mut out =
        format!("{} {}    {}\n", pick(lang, "截至", "As of"), s.as_of, pick(lang, "✗ = 未达目标", "✗ = target missed"));
    if s.open_conflicts > 0 {
        out.push_str(&crate::strings::sync::summary_conflicts(lang, s.open_conflicts));
        out.push('\n');
    }
    for (i, row) in table.iter().enumerate() {
        let line: Vec<String> = row.iter().enumerate().map(|(c, cell)| pad(cell, widths[c], c >= 2)).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 1 {
            out.push_str(&"─".repeat(widths.iter().sum::<usize>() + 2 * (cols - 1)));
            out.push('\n');
        }
    }
    out
}
