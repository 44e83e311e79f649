//! The open conflicts as CSV (`conflicts --format csv`): one row per side of
//! each conflicting field, with the base value beside it, for a spreadsheet.

use serde_json::Value;

use super::summary::Label;
use crate::store::conflict::Conflict;
use crate::strings::Lang;

const HEADER: [Label; 10] = [
    Label::new("调查编号", "visit_id"),
    Label::new("村代码", "village_code"),
    Label::new("村名", "village_name"),
    Label::new("字段", "field"),
    Label::new("原值", "base"),
    Label::new("版本", "rev"),
    Label::new("该版本的值", "value"),
    Label::new("设备", "device"),
    Label::new("作者", "author"),
    Label::new("时间戳", "hlc"),
];

/// A cell of text from data: never read by a spreadsheet as a formula.
pub(crate) fn cell(text: String) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err();
    if formula { format!("'{text}") } else { text }
}

fn value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(x) => x.to_string(),
    }
}

/// The CSV (with a BOM, for spreadsheet programs on Chinese Windows).
pub fn to_csv(list: &[Conflict], lang: Lang) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    w.write_record(HEADER.iter().map(|h| h.get(lang)))?;
    for c in list {
        for f in &c.fields {
            for s in &f.sides {
                w.write_record([
                    cell(c.visit_id.clone()),
                    c.village_code.clone(),
                    cell(c.village_name.clone()),
                    cell(f.field.clone()),
                    cell(value(f.base.as_ref())),
                    s.rev_id.clone(),
                    cell(value(s.value.as_ref())),
                    cell(s.device.clone()),
                    cell(s.author.clone()),
                    s.hlc.clone(),
                ])?;
            }
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_looks_like_a_formula_is_quoted_and_numbers_are_not() {
        assert_eq!(cell("=cmd|' /C calc'!A0".into()), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("-3".into()), "-3");
        assert_eq!(cell("仙庾村".into()), "仙庾村");
    }
}
