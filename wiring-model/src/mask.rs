//! Guest masks: which guests a query or a booking wants.
//!
//! A mask mirrors the identity: seven fields separated by `:`,
//! `fqdn:servername:class:owner:authFlag:authMechanism:uuid`, each a glob
//! where `*` matches any run of characters (also none) and `?` exactly one.
//! The class field is one of
//! - `*` (any class),
//! - a class (`0x` and 1 to 8 hex digits): exactly that class,
//! - `value/mask`, both classes: matches when `class & mask == value`,
//!   e.g. `0x00000a00/0x0000ff00` is every class whose second byte is `0x0a`,
//! - a glob over the canonical class text `0x` + 8 lowercase digits, e.g.
//!   `0x00000a??` or `*a01`.
//!
//! A field without `*` or `?` must be a valid value of its field (a mask that
//! could never match is refused with the reason). Host names, classes and
//! uuids compare without regard to case, like identities do; the canonical
//! text of a mask ([`Display`](fmt::Display)) writes them in lowercase and
//! parses back to an equal mask.
//!
//! ```
//! use wiring_model::{GuestIdentity, GuestMask};
//!
//! let id: GuestIdentity =
//!     "plant-a.example:alarm:0x00000a01:ops:no:none:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f"
//!         .parse()
//!         .unwrap();
//! let mask: GuestMask = "*.example:*:0x00000a00/0x0000ff00:ops:*:*:*".parse().unwrap();
//! assert!(mask.matches(&id));
//! assert!(!"*:*:0x0b01:*:*:*:*".parse::<GuestMask>().unwrap().matches(&id));
//! ```

use std::fmt;
use std::str::FromStr;

use crate::identity::{
    Field, GuestIdentity, IdentityError, check_fqdn, check_mechanism, check_owner,
    check_server_name, parse_auth, parse_class, parse_uuid, quote, split_fields,
};
use crate::manifest::Auth;

/// A parsed guest mask; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GuestMask {
    fqdn: Pattern,
    server: Pattern,
    class: ClassPattern,
    owner: Pattern,
    auth: Pattern,
    auth_mechanism: Pattern,
    uuid: Pattern,
}

/// The fields of an identity, borrowed: a guest book keeps them in a
/// compact form and matches masks on them without building identities.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// The host name, lowercase.
    pub fqdn: &'a str,
    /// The server name.
    pub server: &'a str,
    /// The class.
    pub class: u32,
    /// The owner.
    pub owner: &'a str,
    /// The auth flag.
    pub auth: Auth,
    /// The auth mechanism.
    pub auth_mechanism: &'a str,
    /// The uuid.
    pub uuid: uuid::Uuid,
}

/// What is wrong with a mask: the same shape as an identity error.
pub type MaskError = IdentityError;

/// One glob field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pattern {
    /// `*`.
    Any,
    /// No wildcard: the field must equal this text.
    Exact(String),
    /// A glob with `*` and `?`.
    Glob(String),
}

/// The class field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ClassPattern {
    Any,
    /// `class & mask == value`; an exact class has mask `0xffffffff`.
    Bits {
        value: u32,
        mask: u32,
    },
    /// A glob over `0x` + 8 lowercase digits.
    Glob(String),
}

fn is_wild(c: char) -> bool {
    c == '*' || c == '?'
}

/// Parses a glob field: `*`, an exact value checked by `check`, or a glob
/// whose other characters `allowed` accepts. `lower` folds case first.
fn pattern(
    text: &str,
    what: &str,
    class: &str,
    allowed: impl Fn(char) -> bool,
    check: impl Fn(&str) -> Result<String, String>,
    lower: bool,
) -> Result<Pattern, String> {
    if text.is_empty() {
        return Err(format!("the {what} is empty; write `*` to match any"));
    }
    if text == "*" {
        return Ok(Pattern::Any);
    }
    if let Some(c) = text.chars().find(|c| !(is_wild(*c) || allowed(*c))) {
        let shown: String = c.escape_debug().collect();
        let a = if what.starts_with(['a', 'e', 'i', 'o']) {
            "an"
        } else {
            "a"
        };
        return Err(format!(
            "`{shown}` is not allowed in {a} {what} pattern ({class}, `*` and `?`)"
        ));
    }
    let text = if lower {
        text.to_ascii_lowercase()
    } else {
        text.to_owned()
    };
    if text.chars().any(is_wild) {
        // `**` matches what `*` matches: keep one, so equal masks compare equal.
        let mut folded = String::with_capacity(text.len());
        for c in text.chars() {
            if !(c == '*' && folded.ends_with('*')) {
                folded.push(c);
            }
        }
        if folded == "*" {
            return Ok(Pattern::Any);
        }
        Ok(Pattern::Glob(folded))
    } else {
        check(&text).map(Pattern::Exact)
    }
}

fn class_pattern(text: &str) -> Result<ClassPattern, String> {
    if text.is_empty() {
        return Err("the class is empty; write `*` to match any".to_owned());
    }
    if text == "*" {
        return Ok(ClassPattern::Any);
    }
    if let Some((value, mask)) = text.split_once('/') {
        let value = parse_class(value).map_err(|e| format!("before `/`: {e}"))?;
        let mask = parse_class(mask).map_err(|e| format!("after `/`: {e}"))?;
        if value & !mask != 0 {
            return Err(format!(
                "the value 0x{value:08x} has bits outside the mask 0x{mask:08x} \
                 (0x{:08x}), so no class can match; clear them or widen the mask",
                value & !mask
            ));
        }
        return Ok(ClassPattern::Bits { value, mask });
    }
    if text.chars().any(is_wild) {
        match pattern(
            text,
            "class",
            "`0x` and hex digits",
            |c| c.is_ascii_hexdigit() || c == 'x',
            |t| Ok(t.to_owned()),
            true,
        )? {
            Pattern::Any => Ok(ClassPattern::Any),
            Pattern::Glob(g) | Pattern::Exact(g) => Ok(ClassPattern::Glob(g)),
        }
    } else {
        parse_class(text).map(|value| ClassPattern::Bits {
            value,
            mask: u32::MAX,
        })
    }
}

impl GuestMask {
    /// The mask that matches every guest: `*:*:*:*:*:*:*`.
    pub const ANY_TEXT: &'static str = "*:*:*:*:*:*:*";

    /// Parses the seven-field form; see the module documentation.
    pub fn parse(text: &str) -> Result<GuestMask, MaskError> {
        let fields = split_fields(text, "the mask")?;
        let at = |i: usize, reason: String| IdentityError {
            field: Field::ALL[i],
            range: fields[i].0.clone(),
            reason,
        };
        let fqdn = pattern(
            fields[0].1,
            "host name",
            "letters, digits, `-` and `.`",
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '.',
            |t| check_fqdn(t).map(|()| t.to_owned()),
            true,
        )
        .map_err(|r| at(0, r))?;
        let server = pattern(
            fields[1].1,
            "server name",
            "[a-z0-9_-]",
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-',
            |t| check_server_name(t).map(|()| t.to_owned()),
            false,
        )
        .map_err(|r| at(1, r))?;
        let class = class_pattern(fields[2].1).map_err(|r| at(2, r))?;
        let owner = pattern(
            fields[3].1,
            "owner",
            "[A-Za-z0-9._-]",
            |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
            |t| check_owner(t).map(|()| t.to_owned()),
            false,
        )
        .map_err(|r| at(3, r))?;
        let auth = pattern(
            fields[4].1,
            "auth flag",
            "`yes`, `no` or `optional`",
            |c| c.is_ascii_lowercase(),
            |t| parse_auth(t).map(|a| a.as_str().to_owned()),
            false,
        )
        .map_err(|r| at(4, r))?;
        if let Pattern::Glob(g) = &auth
            && !["yes", "no", "optional"].iter().any(|a| glob(g, a))
        {
            return Err(at(
                4,
                format!("{} matches none of `yes`, `no` and `optional`", quote(g)),
            ));
        }
        let auth_mechanism = pattern(
            fields[5].1,
            "auth mechanism",
            "[a-z0-9-]",
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
            |t| {
                check_mechanism(t, if t == "none" { Auth::No } else { Auth::Yes })
                    .map(|()| t.to_owned())
            },
            false,
        )
        .map_err(|r| at(5, r))?;
        // `none` exactly when the flag is `no`: refuse a pair that no identity has.
        if let (Pattern::Exact(flag), Pattern::Exact(mech)) = (&auth, &auth_mechanism)
            && ((flag == "no") != (mech == "none"))
        {
            return Err(at(
                5,
                format!(
                    "no identity has the auth flag `{flag}` with the mechanism `{mech}`: \
                     the mechanism is `none` exactly when the flag is `no`"
                ),
            ));
        }
        let uuid = pattern(
            fields[6].1,
            "uuid",
            "hex digits and `-`",
            |c| c.is_ascii_hexdigit() || c == '-',
            |t| parse_uuid(t).map(|u| u.hyphenated().to_string()),
            true,
        )
        .map_err(|r| at(6, r))?;
        Ok(GuestMask {
            fqdn,
            server,
            class,
            owner,
            auth,
            auth_mechanism,
            uuid,
        })
    }

    /// The mask that matches every guest.
    pub fn any() -> GuestMask {
        GuestMask {
            fqdn: Pattern::Any,
            server: Pattern::Any,
            class: ClassPattern::Any,
            owner: Pattern::Any,
            auth: Pattern::Any,
            auth_mechanism: Pattern::Any,
            uuid: Pattern::Any,
        }
    }

    /// The mask that matches exactly this identity.
    pub fn exact(identity: &GuestIdentity) -> GuestMask {
        GuestMask {
            fqdn: Pattern::Exact(identity.fqdn().to_owned()),
            server: Pattern::Exact(identity.server().to_owned()),
            class: ClassPattern::Bits {
                value: identity.class(),
                mask: u32::MAX,
            },
            owner: Pattern::Exact(identity.owner().to_owned()),
            auth: Pattern::Exact(identity.auth().as_str().to_owned()),
            auth_mechanism: Pattern::Exact(identity.auth_mechanism().to_owned()),
            uuid: Pattern::Exact(identity.uuid().hyphenated().to_string()),
        }
    }

    /// Every guest whose `class & mask == value & mask`.
    pub fn class(value: u32, mask: u32) -> GuestMask {
        GuestMask {
            class: ClassPattern::Bits {
                value: value & mask,
                mask,
            },
            ..GuestMask::any()
        }
    }

    /// True when the identity matches every field.
    pub fn matches(&self, id: &GuestIdentity) -> bool {
        self.matches_parts(&Parts {
            fqdn: id.fqdn(),
            server: id.server(),
            class: id.class(),
            owner: id.owner(),
            auth: id.auth(),
            auth_mechanism: id.auth_mechanism(),
            uuid: id.uuid(),
        })
    }

    /// [`matches`](Self::matches) on the fields of an identity.
    pub fn matches_parts(&self, id: &Parts<'_>) -> bool {
        // Cheapest first: the class is an integer test.
        let class_ok = match &self.class {
            ClassPattern::Any => true,
            ClassPattern::Bits { value, mask } => id.class & mask == *value,
            ClassPattern::Glob(g) => glob(g, &format!("0x{:08x}", id.class)),
        };
        class_ok
            && self.auth.matches(id.auth.as_str())
            && self.server.matches(id.server)
            && self.owner.matches(id.owner)
            && self.fqdn.matches(id.fqdn)
            && self.auth_mechanism.matches(id.auth_mechanism)
            && match &self.uuid {
                Pattern::Any => true,
                p => p.matches(
                    id.uuid
                        .hyphenated()
                        .encode_lower(&mut uuid::Uuid::encode_buffer()),
                ),
            }
    }

    /// The uuid this mask names exactly, if it does (lets a guest book look it up).
    pub fn exact_uuid(&self) -> Option<uuid::Uuid> {
        match &self.uuid {
            Pattern::Exact(text) => uuid::Uuid::try_parse(text).ok(),
            _ => None,
        }
    }
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(e) => e == text,
            Pattern::Glob(g) => glob(g, text),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Any => f.write_str("*"),
            Pattern::Exact(t) | Pattern::Glob(t) => f.write_str(t),
        }
    }
}

impl fmt::Display for ClassPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClassPattern::Any => f.write_str("*"),
            ClassPattern::Bits {
                value,
                mask: u32::MAX,
            } => write!(f, "0x{value:08x}"),
            ClassPattern::Bits { value, mask } => write!(f, "0x{value:08x}/0x{mask:08x}"),
            ClassPattern::Glob(g) => f.write_str(g),
        }
    }
}

impl fmt::Display for GuestMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}:{}:{}:{}",
            self.fqdn,
            self.server,
            self.class,
            self.owner,
            self.auth,
            self.auth_mechanism,
            self.uuid
        )
    }
}

impl FromStr for GuestMask {
    type Err = MaskError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        GuestMask::parse(text)
    }
}

impl Default for GuestMask {
    fn default() -> Self {
        GuestMask::any()
    }
}

impl serde::Serialize for GuestMask {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GuestMask {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        GuestMask::parse(&text).map_err(|e| serde::de::Error::custom(mask_message(&e)))
    }
}

/// The message of a mask error (an [`IdentityError`] that is about a mask).
pub fn mask_message(e: &MaskError) -> String {
    match e.field {
        Field::Shape => format!("malformed guest mask: {}", e.reason),
        field => format!("invalid {field} in guest mask: {}", e.reason),
    }
}

/// Glob match over ASCII text: `*` any run (also empty), `?` one character.
/// Linear in practice; at worst `pattern.len() * text.len()`.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f";

    fn id(text: &str) -> GuestIdentity {
        match GuestIdentity::parse(text) {
            Ok(id) => id,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn mask(text: &str) -> GuestMask {
        match GuestMask::parse(text) {
            Ok(m) => m,
            Err(e) => panic!("{text}: {}", mask_message(&e)),
        }
    }

    #[test]
    fn glob_matching() {
        assert!(glob("*", ""));
        assert!(glob("*", "abc"));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a*c", "ac"));
        assert!(!glob("a*c", "ab"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*.example", "plant-a.example"));
        assert!(!glob("*.example", "plant-a.example.org"));
        assert!(glob("*a*b*", "xxaxxbxx"));
        assert!(!glob("*a*b*", "xxbxxaxx"));
        assert!(glob("?*", "a"));
        assert!(!glob("?*", ""));
        assert!(glob("", ""));
        assert!(!glob("", "a"));
    }

    #[test]
    fn class_value_mask() {
        let a = id(&format!("h:s:0x00000a01:o:no:none:{U}"));
        let b = id(&format!("h:s:0x00000b01:o:no:none:{U}"));
        let m = mask("*:*:0x00000a00/0x0000ff00:*:*:*:*");
        assert!(m.matches(&a));
        assert!(!m.matches(&b));
        assert!(mask("*:*:0xa01:*:*:*:*").matches(&a));
        assert!(!mask("*:*:0xa01:*:*:*:*").matches(&b));
        assert!(mask("*:*:0x00000?01:*:*:*:*").matches(&b));
        assert!(mask("*:*:0x*01:*:*:*:*").matches(&b));
        assert!(mask("*:*:0x0/0x0:*:*:*:*").matches(&b));
        assert!(GuestMask::class(0x0a01, 0xff00).matches(&a));
    }

    #[test]
    fn fields_match() {
        let a = id(&format!(
            "plant-a.example:alarm:0x1:ops:yes:hmac-sha256:{U}"
        ));
        for yes in [
            "*:*:*:*:*:*:*",
            "plant-a.example:alarm:0x1:ops:yes:hmac-sha256:*",
            "PLANT-?.example:al*:*:o*:y*:hmac-*:6F1C8B1E-*",
            &format!("*:*:*:*:*:*:{U}"),
            &format!("*:*:*:*:*:*:{}", U.to_uppercase()),
            "*:*:*:*:?es:*:*",
        ] {
            assert!(mask(yes).matches(&a), "{yes}");
        }
        for no in [
            "plant-b.example:*:*:*:*:*:*",
            "*:alarms:*:*:*:*:*",
            "*:*:0x2:*:*:*:*",
            "*:*:*:Ops:*:*:*",
            "*:*:*:*:no:*:*",
            "*:*:*:*:*:tls:*",
            "*:*:*:*:*:*:00000000-0000-0000-0000-000000000000",
        ] {
            assert!(!mask(no).matches(&a), "{no}");
        }
        assert!(GuestMask::exact(&a).matches(&a));
        assert_eq!(GuestMask::exact(&a).exact_uuid(), Some(a.uuid()));
    }

    #[test]
    fn canonical_text_round_trips() {
        for (text, canonical) in [
            ("*:*:*:*:*:*:*", "*:*:*:*:*:*:*"),
            ("**:*:***:*:*:*:*", "*:*:*:*:*:*:*"),
            (
                "A*.Example:s:0xA01:Ops:no:none:*",
                "a*.example:s:0x00000a01:Ops:no:none:*",
            ),
            (
                "*:*:0xA00/0xFF00:*:*:*:*",
                "*:*:0x00000a00/0x0000ff00:*:*:*:*",
            ),
            ("*:*:0x0000A0??:*:*:*:*", "*:*:0x0000a0??:*:*:*:*"),
            (
                &format!("*:*:*:*:*:*:{}", U.to_uppercase()),
                &format!("*:*:*:*:*:*:{U}"),
            ),
        ] {
            let m = mask(text);
            assert_eq!(m.to_string(), canonical);
            assert_eq!(mask(canonical), m);
        }
    }

    fn error(text: &str) -> (Field, String, String) {
        match GuestMask::parse(text) {
            Ok(m) => panic!("{text} parsed as {m}"),
            Err(e) => (e.field, text[e.range.clone()].to_owned(), mask_message(&e)),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "*:*",
                Field::Shape,
                "malformed guest mask: expected 7 fields",
            ),
            ("", Field::Shape, "malformed guest mask: the mask is empty"),
            (
                ":*:*:*:*:*:*",
                Field::Fqdn,
                "the host name is empty; write `*`",
            ),
            (
                "a_b:*:*:*:*:*:*",
                Field::Fqdn,
                "`_` is not allowed in a host name pattern",
            ),
            ("a..b:*:*:*:*:*:*", Field::Fqdn, "has an empty label"),
            (
                "*:Alarm:*:*:*:*:*",
                Field::Server,
                "`A` is not allowed in a server name pattern",
            ),
            (
                "*:*:0xa00/0xf000:*:*:*:*",
                Field::Class,
                "has bits outside the mask",
            ),
            ("*:*:a00:*:*:*:*", Field::Class, "does not start with `0x`"),
            (
                "*:*:0xa00/:*:*:*:*",
                Field::Class,
                "after `/`: the class is empty",
            ),
            ("*:*:0xg:*:*:*:*", Field::Class, "`g` is not a hex digit"),
            (
                "*:*:0x0*/0xff:*:*:*:*",
                Field::Class,
                "before `/`: `*` is not a hex digit",
            ),
            (
                "*:*:*:o p:*:*:*",
                Field::Owner,
                "` ` is not allowed in an owner pattern",
            ),
            (
                "*:*:*:*:maybe:*:*",
                Field::AuthFlag,
                "`maybe` is not `yes`, `no` or `optional`",
            ),
            ("*:*:*:*:m*:*:*", Field::AuthFlag, "matches none of"),
            (
                "*:*:*:*:no:tls:*",
                Field::AuthMechanism,
                "the mechanism is `none` exactly when",
            ),
            (
                "*:*:*:*:yes:none:*",
                Field::AuthMechanism,
                "the mechanism is `none` exactly when",
            ),
            (
                "*:*:*:*:*:TLS:*",
                Field::AuthMechanism,
                "`T` is not allowed",
            ),
            ("*:*:*:*:*:*:6f1c", Field::Uuid, "is not a hyphenated uuid"),
            (
                "*:*:*:*:*:*:6f1g*",
                Field::Uuid,
                "`g` is not allowed in a uuid pattern",
            ),
        ];
        for (text, field, message) in cases {
            let (f, _, m) = error(text);
            assert_eq!(f, field, "{text}: {m}");
            assert!(m.contains(message), "{text}: {m}");
        }
        let (_, part, _) = error("*:*:*:o p:*:*:*");
        assert_eq!(part, "o p");
    }
}
