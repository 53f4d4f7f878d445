//! Inclusive port ranges, as in `1024-65535`.

use std::fmt;
use std::str::FromStr;

/// Ports below this need privileges; the beacon and the probe never use them.
pub const FIRST_UNPRIVILEGED: u16 = 1024;

/// An inclusive range of ports, `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    first: u16,
    last: u16,
}

/// Why a port range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortRangeError {
    /// Not `first-last` or a single port number.
    #[error("`{0}` is not a port range: expected `first-last` or a single port, e.g. `1024-65535`")]
    Syntax(String),
    /// The first port is above the last.
    #[error("port range {first}-{last} is empty: the first port is above the last")]
    Empty {
        /// The first port given.
        first: u16,
        /// The last port given.
        last: u16,
    },
    /// The range includes ports below 1024, which the probe does not scan.
    #[error(
        "port range {first}-{last} reaches below {FIRST_UNPRIVILEGED}: only unprivileged ports are allowed"
    )]
    Privileged {
        /// The first port given.
        first: u16,
        /// The last port given.
        last: u16,
    },
}

impl PortRange {
    /// Any range with `first <= last`, privileged ports included (a beacon
    /// skips those, a probe refuses them with [`PortRange::unprivileged`]).
    pub fn new(first: u16, last: u16) -> Result<PortRange, PortRangeError> {
        if first > last {
            return Err(PortRangeError::Empty { first, last });
        }
        Ok(PortRange { first, last })
    }

    /// This range when none of its ports is below 1024.
    pub fn unprivileged(self) -> Result<PortRange, PortRangeError> {
        if self.first < FIRST_UNPRIVILEGED {
            return Err(PortRangeError::Privileged {
                first: self.first,
                last: self.last,
            });
        }
        Ok(self)
    }

    /// The first port.
    pub fn first(self) -> u16 {
        self.first
    }

    /// Number of ports in the range (1 to 65536).
    pub fn count(self) -> usize {
        usize::from(self.last - self.first) + 1
    }

    /// Every port of the range, in order.
    pub fn ports(self) -> std::ops::RangeInclusive<u16> {
        self.first..=self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = PortRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || PortRangeError::Syntax(text.to_owned());
        let port = |s: &str| s.trim().parse::<u16>().map_err(|_| syntax());
        match text.split_once('-') {
            Some((first, last)) => PortRange::new(port(first)?, port(last)?),
            None => {
                let single = port(text)?;
                PortRange::new(single, single)
            }
        }
    }
}

/// Consecutive ports sharing a value, as `(first, last, value)` runs: how
/// skipped ports are logged and how the port matrix is compressed.
pub fn runs<T: PartialEq>(items: impl IntoIterator<Item = (u16, T)>) -> Vec<(u16, u16, T)> {
    let mut out: Vec<(u16, u16, T)> = Vec::new();
    for (port, value) in items {
        match out.last_mut() {
            Some((_, last, v)) if *v == value && last.checked_add(1) == Some(port) => *last = port,
            _ => out.push((port, port, value)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_single_ports() {
        assert_eq!("1024-65535".parse(), PortRange::new(1024, 65535));
        assert_eq!(" 5000 ".parse(), PortRange::new(5000, 5000));
        assert_eq!(
            "9-8".parse::<PortRange>(),
            Err(PortRangeError::Empty { first: 9, last: 8 })
        );
        for bad in ["", "-", "1-", "a-b", "1-70000", "1-2-3"] {
            assert!(
                matches!(bad.parse::<PortRange>(), Err(PortRangeError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn privileged_ranges_are_refused_on_request() {
        let r = PortRange::new(1023, 2000).unwrap();
        assert!(r.unprivileged().is_err());
        assert!(PortRange::new(1024, 2000).unwrap().unprivileged().is_ok());
        assert_eq!(PortRange::new(0, 65535).unwrap().count(), 65536);
        assert_eq!(r.to_string().parse(), Ok(r));
    }

    #[test]
    fn runs_join_consecutive_equal_values() {
        let items = [(1, 'a'), (2, 'a'), (3, 'b'), (5, 'b'), (65535, 'b')];
        assert_eq!(
            runs(items),
            [(1, 2, 'a'), (3, 3, 'b'), (5, 5, 'b'), (65535, 65535, 'b')]
        );
    }
}
