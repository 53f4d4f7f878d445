//! Guest identities (DESIGN section 8), host names (RFC 1123), classes and uuids.
//!
//! `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`. Parsing is
//! strict and total: every malformed text gives an [`IdentityError`] that says
//! which field is wrong and where, never a panic. `Display` writes the
//! canonical form, which parses back to the same identity.

use std::fmt;
use std::ops::Range;

use kernel::{Auth, Uuid};

/// A parsed guest identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GuestIdentity {
    pub fqdn: String,
    pub server: String,
    pub class: u32,
    pub owner: String,
    pub auth: Auth,
    pub auth_mechanism: String,
    pub uuid: Uuid,
}

/// The seven fields, plus the overall shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Shape,
    Fqdn,
    Server,
    Class,
    Owner,
    AuthFlag,
    AuthMechanism,
    Uuid,
}

impl Field {
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

/// What is wrong with an identity, and where (a byte range of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityError {
    pub field: Field,
    pub range: Range<usize>,
    pub reason: String,
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field.as_str(), self.reason)
    }
}

impl std::error::Error for IdentityError {}

impl GuestIdentity {
    /// Parses the seven-field form strictly.
    pub fn parse(text: &str) -> Result<GuestIdentity, IdentityError> {
        let mut fields = Vec::with_capacity(7);
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c == ':' {
                fields.push((start..i, &text[start..i]));
                start = i + 1;
            }
        }
        fields.push((start..text.len(), &text[start..]));
        if fields.len() != 7 {
            return Err(IdentityError {
                field: Field::Shape,
                range: 0..text.len(),
                reason: format!(
                    "expected 7 fields `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`, found {}",
                    fields.len()
                ),
            });
        }
        let at = |field: Field, i: usize, reason: String| IdentityError {
            field,
            range: fields[i].0.clone(),
            reason,
        };
        check_fqdn(fields[0].1).map_err(|r| at(Field::Fqdn, 0, r))?;
        check_server_name(fields[1].1).map_err(|r| at(Field::Server, 1, r))?;
        let class = parse_class(fields[2].1).map_err(|r| at(Field::Class, 2, r))?;
        check_owner(fields[3].1).map_err(|r| at(Field::Owner, 3, r))?;
        let auth = match fields[4].1 {
            "yes" => Auth::Yes,
            "no" => Auth::No,
            "optional" => Auth::Optional,
            other => {
                return Err(at(
                    Field::AuthFlag,
                    4,
                    format!("`{other}` is not `yes`, `no` or `optional`"),
                ));
            }
        };
        let mechanism = fields[5].1;
        check_mechanism(mechanism, auth).map_err(|r| at(Field::AuthMechanism, 5, r))?;
        let uuid = parse_uuid(fields[6].1).map_err(|r| at(Field::Uuid, 6, r))?;
        Ok(GuestIdentity {
            fqdn: fields[0].1.to_string(),
            server: fields[1].1.to_string(),
            class,
            owner: fields[3].1.to_string(),
            auth,
            auth_mechanism: mechanism.to_string(),
            uuid,
        })
    }
}

impl fmt::Display for GuestIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}:{}:{}:{}",
            self.fqdn,
            self.server,
            class_hex(self.class),
            self.owner,
            self.auth.as_str(),
            self.auth_mechanism,
            self.uuid.hyphenated()
        )
    }
}

/// `0x` and 8 lowercase hex digits.
pub fn class_hex(class: u32) -> String {
    format!("0x{class:08x}")
}

/// An RFC 1123 host name: dot-separated labels of 1 to 63 letters, digits and
/// `-`, not starting or ending with `-`, at most 253 characters.
pub fn check_fqdn(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the host name is empty".to_string());
    }
    if text.len() > 253 {
        return Err(format!(
            "the host name is {} characters long, at most 253 are allowed",
            text.len()
        ));
    }
    for label in text.split('.') {
        if label.is_empty() {
            return Err(format!("`{text}` has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!(
                "the label `{label}` is {} characters long, at most 63 are allowed",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "`{}` is not allowed in a host name",
                c.escape_default()
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
        return Err("the server name is empty".to_string());
    }
    match text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        Some(c) => Err(format!(
            "`{}` is not allowed in a server name ([a-z0-9_-]+)",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

/// `0x` and 1 to 8 hex digits, either case.
pub fn parse_class(text: &str) -> Result<u32, String> {
    let Some(digits) = text.strip_prefix("0x") else {
        return Err(format!("`{text}` does not start with `0x`"));
    };
    if digits.is_empty() || digits.len() > 8 {
        return Err(format!(
            "`{text}` must have 1 to 8 hex digits after `0x`, it has {}",
            digits.chars().count()
        ));
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("`{}` is not a hex digit", c.escape_default()));
    }
    u32::from_str_radix(digits, 16).map_err(|e| format!("`{text}`: {e}"))
}

/// `[A-Za-z0-9._-]+`.
pub fn check_owner(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the owner is empty".to_string());
    }
    match text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(c) => Err(format!(
            "`{}` is not allowed in an owner ([A-Za-z0-9._-]+)",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

/// `[a-z0-9-]+`, and `none` exactly when `auth` is `no`.
pub fn check_mechanism(text: &str, auth: Auth) -> Result<(), String> {
    if text.is_empty() {
        return Err("the auth mechanism is empty".to_string());
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "`{}` is not allowed in an auth mechanism ([a-z0-9-]+)",
            c.escape_default()
        ));
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

/// A hyphenated RFC 4122 uuid (8-4-4-4-12 hex digits, either case).
pub fn parse_uuid(text: &str) -> Result<Uuid, String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return Err(format!(
            "`{text}` is not a hyphenated uuid (8-4-4-4-12 hex digits)"
        ));
    }
    if let Some(c) = text.chars().find(|c| !(c.is_ascii_hexdigit() || *c == '-')) {
        return Err(format!("`{}` is not a hex digit", c.escape_default()));
    }
    Uuid::try_parse(text).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "plant-b.example:alarm:0x00000a01:ops:yes:hmac-sha256:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f";

    #[test]
    fn parses_and_round_trips() {
        let id = GuestIdentity::parse(GOOD).map_err(|e| e.to_string());
        let id = id.as_ref().map(|i| (i.class, i.auth, i.to_string()));
        assert_eq!(id, Ok((0x0a01, Auth::Yes, GOOD.to_string())));
    }

    #[test]
    fn canonicalizes_class_and_uuid_case() {
        let text = "h:s:0xA01:o:no:none:6F1C8B1E-7D2A-4C3B-9E4F-5A6B7C8D9E0F";
        let canonical = GuestIdentity::parse(text).map(|i| i.to_string());
        assert_eq!(
            canonical.as_deref(),
            Ok("h:s:0x00000a01:o:no:none:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f")
        );
        let again = canonical.map(|c| GuestIdentity::parse(&c).map(|i| i.to_string()));
        assert!(matches!(again, Ok(Ok(_))));
    }

    fn field_of(text: &str) -> Option<(Field, String)> {
        GuestIdentity::parse(text)
            .err()
            .map(|e| (e.field, text[e.range].to_string()))
    }

    #[test]
    fn names_the_bad_field() {
        let u = "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f";
        let cases = [
            ("a:b", Field::Shape, "a:b".to_string()),
            (
                &format!("-x:s:0x1:o:no:none:{u}"),
                Field::Fqdn,
                "-x".to_string(),
            ),
            (
                &format!("x..y:s:0x1:o:no:none:{u}"),
                Field::Fqdn,
                "x..y".to_string(),
            ),
            (
                &format!("x:S:0x1:o:no:none:{u}"),
                Field::Server,
                "S".to_string(),
            ),
            (
                &format!("x:s:0xzz:o:no:none:{u}"),
                Field::Class,
                "0xzz".to_string(),
            ),
            (
                &format!("x:s:12:o:no:none:{u}"),
                Field::Class,
                "12".to_string(),
            ),
            (
                &format!("x:s:0x123456789:o:no:none:{u}"),
                Field::Class,
                "0x123456789".to_string(),
            ),
            (
                &format!("x:s:0x1:o p:no:none:{u}"),
                Field::Owner,
                "o p".to_string(),
            ),
            (
                &format!("x:s:0x1:o:maybe:none:{u}"),
                Field::AuthFlag,
                "maybe".to_string(),
            ),
            (
                &format!("x:s:0x1:o:yes:none:{u}"),
                Field::AuthMechanism,
                "none".to_string(),
            ),
            (
                &format!("x:s:0x1:o:no:hmac:{u}"),
                Field::AuthMechanism,
                "hmac".to_string(),
            ),
            (
                "x:s:0x1:o:no:none:6f1c8b1e7d2a4c3b9e4f5a6b7c8d9e0f",
                Field::Uuid,
                "6f1c8b1e7d2a4c3b9e4f5a6b7c8d9e0f".to_string(),
            ),
        ];
        for (text, field, part) in cases {
            assert_eq!(field_of(text), Some((field, part)), "{text}");
        }
    }

    #[test]
    fn fqdn_rules() {
        assert!(check_fqdn("localhost").is_ok());
        assert!(check_fqdn("plant-a.example").is_ok());
        assert!(check_fqdn("1host.example").is_ok());
        assert!(check_fqdn("a_b").is_err());
        assert!(check_fqdn("a.").is_err());
        assert!(check_fqdn(&"a".repeat(64)).is_err());
        assert!(check_fqdn("").is_err());
        assert!(check_fqdn("é").is_err());
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "",
            ":::::::",
            "::::::",
            "é:é:é:é:é:é:é",
            "a:b:0x:c:no:none:-",
            "\u{0}",
        ] {
            let _ = GuestIdentity::parse(text);
        }
    }
}
