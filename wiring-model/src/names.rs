//! The closest existing name, for `help: did you mean ..?`.
//!
//! Only names of a sensible length get a suggestion, so that the cost stays
//! linear in what the wiring file holds however long a name someone wrote.

/// Names longer than this (in chars) get no suggestion and are suggested for
/// none: a typo in a name this long is not what the user made.
pub const LONGEST: usize = 64;

/// Optimal string alignment distance (Levenshtein plus adjacent
/// transpositions) on chars, when it is at most `limit`; `None` beyond.
pub fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    if a.chars().count().abs_diff(b.chars().count()) > limit {
        return None;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two back (for transpositions), one back, this one.
    let mut before: Vec<usize> = Vec::new();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
        }
        // Every later row is at least this row's minimum.
        if row.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
        before = std::mem::replace(&mut previous, row);
    }
    Some(previous[b.len()]).filter(|&d| d <= limit)
}

/// The candidate closest to `name`, if one is close enough to be a likely typo:
/// equal ignoring case, or within a third of the name's length (at least 1).
/// Ties go to the first candidate.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().take(LONGEST + 1).count();
    if length > LONGEST {
        return None;
    }
    let limit = (length / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(name) {
            Some(0)
        } else {
            edit_distance(name, candidate, limit)
        };
        if let Some(distance) = distance
            && best.is_none_or(|(d, _)| distance < d)
        {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// The closest Rust path: a close spelling of the whole path, else a path with
/// the same last segment (`servers::Sensor` for `Sensor`), else one whose last
/// segment is close. "Close" is measured on the last segment's length; ties go
/// to the shorter path.
pub fn closest_path<'a>(
    path: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    let last = last_segment(path);
    let length = last.chars().take(LONGEST + 1).count();
    if length > LONGEST || path.chars().nth(4 * LONGEST).is_some() {
        return None;
    }
    let limit = (length / 3).max(1);
    let pick = |score: &dyn Fn(&str) -> Option<usize>| {
        let mut best: Option<(usize, usize, &'a str)> = None;
        for candidate in candidates.clone() {
            if candidate == path {
                continue;
            }
            if let Some(distance) = score(candidate) {
                let key = (distance, candidate.len());
                if best.is_none_or(|(d, l, _)| key < (d, l)) {
                    best = Some((distance, candidate.len(), candidate));
                }
            }
        }
        best.map(|(_, _, c)| c)
    };
    pick(&|c| edit_distance(path, c, limit))
        .or_else(|| pick(&|c| (last_segment(c) == last).then_some(0)))
        .or_else(|| {
            pick(&|c| {
                let other = last_segment(c);
                if other.eq_ignore_ascii_case(last) {
                    Some(0)
                } else {
                    edit_distance(last, other, limit)
                }
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let d = |a, b| edit_distance(a, b, usize::MAX);
        assert_eq!(d("", ""), Some(0));
        assert_eq!(d("abc", ""), Some(3));
        assert_eq!(d("kitten", "sitting"), Some(3));
        assert_eq!(d("readings", "raedings"), Some(1));
        assert_eq!(d("é", "e"), Some(1));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance("a", "abcdef", 2), None);
    }

    #[test]
    fn suggests_likely_typos_only() {
        let names = ["readings", "alerts", "clean"];
        assert_eq!(closest("raedings", names), Some("readings"));
        assert_eq!(closest("alert", names), Some("alerts"));
        assert_eq!(closest("Clean", names), Some("clean"));
        assert_eq!(closest("zzz", names), None);
        assert_eq!(closest("readings", names), None);
        assert_eq!(closest("", names), None);
    }

    #[test]
    fn long_names_get_no_suggestion() {
        let long = "a".repeat(LONGEST);
        let longer = format!("{long}b");
        assert_eq!(
            closest(&format!("{}b", "a".repeat(LONGEST - 2)), [long.as_str()]),
            Some(long.as_str())
        );
        assert_eq!(closest(&longer, [long.as_str()]), None);
        let huge = "x".repeat(10 << 20);
        assert_eq!(closest(&huge, [huge.as_str(), "x"]), None);
        assert_eq!(closest_path(&huge, [huge.as_str(), "x"]), None);
    }

    #[test]
    fn suggests_paths() {
        let paths = ["servers::Sensor", "servers::Filter", "sinks::Store"];
        assert_eq!(
            closest_path("servers::Sensr", paths),
            Some("servers::Sensor")
        );
        assert_eq!(closest_path("Sensor", paths), Some("servers::Sensor"));
        assert_eq!(closest_path("sink::Store", paths), Some("sinks::Store"));
        assert_eq!(closest_path("Stor", paths), Some("sinks::Store"));
        assert_eq!(closest_path("Pump", paths), None);
        assert_eq!(
            closest_path("servers::Merg", ["servers::Sensor", "servers::Merge"]),
            Some("servers::Merge")
        );
        assert_eq!(closest_path("servers::Sensr", ["servers::Merge"]), None);
        assert_eq!(
            closest_path("Sensor", ["servers::sensor::Sensor", "servers::Sensor"]),
            Some("servers::Sensor")
        );
    }
}
