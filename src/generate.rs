//! A deterministic generator of realistic survey bundles over any roster, for
//! the demo and for benchmarks. The same roster, seed and fraction always
//! give the same bundle.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::domain::*;
use crate::store::bundle::{FACILITY_COLS, FARM_COLS, VISIT_COLS, WATER_COLS};
use crate::store::csvio::{Problems, Table};

/// splitmix64: small, fast, and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }
    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
    /// A decimal with one digit after the point, in [lo, hi].
    pub fn dec1(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + self.unit() * (hi - lo)) * 10.0).round() / 10.0
    }
}

const SURVEYORS: &[&str] = &["陈静", "张伟", "王芳", "李娜", "刘洋", "杨磊", "黄敏", "赵军", "周婷", "吴强"];
const NOTES: &[&str] =
    &["", "", "", "村主任陪同, 已拍照", "路面有积水", "部分农户外出务工\n下次回访", "设施\"待维修\""];
const FARM_NAMES: &[&str] = &["家庭农场", "养殖场", "养殖户", "合作社"];
const WATER_NAMES: &[&str] = &["门前塘", "排水沟", "小河段", "山塘"];

/// A random valid visit of `village_code` on `date`.
pub fn random_visit(rng: &mut Rng, village_code: &str, date: &str) -> VisitData {
    let households = rng.range(30, 800);
    let mut left = households;
    let mut take = |rng: &mut Rng, share: f64| {
        let n = (left as f64 * rng.unit() * share) as i64;
        left -= n;
        n
    };
    let hh_sewer = if rng.chance(0.3) { take(rng, 0.8) } else { 0 };
    let hh_reuse = if rng.chance(0.3) { take(rng, 0.6) } else { 0 };
    let facilities = (0..rng.range(0, 2))
        .map(|_| Facility {
            facility_id: rng.uuid(),
            kind: *rng.pick(FacilityKind::ALL),
            households_served: take(rng, 0.7),
            status: if rng.chance(0.65) { FacilityStatus::Normal } else { *rng.pick(FacilityStatus::ALL) },
            capacity_m3_d: rng.chance(0.4).then(|| rng.dec1(5.0, 300.0)),
        })
        .collect();
    let hh_controlled = if rng.chance(0.4) { take(rng, 0.5) } else { 0 };
    let natural_villages = rng.range(1, 15);
    let farms = (0..rng.range(0, 3))
        .map(|i| {
            let species = *rng.pick(Species::ALL);
            let head = rng.range(5, 3000);
            Farm {
                farm_id: rng.uuid(),
                name: format!("{}{}", rng.pick(FARM_NAMES), i + 1),
                species,
                head_on_hand: head,
                annual_out: rng.range(0, head * 2),
                manure_t: (species == Species::Other || rng.chance(0.2)).then(|| rng.dec1(1.0, 500.0)),
                utilized_pct: *rng.pick(&[0.0, 50.0, 70.0, 80.0, 90.0, 100.0]),
                facility_equipped: rng.chance(0.75),
            }
        })
        .collect();
    let water_bodies = (0..rng.range(0, 2) * rng.range(0, 1))
        .map(|_| {
            let depth = rng.chance(0.6).then(|| rng.dec1(10.0, 300.0));
            WaterBody {
                water_id: rng.uuid(),
                name: rng.pick(WATER_NAMES).to_string(),
                kind: *rng.pick(WaterKind::ALL),
                area_m2: rng.chance(0.5).then(|| rng.dec1(50.0, 20000.0)),
                length_m: rng.chance(0.5).then(|| rng.dec1(20.0, 3000.0)),
                depth_cm: depth,
                transparency_cm: rng.chance(0.6).then(|| rng.dec1(5.0, 80.0)),
                do_mg_l: rng.chance(0.6).then(|| rng.dec1(0.5, 9.0)),
                nh3n_mg_l: rng.chance(0.6).then(|| rng.dec1(0.1, 25.0)),
                listed: if rng.chance(0.8) { *rng.pick(&[Listed::National, Listed::Provincial]) } else { Listed::None },
                status: *rng.pick(WaterStatus::ALL),
            }
        })
        .collect();
    VisitData {
        village_code: village_code.to_string(),
        survey_date: date.to_string(),
        surveyor: rng.pick(SURVEYORS).to_string(),
        households,
        hh_sewer,
        hh_reuse,
        hh_controlled,
        natural_villages,
        nv_garbage_covered: rng.range(0, natural_villages),
        notes: rng.pick(NOTES).to_string(),
        facilities,
        farms,
        water_bodies,
    }
}

fn random_date(rng: &mut Rng) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).expect("valid date");
    (start + chrono::Days::new(rng.range(0, 3 * 365) as u64)).format("%Y-%m-%d").to_string()
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The four CSV writers of a bundle.
pub struct BundleWriter {
    visits: csv::Writer<BufWriter<File>>,
    facilities: csv::Writer<BufWriter<File>>,
    farms: csv::Writer<BufWriter<File>>,
    water: csv::Writer<BufWriter<File>>,
}

impl BundleWriter {
    pub fn create(dir: &Path) -> Result<BundleWriter> {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        let open = |name: &str, cols: &[&str]| -> Result<csv::Writer<BufWriter<File>>> {
            let f = File::create(dir.join(name)).with_context(|| dir.join(name).display().to_string())?;
            let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, f));
            w.write_record(cols)?;
            Ok(w)
        };
        Ok(BundleWriter {
            visits: open("visits.csv", VISIT_COLS)?,
            facilities: open("facilities.csv", FACILITY_COLS)?,
            farms: open("farms.csv", FARM_COLS)?,
            water: open("water_bodies.csv", WATER_COLS)?,
        })
    }

    pub fn write(&mut self, id: &str, v: &VisitData) -> Result<()> {
        let n = |x: i64| x.to_string();
        self.visits.write_record([
            id,
            &v.village_code,
            &v.survey_date,
            &v.surveyor,
            &n(v.households),
            &n(v.hh_sewer),
            &n(v.hh_reuse),
            &n(v.hh_controlled),
            &n(v.natural_villages),
            &n(v.nv_garbage_covered),
            &v.notes,
        ])?;
        for f in &v.facilities {
            self.facilities.write_record([
                id,
                &f.facility_id,
                f.kind.code(),
                &n(f.households_served),
                f.status.code(),
                &opt(f.capacity_m3_d),
            ])?;
        }
        for f in &v.farms {
            self.farms.write_record([
                id,
                &f.farm_id,
                &f.name,
                f.species.code(),
                &n(f.head_on_hand),
                &n(f.annual_out),
                &opt(f.manure_t),
                &f.utilized_pct.to_string(),
                if f.facility_equipped { "1" } else { "0" },
            ])?;
        }
        for w in &v.water_bodies {
            self.water.write_record([
                id,
                &w.water_id,
                &w.name,
                w.kind.code(),
                &opt(w.area_m2),
                &opt(w.length_m),
                &opt(w.depth_cm),
                &opt(w.transparency_cm),
                &opt(w.do_mg_l),
                &opt(w.nh3n_mg_l),
                w.listed.code(),
                w.status.code(),
            ])?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        for w in [self.visits, self.facilities, self.farms, self.water] {
            w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?.flush()?;
        }
        Ok(())
    }
}

/// Calls `f` with each administrative village code of a roster file, streaming.
pub fn for_each_village(roster: &Path, mut f: impl FnMut(&str) -> Result<()>) -> Result<()> {
    let mut problems = Problems::default();
    let name = roster.display().to_string();
    let t = Table::open(roster, &name, &["code", "name", "kind"], &["code", "name"], true, &mut problems)?;
    let Some(mut t) = t else { return Err(crate::store::bundle::Refused::from(problems).into()) };
    while t.next_row(&mut problems).is_some() {
        let village = match t.get(2).trim() {
            "" => name_is_village(t.get(1)),
            k => k == "village" || k == "行政村",
        };
        if village {
            f(t.get(0).trim())?;
        }
    }
    Ok(())
}

/// Writes a bundle with visits for about `fraction` of the roster's villages:
/// some villages visited again later, a few twice on the same day. Returns the
/// number of visits written.
pub fn generate(roster: &Path, seed: u64, fraction: f64, out: &Path) -> Result<u64> {
    let mut rng = Rng::new(seed);
    let mut w = BundleWriter::create(out)?;
    let mut count = 0;
    for_each_village(roster, |code| {
        if !rng.chance(fraction) {
            return Ok(());
        }
        let date = random_date(&mut rng);
        let first = random_visit(&mut rng, code, &date);
        w.write(&rng.uuid(), &first)?;
        count += 1;
        if rng.chance(0.1) {
            let later = random_date(&mut rng).max(date.clone());
            w.write(&rng.uuid(), &random_visit(&mut rng, code, &later))?;
            count += 1;
        }
        if rng.chance(0.01) {
            w.write(&rng.uuid(), &random_visit(&mut rng, code, &date))?;
            count += 1;
        }
        Ok(())
    })?;
    w.finish()?;
    // A compressed roster is left out: import it with `roster import`.
    if roster.extension().is_none_or(|e| e != "gz") {
        std::fs::copy(roster, out.join("villages.csv"))?;
    }
    Ok(count)
}

/// Saves `count` random visits of the roster's villages, each in its own
/// transaction, writing `saved VISIT_ID REV_ID` to `ack` after each commit
/// (the crash test kills this loop and checks every acknowledged save).
pub fn save_loop(store: &mut crate::store::Store, seed: u64, count: u64, ack: &mut impl Write) -> Result<()> {
    let codes = store.village_codes(Some(1000))?;
    anyhow::ensure!(!codes.is_empty(), "the roster has no villages");
    let mut rng = Rng::new(seed);
    for _ in 0..count {
        let id = rng.uuid();
        let code = rng.pick(&codes).clone();
        let date = random_date(&mut rng);
        let v = random_visit(&mut rng, &code, &date);
        store.save_visit(&v.surveyor.clone(), &id, Some(&v))?;
        let rev = store.current_revision(&id)?.context("a saved visit has a current revision")?;
        writeln!(ack, "saved {id} {rev}")?;
        ack.flush()?;
    }
    Ok(())
}
