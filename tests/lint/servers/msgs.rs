//! Message types shared by the fixture servers.

/// A sensor value.
pub type Reading = f64;

/// Encoded bytes.
pub type Bytes = Vec<u8>;

/// A video frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub id: u64,
    pub data: Vec<u8>,
}

/// An alert raised by a filter.
#[derive(Clone, Debug)]
pub struct Alert {
    pub level: u8,
    pub text: String,
}
