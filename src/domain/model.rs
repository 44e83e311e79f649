//! Visits and their child rows (SPEC §2), with the enumerations' codes and
//! Chinese labels. The serde form of [`VisitData`] is the canonical revision
//! payload, so field order here is part of the revision id: do not reorder.

use serde::{Deserialize, Serialize};

/// Defines an enumeration with its English code (used in files and the
/// database) and its Chinese and English labels (accepted on import, shown in
/// the UI).
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The code written to files and the database.
            pub fn code(self) -> &'static str { match self { $($name::$var => $code),+ } }
            /// The Chinese label.
            pub fn zh(self) -> &'static str { match self { $($name::$var => $zh),+ } }
            /// The English label.
            pub fn en(self) -> &'static str { match self { $($name::$var => $en),+ } }
            /// Accepts the code or the Chinese label, ignoring surrounding blanks.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code() == s || v.zh() == s)
            }
            /// The accepted spellings, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| format!("{} ({})", v.code(), v.zh())).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

code_enum!(
    /// 污水处理设施类型
    FacilityKind {
        Central = "central", "集中式", "central";
        Decentral = "decentral", "分散式", "decentralised";
    }
);

code_enum!(
    /// 设施运行状态
    FacilityStatus {
        Normal = "normal", "正常运行", "normal";
        Faulty = "faulty", "故障", "faulty";
        Idle = "idle", "闲置", "idle";
        Abandoned = "abandoned", "废弃", "abandoned";
    }
);

code_enum!(
    /// 畜种
    Species {
        Pig = "pig", "生猪", "pig";
        DairyCattle = "dairy_cattle", "奶牛", "dairy cattle";
        BeefCattle = "beef_cattle", "肉牛", "beef cattle";
        SheepGoat = "sheep_goat", "羊", "sheep/goat";
        Layer = "layer", "蛋鸡", "layer";
        Broiler = "broiler", "肉鸡", "broiler";
        Other = "other", "其他", "other";
    }
);

code_enum!(
    /// 水体类型
    WaterKind {
        Pond = "pond", "坑塘", "pond";
        Ditch = "ditch", "沟渠", "ditch";
        River = "river", "河段", "river reach";
        Other = "other", "其他", "other";
    }
);

code_enum!(
    /// 监管清单
    Listed {
        National = "national", "国家级", "national";
        Provincial = "provincial", "省级", "provincial";
        None = "none", "未列入", "not listed";
    }
);

code_enum!(
    /// 治理状态
    WaterStatus {
        Identified = "identified", "已排查", "identified";
        Remediating = "remediating", "治理中", "remediating";
        Remediated = "remediated", "已完成治理", "remediated";
        Verified = "verified", "已验收", "verified";
    }
);

/// 污水处理设施
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    pub facility_id: String,
    pub kind: FacilityKind,
    pub households_served: i64,
    pub status: FacilityStatus,
    pub capacity_m3_d: Option<f64>,
}

/// 畜禽养殖场/户
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Farm {
    pub farm_id: String,
    pub name: String,
    pub species: Species,
    pub head_on_hand: i64,
    pub annual_out: i64,
    pub manure_t: Option<f64>,
    pub utilized_pct: f64,
    pub facility_equipped: bool,
}

/// 黑臭水体
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaterBody {
    pub water_id: String,
    pub name: String,
    pub kind: WaterKind,
    pub area_m2: Option<f64>,
    pub length_m: Option<f64>,
    pub depth_cm: Option<f64>,
    pub transparency_cm: Option<f64>,
    pub do_mg_l: Option<f64>,
    pub nh3n_mg_l: Option<f64>,
    pub listed: Listed,
    pub status: WaterStatus,
}

/// Everything a visit records except its id: the revision payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitData {
    pub village_code: String,
    pub survey_date: String,
    pub surveyor: String,
    pub households: i64,
    pub hh_sewer: i64,
    pub hh_reuse: i64,
    pub hh_controlled: i64,
    pub natural_villages: i64,
    pub nv_garbage_covered: i64,
    pub notes: String,
    pub facilities: Vec<Facility>,
    pub farms: Vec<Farm>,
    pub water_bodies: Vec<WaterBody>,
}

/// A visit: one crew's survey of one village on one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub visit_id: String,
    pub data: VisitData,
}

impl VisitData {
    /// Child rows sorted by id, so that equal visits have equal payloads.
    pub fn canonicalize(&mut self) {
        self.facilities.sort_by(|a, b| a.facility_id.cmp(&b.facility_id));
        self.farms.sort_by(|a, b| a.farm_id.cmp(&b.farm_id));
        self.water_bodies.sort_by(|a, b| a.water_id.cmp(&b.water_id));
    }

    /// The canonical JSON payload of a revision.
    pub fn canonical_json(&self) -> String {
        let mut c = self.clone();
        c.canonicalize();
        serde_json::to_string(&c).expect("visit data always serialises")
    }
}

/// Whether a roster unit is an administrative village (SPEC §1) when the
/// roster gives no kind.
pub fn name_is_village(name: &str) -> bool {
    let n = name.trim();
    n.ends_with('村') || n.ends_with("村委会") || n.ends_with("村民委员会")
}

/// A village-level unit of the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterUnit {
    pub code: String,
    pub name: String,
    pub is_village: bool,
    pub township_name: Option<String>,
    pub county_name: Option<String>,
    pub urban_rural_code: Option<String>,
}

/// The area levels of SPEC §5 and the code prefix length of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    County,
    Township,
    Village,
}

impl Level {
    pub const ALL: [Level; 5] = [Level::Province, Level::City, Level::County, Level::Township, Level::Village];
    pub fn prefix_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == s)
    }
    /// The level below this one, if any.
    pub fn child(self) -> Option<Level> {
        match self {
            Level::Province => Some(Level::City),
            Level::City => Some(Level::County),
            Level::County => Some(Level::Township),
            Level::Township => Some(Level::Village),
            Level::Village => None,
        }
    }
}
