//! The JSON shapes of the Hostess API, and their conversions from the
//! guest book's types.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

use crate::{Booking, Grant, GuestStatus, Menu, TerminalUse};
use wiring_model::manifest::TerminalKind;

/// A guest and its terminals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuestJson {
    /// The canonical identity.
    #[schema(
        example = "plant-a.example:column:0x00000a01:ops:no:none:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f"
    )]
    pub identity: String,
    /// The host name field of the identity.
    pub fqdn: String,
    /// The server instance's name.
    pub server: String,
    /// `0x` and 8 lowercase hex digits.
    pub class: String,
    /// The owner.
    pub owner: String,
    /// `yes`, `no` or `optional`: whether peers must authenticate.
    pub auth: String,
    /// How peers authenticate; `none` when `auth` is `no`.
    pub auth_mechanism: String,
    #[schema(format = Uuid)]
    /// The guest's uuid.
    pub uuid: String,
    /// Every terminal, in manifest order, with its use.
    pub terminals: Vec<TerminalJson>,
}

/// A terminal and its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TerminalJson {
    /// The terminal's wiring name.
    pub name: String,
    /// `input`, `output`, `multiplex` or `combine`.
    pub kind: String,
    /// The message type as written in the server's source.
    pub message_type: String,
    /// `free`, `reserved` or `in_use`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    /// The reservation holding it (reserved or in use).
    pub reservation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// That reservation's fencing token.
    pub token: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Who holds that reservation.
    pub holder: Option<String>,
    /// The connectome ids (pipe ids) it is connected under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connectome: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
/// Body of `GET /guests`: the guests a mask matched.
pub struct GuestsJson {
    /// In the guest book's order.
    pub guests: Vec<GuestJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
/// Body of `GET /menu`: availability per (class, owner).
pub struct MenuJson {
    /// Sorted by class, then owner.
    pub entries: Vec<MenuEntryJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
/// Availability of one (class, owner) pair.
pub struct MenuEntryJson {
    /// `0x` and 8 lowercase hex digits.
    pub class: String,
    /// The owner.
    pub owner: String,
    /// Registered guests of this class and owner.
    pub guests: usize,
    /// Of which every terminal is free.
    pub free_guests: usize,
    /// Their terminals.
    pub terminals: usize,
    /// Of which free.
    pub free_terminals: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// A terminal of a guest, by the guest's uuid and the terminal's name.
pub struct TerminalRefJson {
    /// The guest's uuid.
    #[schema(format = Uuid)]
    pub guest: String,
    /// The terminal's wiring name.
    pub terminal: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// Book `count` guests matching `mask`, with the named terminals free.
pub struct WantJson {
    /// Seven-field guest mask.
    #[schema(example = "*:*:0x00000a00/0x0000ff00:ops:*:*:*")]
    pub mask: String,
    /// How many guests, exactly.
    #[serde(deserialize_with = "count")]
    #[schema(value_type = u64)]
    pub count: usize,
    /// Terminal names; empty or absent: all of each guest's terminals.
    #[serde(default)]
    pub terminals: Vec<String>,
}

/// Body of `POST /reservations`: `terminals` or `wants`, not both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Who holds the reservation: the caller (`operator`, or `peer:<name>`
    /// for a signed call); another name is refused with 403.
    pub holder: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole_number"
    )]
    /// Lease time to live in milliseconds; absent: held until released.
    pub ttl_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Exact terminals to reserve, all or nothing.
    pub terminals: Option<Vec<TerminalRefJson>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Guests to pick by mask, all or nothing.
    pub wants: Option<Vec<WantJson>>,
}

/// A want's count: a whole number, also when written as `4.0`.
fn count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    super::whole_number(deserializer)?
        .ok_or_else(|| serde::de::Error::custom("`count` is a whole number"))
}

/// One of the two bodies: `holder` and `ttl_ms` with `terminals` or with
/// `wants`.
impl utoipa::PartialSchema for ReserveJson {
    fn schema() -> RefOr<Schema> {
        let body = |list: &str, item: RefOr<Schema>| {
            ObjectBuilder::new()
                .property(
                    "holder",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some(
                            "who holds the lease: the caller's authenticated name, `operator` for the bearer token, `peer:<name>` for a signed call (optional; any other name is refused)",
                        )),
                )
                .property(
                    "ttl_ms",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::new(Type::Integer))
                        .minimum(Some(100))
                        .maximum(Some(86_400_000))
                        .description(Some("lease time to live in milliseconds (default 10000)")),
                )
                .property(list, ArrayBuilder::new().items(item).min_items(Some(1)))
                .required(list)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .item(body(
                "terminals",
                Ref::from_schema_name(TerminalRefJson::name()).into(),
            ))
            .item(body(
                "wants",
                Ref::from_schema_name(WantJson::name()).into(),
            ))
            .into()
    }
}

impl ToSchema for ReserveJson {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for (name, schema) in [
            (
                TerminalRefJson::name(),
                <TerminalRefJson as utoipa::PartialSchema>::schema(),
            ),
            (
                WantJson::name(),
                <WantJson as utoipa::PartialSchema>::schema(),
            ),
        ] {
            schemas.push((name.into_owned(), schema));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
/// One guest picked for a want.
pub struct PickJson {
    /// The guest's identity.
    pub identity: String,
    /// The names of its terminals reserved.
    pub terminals: Vec<String>,
}

/// A reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantJson {
    #[schema(format = Uuid)]
    /// The reservation's id.
    pub id: String,
    /// Its fencing token: increases with every grant; a consumer of the
    /// terminals refuses calls under an older token.
    pub token: u64,
    /// Who holds it.
    pub holder: String,
    /// Every terminal it holds.
    pub terminals: Vec<TerminalRefJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Its lease in milliseconds; absent when held until released.
    pub ttl_ms: Option<u64>,
    /// Milliseconds until the lease expires unless renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
    /// The kernel's own booking of its pipes' terminals: it ends when its
    /// pipes are disconnected, not by a release or an expiry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kernel: bool,
    /// For a booking by wants: the guests picked for each want.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picks: Option<Vec<Vec<PickJson>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
/// Body of `GET /reservations`.
pub struct ReservationsJson {
    /// Every live reservation.
    pub reservations: Vec<GrantJson>,
}

/// Every error response.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn kind_name(kind: TerminalKind) -> &'static str {
    match kind {
        TerminalKind::Input => "input",
        TerminalKind::Output => "output",
        TerminalKind::Multiplex => "multiplex",
        TerminalKind::Combine => "combine",
    }
}

impl From<&GuestStatus> for GuestJson {
    fn from(g: &GuestStatus) -> Self {
        let id = &g.identity;
        GuestJson {
            identity: id.to_string(),
            fqdn: id.fqdn().to_owned(),
            server: id.server().to_owned(),
            class: format!("0x{:08x}", id.class()),
            owner: id.owner().to_owned(),
            auth: id.auth().as_str().to_owned(),
            auth_mechanism: id.auth_mechanism().to_owned(),
            uuid: id.uuid().hyphenated().to_string(),
            terminals: g
                .terminals
                .iter()
                .map(|t| {
                    let (state, reservation, token, holder, connectome) = match &t.usage {
                        TerminalUse::Free => ("free", None, None, None, Vec::new()),
                        TerminalUse::Reserved {
                            reservation,
                            token,
                            holder,
                        } => (
                            "reserved",
                            Some(reservation.to_string()),
                            Some(token.0),
                            Some(holder.clone()),
                            Vec::new(),
                        ),
                        TerminalUse::InUse {
                            reservation,
                            token,
                            holder,
                            connectome,
                        } => (
                            "in_use",
                            Some(reservation.to_string()),
                            Some(token.0),
                            Some(holder.clone()),
                            connectome
                                .iter()
                                .map(|c| c.hyphenated().to_string())
                                .collect(),
                        ),
                    };
                    TerminalJson {
                        name: t.info.name.clone(),
                        kind: kind_name(t.info.kind).to_owned(),
                        message_type: t.info.message_type.clone(),
                        state: state.to_owned(),
                        reservation,
                        token,
                        holder,
                        connectome,
                    }
                })
                .collect(),
        }
    }
}

impl From<&Menu> for MenuJson {
    fn from(m: &Menu) -> Self {
        MenuJson {
            entries: m
                .entries
                .iter()
                .map(|e| MenuEntryJson {
                    class: format!("0x{:08x}", e.class),
                    owner: e.owner.clone(),
                    guests: e.guests,
                    free_guests: e.free_guests,
                    terminals: e.terminals,
                    free_terminals: e.free_terminals,
                })
                .collect(),
        }
    }
}

impl GrantJson {
    /// The JSON of `grant`, with its time left measured from `now` (the
    /// Hostess clock's time).
    pub fn new(grant: &Grant, now: Duration) -> Self {
        GrantJson {
            id: grant.id.to_string(),
            token: grant.token.0,
            holder: grant.holder.clone(),
            terminals: grant
                .terminals
                .iter()
                .map(|t| TerminalRefJson {
                    guest: t.guest.hyphenated().to_string(),
                    terminal: t.terminal.clone(),
                })
                .collect(),
            ttl_ms: grant.ttl.map(millis),
            expires_in_ms: grant.deadline.map(|d| millis(d.saturating_sub(now))),
            kernel: grant.kernel,
            picks: None,
        }
    }

    pub(crate) fn booked(booking: &Booking, now: Duration) -> Self {
        let mut json = GrantJson::new(&booking.grant, now);
        json.picks = Some(
            booking
                .picks
                .iter()
                .map(|want| {
                    want.iter()
                        .map(|p| PickJson {
                            identity: p.identity.to_string(),
                            terminals: p.terminals.clone(),
                        })
                        .collect()
                })
                .collect(),
        );
        json
    }
}
