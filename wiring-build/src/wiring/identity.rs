//! Guest identities (DESIGN section 8), host names (RFC 1123), classes and
//! uuids: the kernel's parser, [`wiring_model::identity`], so the build
//! step and the Hostess accept exactly the same identities.
//!
//! `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`. Parsing is
//! strict and total: every malformed text gives an [`IdentityError`] that says
//! which field is wrong and where, never a panic.

pub use wiring_model::identity::{
    Field, GuestIdentity, IdentityError, check_fqdn, class_hex, parse_uuid,
};
