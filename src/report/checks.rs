//! `ruralsan checks` output: JSON (an array of objects with at least
//! `visit_id`, `village_code`, `rule` and `message`), CSV and a table.

use serde_json::{Value, json};

use super::conflicts::cell;
use super::summary::Label;
use crate::domain::checks::{Check, Finding, Item};
use crate::strings::{Lang, checks as words};

/// The figures that tripped a check, as JSON.
fn figures(f: &Finding) -> Value {
    use Finding::*;
    match f {
        HouseholdsChanged { before, after, previous_visit } => {
            json!({"before": before, "after": after, "previous_visit": previous_visit})
        }
        TreatedShareRose { before, after, previous_visit } => {
            json!({"before_pct": before, "after_pct": after, "previous_visit": previous_visit})
        }
        Gone { item, id, previous_visit } => {
            let kind = match item {
                Item::Facility => "facility",
                Item::Farm => "farm",
                Item::Water => "water_body",
            };
            json!({"item": kind, "id": id, "previous_visit": previous_visit})
        }
        RemediatedUnmeasured { water_id } | RemediatedStillBlack { water_id } => json!({"water_id": water_id}),
        ScaleFarmUnequipped { farm_id } => json!({"farm_id": farm_id}),
        TooManyVillages { surveyor, date, villages, max } => {
            json!({"surveyor": surveyor, "date": date, "villages": villages, "max": max})
        }
        FarApart { surveyor, date, townships, max } => {
            json!({"surveyor": surveyor, "date": date, "townships": townships, "max": max})
        }
        CopiedForm { other_visit, other_village } => {
            json!({"other_visit": other_visit, "other_village": other_village})
        }
        Incomplete { visited, villages, min_pct } => {
            json!({"visited": visited, "villages": villages, "min_pct": min_pct})
        }
    }
}

/// One check as a JSON object.
fn to_object(c: &Check, l: Lang) -> Value {
    json!({
        "visit_id": c.visit_id, "village_code": c.village_code, "township": c.area,
        "rule": c.rule().code(), "message": words::message(&c.finding, l),
        "figures": figures(&c.finding),
    })
}

/// The checks as a JSON array, each object made as it is written (a
/// national database has hundreds of thousands).
pub struct Json<'a>(pub &'a [Check], pub Lang);

impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            seq.serialize_element(&to_object(c, self.1))?;
        }
        seq.end()
    }
}

const HEADER: [Label; 6] = [
    Label::new("调查编号", "visit_id"),
    Label::new("村代码", "village_code"),
    Label::new("乡镇代码", "township"),
    Label::new("规则", "rule"),
    Label::new("规则名称", "rule_name"),
    Label::new("说明", "message"),
];

/// The checks as CSV (with a BOM, for spreadsheet programs on Chinese Windows).
pub fn to_csv(list: &[Check], l: Lang) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    w.write_record(HEADER.iter().map(|h| h.get(l)))?;
    for c in list {
        w.write_record([
            cell(c.visit_id.clone().unwrap_or_default()),
            c.village_code.clone().unwrap_or_default(),
            c.area.clone(),
            c.rule().code().to_string(),
            words::rule_name(c.rule(), l).to_string(),
            cell(words::message(&c.finding, l)),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The checks as a table for people.
pub fn to_table(list: &[Check], as_of: &str, l: Lang) -> String {
    let mut out = words::heading(list.len(), as_of, l);
    out.push('\n');
    for c in list {
        out.push_str(&words::line(c, l));
        out.push('\n');
    }
    out
}
