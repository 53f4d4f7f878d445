//! The refinery's servers and the messages they exchange.

pub mod alarm;
pub mod column;
pub mod historian;
pub mod manifold;
pub mod storage;
pub mod validator;
pub mod wells;

/// One reading taken at a well head.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Sample {
    pub well: u8,
    pub seq: u64,
    pub pressure_bar: f64,
    pub temperature_c: f64,
}

/// Product fractions of a distillation column, lightest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Gas,
    Naphtha,
    Kerosene,
    Diesel,
    Residue,
}

impl Grade {
    pub const ALL: [Grade; 5] = [
        Grade::Gas,
        Grade::Naphtha,
        Grade::Kerosene,
        Grade::Diesel,
        Grade::Residue,
    ];
}

/// A batch of product leaving the column.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Cut {
    pub grade: Grade,
    pub volume_l: f64,
    pub temperature_c: f64,
}
