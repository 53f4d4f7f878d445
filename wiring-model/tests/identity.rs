//! Property tests of guest identity and mask parsing: total (no panic on
//! any text), strict (each invalid field is named), round-tripping and with
//! a stable canonical form.

use proptest::prelude::*;
use wiring_model::Auth;
use wiring_model::Uuid;
use wiring_model::identity::{Field, GuestIdentity};
use wiring_model::mask::GuestMask;

/// The seven fields of a valid identity, as text that may use odd (but
/// accepted) spellings: upper-case host names, short classes, upper-case uuids.
#[derive(Debug, Clone)]
struct Parts {
    fqdn: String,
    server: String,
    class: u32,
    class_text: String,
    owner: String,
    auth: Auth,
    mechanism: String,
    uuid: Uuid,
    uuid_text: String,
}

impl Parts {
    fn fields(&self) -> [String; 7] {
        [
            self.fqdn.clone(),
            self.server.clone(),
            self.class_text.clone(),
            self.owner.clone(),
            self.auth.as_str().to_owned(),
            self.mechanism.clone(),
            self.uuid_text.clone(),
        ]
    }

    fn text(&self) -> String {
        self.fields().join(":")
    }

    fn canonical(&self) -> String {
        format!(
            "{}:{}:0x{:08x}:{}:{}:{}:{}",
            self.fqdn.to_ascii_lowercase(),
            self.server,
            self.class,
            self.owner,
            self.auth.as_str(),
            self.mechanism,
            self.uuid.hyphenated()
        )
    }
}

fn label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([a-zA-Z0-9-]{0,14}[a-zA-Z0-9])?"
}

fn fqdn() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..5).prop_map(|labels| labels.join("."))
}

fn class_text(class: u32) -> impl Strategy<Value = String> {
    let min = format!("{class:x}").len();
    (min..=8usize, any::<bool>()).prop_map(move |(width, upper)| {
        let digits = format!("{class:0width$x}");
        if upper {
            format!("0x{}", digits.to_ascii_uppercase())
        } else {
            format!("0x{digits}")
        }
    })
}

fn auth() -> impl Strategy<Value = (Auth, String)> {
    prop_oneof![
        Just((Auth::No, "none".to_owned())),
        "[a-z0-9-]{1,16}"
            .prop_filter("not none", |m| m != "none")
            .prop_map(|m| (Auth::Yes, m)),
        "[a-z0-9-]{1,16}"
            .prop_filter("not none", |m| m != "none")
            .prop_map(|m| (Auth::Optional, m)),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        fqdn(),
        "[a-z0-9_-]{1,20}",
        any::<u32>().prop_flat_map(|c| (Just(c), class_text(c))),
        "[A-Za-z0-9._-]{1,20}",
        auth(),
        any::<u128>(),
        any::<bool>(),
    )
        .prop_map(
            |(fqdn, server, (class, class_text), owner, (auth, mechanism), uuid, upper)| {
                let uuid = Uuid::from_u128(uuid);
                let text = uuid.hyphenated().to_string();
                Parts {
                    fqdn,
                    server,
                    class,
                    class_text,
                    owner,
                    auth,
                    mechanism,
                    uuid,
                    uuid_text: if upper {
                        text.to_ascii_uppercase()
                    } else {
                        text
                    },
                }
            },
        )
}

/// A value that is invalid for field `i` (0..7) whatever the other fields are,
/// except for the auth mechanism, which is checked against a valid flag.
fn invalid(i: usize) -> BoxedStrategy<String> {
    match i {
        // fqdn: a bad character, an empty label, a leading or trailing hyphen, too long.
        0 => prop_oneof![
            Just(String::new()),
            "[a-z]{1,5}[_ /é!][a-z]{0,5}",
            "[a-z]{1,5}\\.\\.[a-z]{1,5}",
            "-[a-z]{1,5}",
            "[a-z]{1,5}-",
            "[a-z]{1,5}\\.",
            "[a-z]{64,70}",
        ]
        .boxed(),
        // server name: upper case or other characters.
        1 => prop_oneof![Just(String::new()), "[a-z]{0,4}[A-Z.@ é][a-z]{0,4}"].boxed(),
        // class: no prefix, no digits, too many, not hex.
        2 => prop_oneof![
            Just(String::new()),
            Just("0x".to_owned()),
            "[0-9a-f]{1,8}",
            "0X[0-9a-f]{1,8}",
            "0x[0-9a-f]{9,12}",
            "0x[0-9a-f]{0,3}[g-z][0-9a-f]{0,3}",
        ]
        .boxed(),
        // owner: spaces and other characters.
        3 => prop_oneof![Just(String::new()), "[a-z]{0,4}[ /@é+][a-z]{0,4}"].boxed(),
        // auth flag: anything but the three.
        4 => "[a-zA-Z]{0,9}"
            .prop_filter("valid flag", |f| {
                !matches!(f.as_str(), "yes" | "no" | "optional")
            })
            .boxed(),
        // auth mechanism: bad characters (valid shape mismatches are tested separately).
        5 => prop_oneof![Just(String::new()), "[a-z]{0,4}[A-Z_ .][a-z]{0,4}"].boxed(),
        // uuid: wrong grouping or characters.
        _ => prop_oneof![
            Just(String::new()),
            "[0-9a-f]{32}",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{11}",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{13}",
            "\\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\}",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{11}[g-z]",
        ]
        .boxed(),
    }
}

/// A glob matcher written the slow, obvious way, to check the real one.
fn reference_glob(p: &[u8], t: &[u8]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((b'*', rest)) => (0..=t.len()).any(|i| reference_glob(rest, &t[i..])),
        Some((b'?', rest)) => !t.is_empty() && reference_glob(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && reference_glob(rest, &t[1..]),
    }
}

/// Turns a field value into a glob that matches it: some characters become
/// `?`, some runs become `*`.
fn globify(value: &str, picks: &[u8]) -> String {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    let mut i = 0;
    while let Some(c) = chars.next() {
        match picks.get(i).copied().unwrap_or(0) % 6 {
            0 => out.push('?'),
            1 => {
                out.push('*');
                // Swallow a run of up to 3 more characters.
                for _ in 0..picks.get(i + 1).copied().unwrap_or(0) % 4 {
                    if chars.next().is_none() {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if out.is_empty() { "*".to_owned() } else { out }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = GuestIdentity::parse(&text);
        let _ = GuestMask::parse(&text);
    }

    #[test]
    fn identity_like_text_never_panics(
        text in "[a-zA-Z0-9:.*?/_xé-]{0,90}",
    ) {
        if let Ok(id) = GuestIdentity::parse(&text) {
            // Whatever parses round-trips.
            prop_assert_eq!(GuestIdentity::parse(&id.to_string()), Ok(id));
        }
        if let Ok(mask) = GuestMask::parse(&text) {
            prop_assert_eq!(GuestMask::parse(&mask.to_string()), Ok(mask));
        }
    }

    #[test]
    fn seven_fields_of_junk_never_panic(
        fields in prop::collection::vec("[ -~é]{0,12}", 7),
    ) {
        let text = fields.join(":");
        let _ = GuestIdentity::parse(&text);
        let _ = GuestMask::parse(&text);
    }

    #[test]
    fn every_valid_identity_parses_and_round_trips(p in parts()) {
        let text = p.text();
        let id = GuestIdentity::parse(&text);
        prop_assert!(id.is_ok(), "{}: {:?}", text, id);
        let Ok(id) = id else { unreachable!() };
        prop_assert_eq!(id.fqdn(), p.fqdn.to_ascii_lowercase());
        prop_assert_eq!(id.server(), &p.server);
        prop_assert_eq!(id.class(), p.class);
        prop_assert_eq!(id.owner(), &p.owner);
        prop_assert_eq!(id.auth(), p.auth);
        prop_assert_eq!(id.auth_mechanism(), &p.mechanism);
        prop_assert_eq!(id.uuid(), p.uuid);
        // The canonical form: lowercase host name, 8 lowercase class digits, lowercase uuid.
        let canonical = id.to_string();
        prop_assert_eq!(&canonical, &p.canonical());
        // Round trip, and the canonical form is stable.
        let again = GuestIdentity::parse(&canonical);
        prop_assert_eq!(again.as_ref(), Ok(&id));
        prop_assert_eq!(again.map(|i| i.to_string()), Ok(canonical.clone()));
        // Built from parts, the same identity.
        let built = GuestIdentity::new(&p.fqdn, &p.server, p.class, &p.owner, p.auth, &p.mechanism, p.uuid);
        prop_assert_eq!(built, Ok(id.clone()));
        // The exact mask matches it; the any mask too.
        prop_assert!(GuestMask::exact(&id).matches(&id));
        prop_assert!(GuestMask::any().matches(&id));
        prop_assert_eq!(GuestMask::parse(&canonical).map(|m| m.matches(&id)), Ok(true));
    }

    #[test]
    fn each_invalid_field_is_named(
        p in parts(),
        (i, bad) in (0usize..7).prop_flat_map(|i| (Just(i), invalid(i))),
    ) {
        let mut fields = p.fields();
        fields[i] = bad.clone();
        let text = fields.join(":");
        let e = GuestIdentity::parse(&text);
        if bad.contains(':') {
            return Ok(());
        }
        let Err(e) = e else {
            return Err(TestCaseError::fail(format!("{text} parsed")));
        };
        prop_assert_eq!(e.field, Field::ALL[i], "{}: {}", text, e);
        prop_assert_eq!(&text[e.range.clone()], bad.as_str());
        prop_assert!(e.to_string().contains(Field::ALL[i].as_str()), "{}", e);
        // The mask parser refuses a field without wildcards that no identity can have.
        let m = GuestMask::parse(&text);
        if let Err(m) = m {
            prop_assert_eq!(m.field, Field::ALL[i]);
        } else if i != 4 {
            return Err(TestCaseError::fail(format!("mask {text} parsed")));
        }
    }

    #[test]
    fn mechanism_is_none_exactly_when_the_flag_is_no(
        p in parts(),
        mechanism in "[a-z0-9-]{1,10}",
    ) {
        let mut fields = p.fields();
        fields[5] = mechanism.clone();
        let text = fields.join(":");
        let ok = (p.auth == Auth::No) == (mechanism == "none");
        let parsed = GuestIdentity::parse(&text);
        prop_assert_eq!(parsed.is_ok(), ok, "{}", text);
        if let Err(e) = parsed {
            prop_assert_eq!(e.field, Field::AuthMechanism);
        }
    }

    #[test]
    fn wrong_number_of_fields_is_a_shape_error(p in parts(), n in 0usize..12) {
        prop_assume!(n != 7);
        let fields = p.fields();
        let text: Vec<String> = (0..n).map(|i| fields[i % 7].clone()).collect();
        let text = text.join(":");
        prop_assert_eq!(GuestIdentity::parse(&text).map_err(|e| e.field), Err(Field::Shape));
        prop_assert_eq!(GuestMask::parse(&text).map_err(|e| e.field), Err(Field::Shape));
    }

    #[test]
    fn globbed_identities_match(
        p in parts(),
        picks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..60), 7),
        keep in prop::collection::vec(any::<bool>(), 7),
    ) {
        let Ok(id) = GuestIdentity::parse(&p.text()) else {
            return Err(TestCaseError::fail("valid parts"));
        };
        let canonical: Vec<String> = id.to_string().split(':').map(str::to_owned).collect();
        let fields: Vec<String> = canonical
            .iter()
            .enumerate()
            .map(|(i, f)| if keep[i] { f.clone() } else { globify(f, &picks[i]) })
            .collect();
        let text = fields.join(":");
        let mask = GuestMask::parse(&text);
        prop_assert!(mask.is_ok(), "{}: {:?}", text, mask);
        let Ok(mask) = mask else { unreachable!() };
        prop_assert!(mask.matches(&id), "{} does not match {}", text, id);
        // The canonical text of a mask round-trips and is stable.
        let again = GuestMask::parse(&mask.to_string());
        prop_assert_eq!(again.as_ref(), Ok(&mask));
        prop_assert_eq!(again.map(|m| m.to_string()), Ok(mask.to_string()));
    }

    #[test]
    fn globs_agree_with_the_reference(
        pattern in "[ab*?]{0,10}",
        text in "[ab]{0,12}",
    ) {
        // Through the owner field, whose alphabet includes `a` and `b`.
        let mask = GuestMask::parse(&format!("*:*:*:{}:*:*:*", if pattern.is_empty() { "*" } else { &pattern }));
        let owner = if text.is_empty() { "a".to_owned() } else { text.clone() };
        let id = GuestIdentity::parse(&format!("h:s:0x1:{owner}:no:none:{}", Uuid::nil()));
        let (Ok(mask), Ok(id)) = (mask, id) else {
            return Err(TestCaseError::fail("valid"));
        };
        let p = if pattern.is_empty() { "*".to_owned() } else { pattern };
        prop_assert_eq!(mask.matches(&id), reference_glob(p.as_bytes(), owner.as_bytes()));
    }

    #[test]
    fn class_value_mask_matches_by_bits(class in any::<u32>(), value in any::<u32>(), bits in any::<u32>()) {
        let value = value & bits;
        let text = format!("*:*:0x{value:x}/0x{bits:X}:*:*:*:*");
        let Ok(mask) = GuestMask::parse(&text) else {
            return Err(TestCaseError::fail(text));
        };
        let Ok(id) = GuestIdentity::new("h", "s", class, "o", Auth::No, "none", Uuid::nil()) else {
            return Err(TestCaseError::fail("valid"));
        };
        prop_assert_eq!(mask.matches(&id), class & bits == value);
        prop_assert_eq!(GuestMask::class(value, bits).matches(&id), class & bits == value);
    }

    #[test]
    fn class_value_with_bits_outside_the_mask_is_refused(value in any::<u32>(), bits in any::<u32>()) {
        prop_assume!(value & !bits != 0);
        let e = GuestMask::parse(&format!("*:*:0x{value:x}/0x{bits:x}:*:*:*:*"));
        prop_assert_eq!(e.as_ref().map_err(|e| e.field), Err(Field::Class));
        prop_assert!(e.is_err_and(|e| e.reason.contains("outside the mask")));
    }
}
