//! Guest identities: how the Hostess, the build step and peer kernels name a server.
//!
//! `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`
//!
//! | field | syntax | canonical form |
//! |---|---|---|
//! | `fqdn` | RFC 1123 host name: dot-separated labels of 1-63 letters, digits and `-`, not starting or ending with `-`, at most 253 characters | lowercase |
//! | `servername` | `[a-z0-9_-]+` | as written |
//! | `classHex` | `0x` and 1 to 8 hex digits, either case | `0x` and 8 lowercase digits |
//! | `owner` | `[A-Za-z0-9._-]+` | as written |
//! | `authFlag` | `yes`, `no` or `optional` | as written |
//! | `authMechanism` | `[a-z0-9-]+`; `none` exactly when the flag is `no` | as written |
//! | `uuid` | hyphenated 8-4-4-4-12 hex digits, either case | lowercase |
//!
//! Parsing is strict and total: a malformed text gives an [`IdentityError`]
//! naming the field, its byte range in the text and what is wrong, never a
//! panic. [`Display`](fmt::Display) writes the canonical form, which parses
//! back to an equal identity; parsing a canonical text and writing it again
//! gives the same bytes.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use uuid::Uuid;

use crate::manifest::Auth;

/// A guest identity; every value is valid (built only by [`GuestIdentity::parse`]
/// or [`GuestIdentity::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GuestIdentity {
    fqdn: String,
    server: String,
    class: u32,
    owner: String,
    auth: Auth,
    auth_mechanism: String,
    uuid: Uuid,
}

/// The seven fields of an identity (or a mask), plus the overall shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The text as a whole (wrong number of fields).
    Shape,
    /// The host name the kernel runs on (`[kernel] fqdn`), RFC 1123.
    Fqdn,
    /// The server instance's name (`[servers.<name>]`).
    Server,
    /// The server type's class, `0x` and 8 hex digits (`#[manifest(class)]`).
    Class,
    /// The owner (`#[manifest(owner)]`).
    Owner,
    /// Whether the server requires authentication: `yes`, `no` or `optional`.
    AuthFlag,
    /// How it authenticates (`none` exactly when the flag is `no`).
    AuthMechanism,
    /// The instance's uuid, hyphenated.
    Uuid,
}

impl Field {
    /// The seven fields in order.
    pub const ALL: [Field; 7] = [
        Field::Fqdn,
        Field::Server,
        Field::Class,
        Field::Owner,
        Field::AuthFlag,
        Field::AuthMechanism,
        Field::Uuid,
    ];

    /// The name used in error messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Shape => "identity",
            Field::Fqdn => "fqdn",
            Field::Server => "server name",
            Field::Class => "class",
            Field::Owner => "owner",
            Field::AuthFlag => "auth flag",
            Field::AuthMechanism => "auth mechanism",
            Field::Uuid => "uuid",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What is wrong with an identity, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityError {
    /// The field that is wrong ([`Field::Shape`] when the text does not have seven fields).
    pub field: Field,
    /// Byte range of the offending field in the parsed text (the whole text for `Shape`).
    pub range: Range<usize>,
    /// What is wrong, e.g. ``"`S` is not allowed in a server name ([a-z0-9_-]+)"``.
    pub reason: String,
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Field::Shape => write!(f, "malformed guest identity: {}", self.reason),
            field => write!(f, "invalid {field} in guest identity: {}", self.reason),
        }
    }
}

impl std::error::Error for IdentityError {}

/// The template every error about the shape quotes.
pub const TEMPLATE: &str = "fqdn:servername:classHex:owner:authFlag:authMechanism:uuid";

/// Splits `text` at `:` into exactly seven fields with their byte ranges.
pub(crate) fn split_fields<'t>(
    text: &'t str,
    what: &str,
) -> Result<[(Range<usize>, &'t str); 7], IdentityError> {
    let mut fields: [(Range<usize>, &str); 7] = Default::default();
    let mut n = 0;
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b':' {
            if n < 7 {
                fields[n] = (start..i, &text[start..i]);
            }
            n += 1;
            start = i + 1;
        }
    }
    if n < 7 {
        fields[n] = (start..text.len(), &text[start..]);
    }
    n += 1;
    if n != 7 {
        return Err(IdentityError {
            field: Field::Shape,
            range: 0..text.len(),
            reason: if text.is_empty() {
                format!("{what} is empty; expected 7 fields `{TEMPLATE}`")
            } else {
                format!("expected 7 fields `{TEMPLATE}`, found {n}")
            },
        });
    }
    Ok(fields)
}

impl GuestIdentity {
    /// Parses the seven-field form strictly; see the module documentation.
    pub fn parse(text: &str) -> Result<GuestIdentity, IdentityError> {
        let fields = split_fields(text, "the identity")?;
        let at = |field: Field, reason: String| {
            let i = Field::ALL.iter().position(|f| *f == field).unwrap_or(0);
            IdentityError {
                field,
                range: fields[i].0.clone(),
                reason,
            }
        };
        check_fqdn(fields[0].1).map_err(|r| at(Field::Fqdn, r))?;
        check_server_name(fields[1].1).map_err(|r| at(Field::Server, r))?;
        let class = parse_class(fields[2].1).map_err(|r| at(Field::Class, r))?;
        check_owner(fields[3].1).map_err(|r| at(Field::Owner, r))?;
        let auth = parse_auth(fields[4].1).map_err(|r| at(Field::AuthFlag, r))?;
        check_mechanism(fields[5].1, auth).map_err(|r| at(Field::AuthMechanism, r))?;
        let uuid = parse_uuid(fields[6].1).map_err(|r| at(Field::Uuid, r))?;
        Ok(GuestIdentity {
            fqdn: fields[0].1.to_ascii_lowercase(),
            server: fields[1].1.to_owned(),
            class,
            owner: fields[3].1.to_owned(),
            auth,
            auth_mechanism: fields[5].1.to_owned(),
            uuid,
        })
    }

    /// Builds an identity from its parts, checking each like [`parse`](Self::parse)
    /// does (the error's `range` is then empty).
    pub fn new(
        fqdn: &str,
        server: &str,
        class: u32,
        owner: &str,
        auth: Auth,
        auth_mechanism: &str,
        uuid: Uuid,
    ) -> Result<GuestIdentity, IdentityError> {
        let at = |field: Field, reason: String| IdentityError {
            field,
            range: 0..0,
            reason,
        };
        check_fqdn(fqdn).map_err(|r| at(Field::Fqdn, r))?;
        check_server_name(server).map_err(|r| at(Field::Server, r))?;
        check_owner(owner).map_err(|r| at(Field::Owner, r))?;
        check_mechanism(auth_mechanism, auth).map_err(|r| at(Field::AuthMechanism, r))?;
        Ok(GuestIdentity {
            fqdn: fqdn.to_ascii_lowercase(),
            server: server.to_owned(),
            class,
            owner: owner.to_owned(),
            auth,
            auth_mechanism: auth_mechanism.to_owned(),
            uuid,
        })
    }

    /// The host name, lowercase.
    pub fn fqdn(&self) -> &str {
        &self.fqdn
    }

    /// The server name.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The class.
    pub fn class(&self) -> u32 {
        self.class
    }

    /// The owner.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The auth flag.
    pub fn auth(&self) -> Auth {
        self.auth
    }

    /// The auth mechanism (`none` exactly when [`auth`](Self::auth) is `No`).
    pub fn auth_mechanism(&self) -> &str {
        &self.auth_mechanism
    }

    /// The uuid.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

impl fmt::Display for GuestIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:0x{:08x}:{}:{}:{}:{}",
            self.fqdn,
            self.server,
            self.class,
            self.owner,
            self.auth.as_str(),
            self.auth_mechanism,
            self.uuid.hyphenated()
        )
    }
}

impl FromStr for GuestIdentity {
    type Err = IdentityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        GuestIdentity::parse(text)
    }
}

impl serde::Serialize for GuestIdentity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GuestIdentity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        GuestIdentity::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `0x` and 8 lowercase hex digits.
pub fn class_hex(class: u32) -> String {
    format!("0x{class:08x}")
}

/// Quotes a text for an error message, shortened and with odd characters escaped.
pub(crate) fn quote(text: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX {
            out.push_str("...");
            break;
        }
        out.extend(c.escape_debug());
    }
    format!("`{out}`")
}

/// Describes the first character of `text` that `allowed` refuses: "`c` is not allowed in {what}".
fn bad_char(text: &str, allowed: impl Fn(char) -> bool, what: &str) -> Option<String> {
    text.chars().find(|c| !allowed(*c)).map(|c| {
        let shown: String = c.escape_debug().collect();
        format!("`{shown}` is not allowed in {what}")
    })
}

/// "`c` is not a hex digit" for the first character of `text` that is neither
/// a hex digit nor one of `also`.
fn bad_hex(text: &str, also: &[char]) -> Option<String> {
    text.chars()
        .find(|c| !(c.is_ascii_hexdigit() || also.contains(c)))
        .map(|c| {
            let shown: String = c.escape_debug().collect();
            format!("`{shown}` is not a hex digit")
        })
}

/// An RFC 1123 host name: dot-separated labels of 1 to 63 letters, digits and
/// `-`, not starting or ending with `-`, at most 253 characters.
pub fn check_fqdn(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the host name is empty".to_owned());
    }
    if let Some(e) = bad_char(
        text,
        |c| c.is_ascii_alphanumeric() || c == '-' || c == '.',
        "a host name",
    ) {
        return Err(e);
    }
    if text.len() > 253 {
        return Err(format!(
            "the host name is {} characters long, at most 253 are allowed",
            text.len()
        ));
    }
    for label in text.split('.') {
        if label.is_empty() {
            return Err(format!("{} has an empty label", quote(text)));
        }
        if label.len() > 63 {
            return Err(format!(
                "the label {} is {} characters long, at most 63 are allowed",
                quote(label),
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label `{label}` starts or ends with `-`"));
        }
    }
    Ok(())
}

/// `[a-z0-9_-]+`.
pub fn check_server_name(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the server name is empty".to_owned());
    }
    match bad_char(
        text,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-',
        "a server name ([a-z0-9_-]+)",
    ) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `0x` and 1 to 8 hex digits, either case.
pub fn parse_class(text: &str) -> Result<u32, String> {
    let Some(digits) = text.strip_prefix("0x") else {
        return Err(if text.is_empty() {
            "the class is empty; write `0x` and up to 8 hex digits".to_owned()
        } else {
            format!("{} does not start with `0x`", quote(text))
        });
    };
    if let Some(e) = bad_hex(digits, &[]) {
        return Err(e);
    }
    if digits.is_empty() || digits.len() > 8 {
        return Err(format!(
            "{} must have 1 to 8 hex digits after `0x`, it has {}",
            quote(text),
            digits.len()
        ));
    }
    u32::from_str_radix(digits, 16).map_err(|e| format!("{}: {e}", quote(text)))
}

/// `[A-Za-z0-9._-]+`.
pub fn check_owner(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the owner is empty".to_owned());
    }
    match bad_char(
        text,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
        "an owner ([A-Za-z0-9._-]+)",
    ) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `yes`, `no` or `optional`.
pub fn parse_auth(text: &str) -> Result<Auth, String> {
    match text {
        "yes" => Ok(Auth::Yes),
        "no" => Ok(Auth::No),
        "optional" => Ok(Auth::Optional),
        "" => Err("the auth flag is empty; write `yes`, `no` or `optional`".to_owned()),
        other => Err(format!("{} is not `yes`, `no` or `optional`", quote(other))),
    }
}

/// `[a-z0-9-]+`, and `none` exactly when `auth` is `no`.
pub fn check_mechanism(text: &str, auth: Auth) -> Result<(), String> {
    if text.is_empty() {
        return Err("the auth mechanism is empty".to_owned());
    }
    if let Some(e) = bad_char(
        text,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        "an auth mechanism ([a-z0-9-]+)",
    ) {
        return Err(e);
    }
    match (auth, text == "none") {
        (Auth::No, false) => Err(format!(
            "the auth mechanism must be `none` when the auth flag is `no`, not `{text}`"
        )),
        (Auth::Yes | Auth::Optional, true) => Err(format!(
            "the auth flag `{}` needs an auth mechanism other than `none`",
            auth.as_str()
        )),
        _ => Ok(()),
    }
}

/// A hyphenated RFC 4122 uuid: 8-4-4-4-12 hex digits, either case.
pub fn parse_uuid(text: &str) -> Result<Uuid, String> {
    if text.is_empty() {
        return Err("the uuid is empty".to_owned());
    }
    if let Some(e) = bad_hex(text, &['-']) {
        return Err(e);
    }
    let mut lengths = [0usize; 5];
    let mut groups = 0;
    for group in text.split('-') {
        if groups < 5 {
            lengths[groups] = group.len();
        }
        groups += 1;
    }
    if groups != 5 || lengths != [8, 4, 4, 4, 12] {
        return Err(format!(
            "{} is not a hyphenated uuid (8-4-4-4-12 hex digits)",
            quote(text)
        ));
    }
    Uuid::try_parse(text).map_err(|e| format!("{}: {e}", quote(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "plant-b.example:alarm:0x00000a01:ops:yes:hmac-sha256:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f";
    const U: &str = "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f";

    fn parse(text: &str) -> Result<GuestIdentity, IdentityError> {
        GuestIdentity::parse(text)
    }

    #[test]
    fn parses_every_field() {
        let id = parse(GOOD).map_err(|e| e.to_string());
        let Ok(id) = id else {
            panic!("{id:?}");
        };
        assert_eq!(id.fqdn(), "plant-b.example");
        assert_eq!(id.server(), "alarm");
        assert_eq!(id.class(), 0x0a01);
        assert_eq!(id.owner(), "ops");
        assert_eq!(id.auth(), Auth::Yes);
        assert_eq!(id.auth_mechanism(), "hmac-sha256");
        assert_eq!(id.uuid().to_string(), U);
        assert_eq!(id.to_string(), GOOD);
        assert_eq!(GOOD.parse::<GuestIdentity>(), Ok(id));
    }

    #[test]
    fn canonicalizes_fqdn_class_and_uuid_case() {
        let text = "Plant-A.Example:s:0xA01:Ops:no:none:6F1C8B1E-7D2A-4C3B-9E4F-5A6B7C8D9E0F";
        let canonical = parse(text).map(|i| i.to_string());
        assert_eq!(
            canonical.as_deref(),
            Ok("plant-a.example:s:0x00000a01:Ops:no:none:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f")
        );
        let again = canonical
            .as_deref()
            .map(|c| parse(c).map(|i| i.to_string()));
        assert_eq!(again, Ok(canonical.clone()));
        assert_eq!(parse(text), canonical.as_deref().map_or(parse(""), parse));
    }

    #[test]
    fn the_three_auth_flags() {
        for (flag, mech) in [("yes", "tls"), ("optional", "hmac-sha256"), ("no", "none")] {
            let text = format!("h:s:0x1:o:{flag}:{mech}:{U}");
            assert!(parse(&text).is_ok(), "{text}");
        }
    }

    fn field_of(text: &str) -> Option<(Field, String)> {
        parse(text)
            .err()
            .map(|e| (e.field, text[e.range].to_owned()))
    }

    #[test]
    fn names_the_bad_field_and_its_range() {
        let cases: Vec<(String, Field, &str)> = vec![
            ("a:b".into(), Field::Shape, "a:b"),
            ("".into(), Field::Shape, ""),
            (format!("x:s:0x1:o:no:none:{U}:extra"), Field::Shape, ""),
            (format!("-x:s:0x1:o:no:none:{U}"), Field::Fqdn, "-x"),
            (format!("x..y:s:0x1:o:no:none:{U}"), Field::Fqdn, "x..y"),
            (format!(":s:0x1:o:no:none:{U}"), Field::Fqdn, ""),
            (format!("x:S:0x1:o:no:none:{U}"), Field::Server, "S"),
            (format!("x::0x1:o:no:none:{U}"), Field::Server, ""),
            (format!("x:s:0xzz:o:no:none:{U}"), Field::Class, "0xzz"),
            (format!("x:s:12:o:no:none:{U}"), Field::Class, "12"),
            (format!("x:s:0X12:o:no:none:{U}"), Field::Class, "0X12"),
            (format!("x:s:0x:o:no:none:{U}"), Field::Class, "0x"),
            (
                format!("x:s:0x123456789:o:no:none:{U}"),
                Field::Class,
                "0x123456789",
            ),
            (format!("x:s:0x1:o p:no:none:{U}"), Field::Owner, "o p"),
            (format!("x:s:0x1::no:none:{U}"), Field::Owner, ""),
            (
                format!("x:s:0x1:o:maybe:none:{U}"),
                Field::AuthFlag,
                "maybe",
            ),
            (format!("x:s:0x1:o:YES:tls:{U}"), Field::AuthFlag, "YES"),
            (
                format!("x:s:0x1:o:yes:none:{U}"),
                Field::AuthMechanism,
                "none",
            ),
            (
                format!("x:s:0x1:o:optional:none:{U}"),
                Field::AuthMechanism,
                "none",
            ),
            (
                format!("x:s:0x1:o:no:hmac:{U}"),
                Field::AuthMechanism,
                "hmac",
            ),
            (
                format!("x:s:0x1:o:yes:TLS:{U}"),
                Field::AuthMechanism,
                "TLS",
            ),
            (
                "x:s:0x1:o:no:none:6f1c8b1e7d2a4c3b9e4f5a6b7c8d9e0f".into(),
                Field::Uuid,
                "6f1c8b1e7d2a4c3b9e4f5a6b7c8d9e0f",
            ),
            (
                "x:s:0x1:o:no:none:{6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f}".into(),
                Field::Uuid,
                "{6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f}",
            ),
            (
                "x:s:0x1:o:no:none:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0".into(),
                Field::Uuid,
                "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0",
            ),
            (
                "x:s:0x1:o:no:none:6f1c8b1e-7d2a4-c3b-9e4f-5a6b7c8d9e0f".into(),
                Field::Uuid,
                "6f1c8b1e-7d2a4-c3b-9e4f-5a6b7c8d9e0f",
            ),
        ];
        for (text, field, part) in cases {
            let expected_part = if field == Field::Shape {
                text.clone()
            } else {
                part.to_owned()
            };
            assert_eq!(field_of(&text), Some((field, expected_part)), "{text}");
        }
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let msg = |text: &str| parse(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg("a:b"),
            format!("malformed guest identity: expected 7 fields `{TEMPLATE}`, found 2")
        );
        assert_eq!(
            msg(&format!("x:S:0x1:o:no:none:{U}")),
            "invalid server name in guest identity: `S` is not allowed in a server name ([a-z0-9_-]+)"
        );
        assert_eq!(
            msg(&format!("x:s:0x1:o:yes:none:{U}")),
            "invalid auth mechanism in guest identity: the auth flag `yes` needs an auth mechanism other than `none`"
        );
        assert_eq!(
            msg(&format!("x:s:0x123456789:o:no:none:{U}")),
            "invalid class in guest identity: `0x123456789` must have 1 to 8 hex digits after `0x`, it has 9"
        );
        assert!(msg(&format!("h\u{0}:s:0x1:o:no:none:{U}")).contains(r"`\0` is not allowed"));
    }

    #[test]
    fn fqdn_rules() {
        assert!(check_fqdn("localhost").is_ok());
        assert!(check_fqdn("plant-a.example").is_ok());
        assert!(check_fqdn("1host.example").is_ok());
        assert!(check_fqdn("a-b.c-d").is_ok());
        assert!(check_fqdn(&"a".repeat(63)).is_ok());
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(long.len(), 253);
        assert!(check_fqdn(&long).is_ok());
        assert!(check_fqdn(&format!("{long}e")).is_err());
        assert!(check_fqdn("a_b").is_err());
        assert!(check_fqdn("a.").is_err());
        assert!(check_fqdn(".a").is_err());
        assert!(check_fqdn("a-.b").is_err());
        assert!(check_fqdn(&"a".repeat(64)).is_err());
        assert!(check_fqdn("").is_err());
        assert!(check_fqdn("é").is_err());
    }

    #[test]
    fn new_checks_like_parse() {
        let u = Uuid::nil();
        assert!(GuestIdentity::new("h", "s", 1, "o", Auth::No, "none", u).is_ok());
        let e = GuestIdentity::new("h", "s", 1, "o", Auth::Yes, "none", u);
        assert_eq!(e.map_err(|e| e.field), Err(Field::AuthMechanism));
        let e = GuestIdentity::new("h h", "s", 1, "o", Auth::No, "none", u);
        assert_eq!(e.map_err(|e| e.field), Err(Field::Fqdn));
    }

    #[test]
    fn serde_as_a_string() {
        let Ok(id) = parse(GOOD) else { panic!() };
        let toml_text = toml::to_string(&std::collections::BTreeMap::from([("id", &id)]));
        assert_eq!(
            toml_text.as_deref().ok(),
            Some(&*format!("id = \"{GOOD}\"\n"))
        );
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "",
            ":::::::",
            "::::::",
            "é:é:é:é:é:é:é",
            "a:b:0x:c:no:none:-",
            "a:b:0x1:c:no:none:----",
            "a:b:0xé:c:no:none:x",
            "\u{0}",
        ] {
            let _ = parse(text);
        }
    }
}
