//! The visit form as typed: every field is text until it is saved, so a
//! half-typed number survives in the draft. Parsing uses the same cell
//! parsers as the CSV import, judging uses `validate_visit`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::settings::ManureCoefficients;
use crate::domain::validate::{
    Place, Problem, Reason, parse_bool, parse_date, parse_decimal, parse_int, validate_visit,
};
use crate::domain::*;

/// The enumerations a choice field offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    FacilityKind,
    FacilityStatus,
    Species,
    WaterKind,
    Listed,
    WaterStatus,
}

impl Choice {
    /// (code, zh, en) of every option.
    pub fn options(self) -> Vec<(&'static str, &'static str, &'static str)> {
        fn all<T: Copy>(
            v: &[T],
            f: impl Fn(T) -> (&'static str, &'static str, &'static str),
        ) -> Vec<(&'static str, &'static str, &'static str)> {
            v.iter().map(|x| f(*x)).collect()
        }
        match self {
            Choice::FacilityKind => all(FacilityKind::ALL, |x| (x.code(), x.zh(), x.en())),
            Choice::FacilityStatus => all(FacilityStatus::ALL, |x| (x.code(), x.zh(), x.en())),
            Choice::Species => all(Species::ALL, |x| (x.code(), x.zh(), x.en())),
            Choice::WaterKind => all(WaterKind::ALL, |x| (x.code(), x.zh(), x.en())),
            Choice::Listed => all(Listed::ALL, |x| (x.code(), x.zh(), x.en())),
            Choice::WaterStatus => all(WaterStatus::ALL, |x| (x.code(), x.zh(), x.en())),
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Date,
    Int,
    Dec,
    Bool,
    Choice(Choice),
}

impl Kind {
    /// Whether the field takes free typing (then `?` is a character, not help).
    pub fn is_typed(self) -> bool {
        !matches!(self, Kind::Bool | Kind::Choice(_))
    }
}

/// A field: its key (the column name of SPEC §2, also the key of its label)
/// and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
}

const fn f(key: &'static str, kind: Kind) -> Field {
    Field { key, kind }
}

pub const VISIT_FIELDS: &[Field] = &[
    f("survey_date", Kind::Date),
    f("surveyor", Kind::Text),
    f("households", Kind::Int),
    f("hh_sewer", Kind::Int),
    f("hh_reuse", Kind::Int),
    f("hh_controlled", Kind::Int),
    f("natural_villages", Kind::Int),
    f("nv_garbage_covered", Kind::Int),
    f("notes", Kind::Text),
];
pub const FACILITY_FIELDS: &[Field] = &[
    f("kind", Kind::Choice(Choice::FacilityKind)),
    f("households_served", Kind::Int),
    f("status", Kind::Choice(Choice::FacilityStatus)),
    f("capacity_m3_d", Kind::Dec),
];
pub const FARM_FIELDS: &[Field] = &[
    f("name", Kind::Text),
    f("species", Kind::Choice(Choice::Species)),
    f("head_on_hand", Kind::Int),
    f("annual_out", Kind::Int),
    f("manure_t", Kind::Dec),
    f("utilized_pct", Kind::Dec),
    f("facility_equipped", Kind::Bool),
];
pub const WATER_FIELDS: &[Field] = &[
    f("name", Kind::Text),
    f("kind", Kind::Choice(Choice::WaterKind)),
    f("area_m2", Kind::Dec),
    f("length_m", Kind::Dec),
    f("depth_cm", Kind::Dec),
    f("transparency_cm", Kind::Dec),
    f("do_mg_l", Kind::Dec),
    f("nh3n_mg_l", Kind::Dec),
    f("listed", Kind::Choice(Choice::Listed)),
    f("status", Kind::Choice(Choice::WaterStatus)),
];

/// The three lists of child rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Facilities,
    Farms,
    Water,
}

impl List {
    pub const ALL: [List; 3] = [List::Facilities, List::Farms, List::Water];
    pub fn fields(self) -> &'static [Field] {
        match self {
            List::Facilities => FACILITY_FIELDS,
            List::Farms => FARM_FIELDS,
            List::Water => WATER_FIELDS,
        }
    }
    pub fn place(self, i: usize) -> Place {
        match self {
            List::Facilities => Place::Facility(i),
            List::Farms => Place::Farm(i),
            List::Water => Place::Water(i),
        }
    }
    /// The id field's key in validation problems.
    pub fn id_key(self) -> &'static str {
        match self {
            List::Facilities => "facility_id",
            List::Farms => "farm_id",
            List::Water => "water_id",
        }
    }
    /// A blank new row's values.
    pub fn blank(self) -> Vec<String> {
        self.fields()
            .iter()
            .map(|f| match f.kind {
                // A water body found is on no supervision list until someone says so.
                Kind::Choice(Choice::Listed) => Listed::None.code().to_string(),
                Kind::Choice(c) => c.options()[0].0.to_string(),
                Kind::Bool => "0".into(),
                Kind::Int => "0".into(),
                Kind::Dec if f.key == "utilized_pct" => "0".into(),
                _ => String::new(),
            })
            .collect()
    }
}

/// A child row as typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub values: Vec<String>,
}

/// The whole form as typed; its JSON is the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub visit_id: String,
    pub base_rev: Option<String>,
    pub village_code: String,
    /// Aligned with [`VISIT_FIELDS`].
    pub visit: Vec<String>,
    pub facilities: Vec<Row>,
    pub farms: Vec<Row>,
    pub water: Vec<Row>,
    /// The visit a new one was copied forward from: shown on the form
    /// until it is saved (kept in the draft too).
    #[serde(default)]
    pub copied_from: Option<CopiedFrom>,
}

/// Date and surveyor of the visit a new one was copied from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopiedFrom {
    pub date: String,
    pub surveyor: String,
}

fn dec(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A fresh id for a visit or a child row.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Form {
    pub fn rows(&self, l: List) -> &Vec<Row> {
        match l {
            List::Facilities => &self.facilities,
            List::Farms => &self.farms,
            List::Water => &self.water,
        }
    }
    pub fn rows_mut(&mut self, l: List) -> &mut Vec<Row> {
        match l {
            List::Facilities => &mut self.facilities,
            List::Farms => &mut self.farms,
            List::Water => &mut self.water,
        }
    }

    /// Gives every record exactly its fields' number of cells (a draft read
    /// back from the database is not trusted to).
    pub fn normalize(&mut self) {
        self.visit.resize(VISIT_FIELDS.len(), String::new());
        for l in List::ALL {
            let n = l.fields().len();
            for r in self.rows_mut(l) {
                r.values.resize(n, String::new());
            }
        }
    }

    /// The form of a stored visit.
    pub fn from_data(visit_id: &str, base_rev: Option<String>, v: &VisitData) -> Form {
        let n = |x: i64| x.to_string();
        Form {
            visit_id: visit_id.to_string(),
            base_rev,
            village_code: v.village_code.clone(),
            visit: vec![
                v.survey_date.clone(),
                v.surveyor.clone(),
                n(v.households),
                n(v.hh_sewer),
                n(v.hh_reuse),
                n(v.hh_controlled),
                n(v.natural_villages),
                n(v.nv_garbage_covered),
                v.notes.clone(),
            ],
            facilities: v
                .facilities
                .iter()
                .map(|f| Row {
                    id: f.facility_id.clone(),
                    values: vec![
                        f.kind.code().into(),
                        n(f.households_served),
                        f.status.code().into(),
                        dec(f.capacity_m3_d),
                    ],
                })
                .collect(),
            farms: v
                .farms
                .iter()
                .map(|f| Row {
                    id: f.farm_id.clone(),
                    values: vec![
                        f.name.clone(),
                        f.species.code().into(),
                        n(f.head_on_hand),
                        n(f.annual_out),
                        dec(f.manure_t),
                        f.utilized_pct.to_string(),
                        if f.facility_equipped { "1" } else { "0" }.into(),
                    ],
                })
                .collect(),
            water: v
                .water_bodies
                .iter()
                .map(|w| Row {
                    id: w.water_id.clone(),
                    values: vec![
                        w.name.clone(),
                        w.kind.code().into(),
                        dec(w.area_m2),
                        dec(w.length_m),
                        dec(w.depth_cm),
                        dec(w.transparency_cm),
                        dec(w.do_mg_l),
                        dec(w.nh3n_mg_l),
                        w.listed.code().into(),
                        w.status.code().into(),
                    ],
                })
                .collect(),
            copied_from: None,
        }
    }

    /// A new visit of `village_code`: copied forward from the village's
    /// previous visit (with fresh child ids), dated today.
    pub fn new_visit(village_code: &str, previous: Option<&VisitData>, today: NaiveDate, surveyor: &str) -> Form {
        let mut form = match previous {
            Some(p) => {
                let mut f = Form::from_data(&new_id(), None, p);
                f.copied_from = Some(CopiedFrom { date: p.survey_date.clone(), surveyor: p.surveyor.clone() });
                f
            }
            None => {
                // Households and natural villages must be typed; the parts of them start at 0.
                let mut f = Form::from_data(&new_id(), None, &blank_visit(village_code));
                for (field, value) in VISIT_FIELDS.iter().zip(&mut f.visit) {
                    if matches!(field.key, "households" | "natural_villages") {
                        value.clear();
                    }
                }
                f
            }
        };
        form.village_code = village_code.to_string();
        form.visit[0] = today.format("%Y-%m-%d").to_string();
        form.visit[1] = surveyor.to_string();
        for l in List::ALL {
            for r in form.rows_mut(l) {
                r.id = new_id();
            }
        }
        form
    }

    /// The visit the form describes, and the cells that do not parse. A cell
    /// that does not parse counts as 0 / empty in the returned data, so the
    /// live figures keep working while the crew types.
    pub fn parse(&self) -> (VisitData, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut cell =
            Cells { problems: &mut problems, place: Place::Visit, fields: VISIT_FIELDS, values: &self.visit };
        let data = VisitData {
            village_code: self.village_code.clone(),
            survey_date: cell.date("survey_date"),
            surveyor: cell.text("surveyor"),
            households: cell.int("households"),
            hh_sewer: cell.int("hh_sewer"),
            hh_reuse: cell.int("hh_reuse"),
            hh_controlled: cell.int("hh_controlled"),
            natural_villages: cell.int("natural_villages"),
            nv_garbage_covered: cell.int("nv_garbage_covered"),
            notes: cell.text("notes"),
            facilities: Vec::new(),
            farms: Vec::new(),
            water_bodies: Vec::new(),
        };
        let mut data = data;
        for (i, r) in self.facilities.iter().enumerate() {
            let mut c = Cells {
                problems: &mut problems,
                place: Place::Facility(i),
                fields: FACILITY_FIELDS,
                values: &r.values,
            };
            data.facilities.push(Facility {
                facility_id: r.id.clone(),
                kind: c.choice("kind", FacilityKind::parse, FacilityKind::Central),
                households_served: c.int("households_served"),
                status: c.choice("status", FacilityStatus::parse, FacilityStatus::Normal),
                capacity_m3_d: c.dec("capacity_m3_d"),
            });
        }
        for (i, r) in self.farms.iter().enumerate() {
            let mut c =
                Cells { problems: &mut problems, place: Place::Farm(i), fields: FARM_FIELDS, values: &r.values };
            data.farms.push(Farm {
                farm_id: r.id.clone(),
                name: c.text("name"),
                species: c.choice("species", Species::parse, Species::Other),
                head_on_hand: c.int("head_on_hand"),
                annual_out: c.int("annual_out"),
                manure_t: c.dec("manure_t"),
                utilized_pct: c.req_dec("utilized_pct"),
                facility_equipped: c.bool("facility_equipped"),
            });
        }
        for (i, r) in self.water.iter().enumerate() {
            let mut c =
                Cells { problems: &mut problems, place: Place::Water(i), fields: WATER_FIELDS, values: &r.values };
            data.water_bodies.push(WaterBody {
                water_id: r.id.clone(),
                name: c.text("name"),
                kind: c.choice("kind", WaterKind::parse, WaterKind::Other),
                area_m2: c.dec("area_m2"),
                length_m: c.dec("length_m"),
                depth_cm: c.dec("depth_cm"),
                transparency_cm: c.dec("transparency_cm"),
                do_mg_l: c.dec("do_mg_l"),
                nh3n_mg_l: c.dec("nh3n_mg_l"),
                listed: c.choice("listed", Listed::parse, Listed::None),
                status: c.choice("status", WaterStatus::parse, WaterStatus::Identified),
            });
        }
        (data, problems)
    }

    /// Every problem of the form: cells that do not parse, then the rules of
    /// `validate_visit` on the fields that did parse, then the roster's
    /// verdict on the village.
    pub fn check(
        &self,
        today: NaiveDate,
        coefficients: &ManureCoefficients,
        roster: Option<Reason>,
    ) -> (VisitData, Vec<Problem>) {
        let (data, mut problems) = self.parse();
        let unparsed: Vec<(Place, &str)> = problems.iter().map(|p| (p.place, p.field)).collect();
        for p in validate_visit(&data, today, coefficients) {
            if !unparsed.contains(&(p.place, p.field)) {
                problems.push(p);
            }
        }
        if let Some(r) = roster {
            problems.insert(0, Problem { place: Place::Visit, field: "village_code", reason: r });
        }
        (data, problems)
    }
}

fn blank_visit(code: &str) -> VisitData {
    VisitData {
        village_code: code.to_string(),
        survey_date: String::new(),
        surveyor: String::new(),
        households: 0,
        hh_sewer: 0,
        hh_reuse: 0,
        hh_controlled: 0,
        natural_villages: 0,
        nv_garbage_covered: 0,
        notes: String::new(),
        facilities: vec![],
        farms: vec![],
        water_bodies: vec![],
    }
}

/// Reads the typed cells of one record, noting each that does not parse.
struct Cells<'a> {
    problems: &'a mut Vec<Problem>,
    place: Place,
    fields: &'static [Field],
    values: &'a [String],
}

impl Cells<'_> {
    fn raw(&self, key: &'static str) -> &str {
        let i = self.fields.iter().position(|f| f.key == key).expect("field of this record");
        self.values.get(i).map(String::as_str).unwrap_or("")
    }
    fn fail<T>(&mut self, key: &'static str, r: Reason, default: T) -> T {
        self.problems.push(Problem { place: self.place, field: key, reason: r });
        default
    }
    fn text(&mut self, key: &'static str) -> String {
        self.raw(key).to_string()
    }
    fn date(&mut self, key: &'static str) -> String {
        match parse_date(self.raw(key)) {
            Ok(Some(d)) => d,
            Ok(None) => self.fail(key, Reason::Required, String::new()),
            Err(r) => self.fail(key, r, String::new()),
        }
    }
    fn int(&mut self, key: &'static str) -> i64 {
        match parse_int(self.raw(key)) {
            Ok(Some(n)) => n,
            Ok(None) => self.fail(key, Reason::Required, 0),
            Err(r) => self.fail(key, r, 0),
        }
    }
    fn dec(&mut self, key: &'static str) -> Option<f64> {
        parse_decimal(self.raw(key)).unwrap_or_else(|r| self.fail(key, r, None))
    }
    fn req_dec(&mut self, key: &'static str) -> f64 {
        match parse_decimal(self.raw(key)) {
            Ok(Some(n)) => n,
            Ok(None) => self.fail(key, Reason::Required, 0.0),
            Err(r) => self.fail(key, r, 0.0),
        }
    }
    fn bool(&mut self, key: &'static str) -> bool {
        match parse_bool(self.raw(key)) {
            Ok(Some(b)) => b,
            Ok(None) => self.fail(key, Reason::Required, false),
            Err(r) => self.fail(key, r, false),
        }
    }
    fn choice<T>(&mut self, key: &'static str, parse: fn(&str) -> Option<T>, default: T) -> T {
        match parse(self.raw(key)) {
            Some(v) => v,
            None => self.fail(key, Reason::Required, default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_round_trips_through_the_form() {
        let mut rng = crate::generate::Rng::new(7);
        for _ in 0..50 {
            let v = crate::generate::random_visit(&mut rng, "430202001201", "2024-03-04");
            let (back, problems) = Form::from_data("x", None, &v).parse();
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(back, v);
        }
    }

    #[test]
    fn a_short_draft_is_made_whole() {
        let mut form: Form = serde_json::from_str(
            r#"{"visit_id":"v","base_rev":null,"village_code":"430202001201","visit":["2025-01-01"],
                "facilities":[{"id":"f","values":[]}],"farms":[],"water":[]}"#,
        )
        .unwrap();
        form.normalize();
        assert_eq!(form.visit.len(), VISIT_FIELDS.len());
        assert_eq!(form.facilities[0].values.len(), FACILITY_FIELDS.len());
        let (_, problems) = form.parse();
        assert!(problems.iter().any(|p| p.field == "households"));
    }

    #[test]
    fn typed_cells_are_judged_by_the_shared_rules() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let mut rng = crate::generate::Rng::new(1);
        let v = crate::generate::random_visit(&mut rng, "430202001201", "2024-03-04");
        let mut form = Form::new_visit("430202001201", Some(&v), today, "");
        assert_ne!(form.visit_id, "x");
        assert_eq!(form.visit[0], "2025-06-01");
        assert_eq!(form.copied_from, Some(CopiedFrom { date: "2024-03-04".into(), surveyor: v.surveyor.clone() }));
        assert_eq!(Form::new_visit("430202001201", None, today, "").copied_from, None);
        // A new water body is on no list.
        let listed = WATER_FIELDS.iter().position(|f| f.key == "listed").unwrap();
        assert_eq!(List::Water.blank()[listed], "none");
        form.visit[2] = "12a".into();
        let (_, problems) = form.check(today, &ManureCoefficients::default(), Some(Reason::NotAVillage));
        let fields: Vec<_> = problems.iter().map(|p| (p.field, p.reason.clone())).collect();
        assert_eq!(
            fields,
            [("village_code", Reason::NotAVillage), ("households", Reason::NotInteger), ("surveyor", Reason::Required)]
        );
    }
}
