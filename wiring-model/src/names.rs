//! The closest existing name, for `help: did you mean ..?`.

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions),
/// on chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// The candidate closest to `name`, if one is close enough to be a likely typo:
/// equal ignoring case, or within a third of the name's length (at least 1).
/// Ties go to the first candidate.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            edit_distance(name, candidate)
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
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
    let limit = (last.chars().count() / 3).max(1);
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
    pick(&|c| Some(edit_distance(path, c)).filter(|d| *d <= limit))
        .or_else(|| pick(&|c| (last_segment(c) == last).then_some(0)))
        .or_else(|| {
            pick(&|c| {
                let other = last_segment(c);
                let d = if other.eq_ignore_ascii_case(last) {
                    0
                } else {
                    edit_distance(last, other)
                };
                (d <= limit).then_some(d)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("readings", "raedings"), 1);
        assert_eq!(edit_distance("é", "e"), 1);
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
