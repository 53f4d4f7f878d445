//! The guest book: every registered server (guest) with its identity and
//! terminals, and the use of each terminal (free, reserved, or in use under
//! connectome ids).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::identity::GuestIdentity;
use crate::mask::{GuestMask, Parts};
use crate::reservation::{FencingToken, ReservationId};
use crate::{HostessError, State};
use wiring_model::ServerSpec;
use wiring_model::manifest::{Auth, TerminalKind};

/// One terminal of a guest, as its manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TerminalInfo {
    /// Wiring name.
    pub name: String,
    /// `Input`, `Output`, `Multiplex` or `Combine`.
    pub kind: TerminalKind,
    /// The message type as written in the source.
    pub message_type: String,
}

/// A registered server: its identity and its terminals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    identity: GuestIdentity,
    terminals: Vec<TerminalInfo>,
}

impl Guest {
    /// A guest; terminal names must be unique.
    pub fn new(
        identity: GuestIdentity,
        terminals: Vec<TerminalInfo>,
    ) -> Result<Guest, HostessError> {
        for (i, t) in terminals.iter().enumerate() {
            if terminals[..i].iter().any(|u| u.name == t.name) {
                return Err(HostessError::DuplicateTerminalName {
                    guest: identity.to_string(),
                    terminal: t.name.clone(),
                });
            }
        }
        Ok(Guest {
            identity,
            terminals,
        })
    }

    /// The guest of a server instance of a generated kernel: its identity
    /// (`spec.identity`) and the terminals of its manifest.
    pub fn from_spec(spec: &ServerSpec) -> Result<Guest, HostessError> {
        let identity = GuestIdentity::parse(spec.identity).map_err(|e| HostessError::Identity {
            server: spec.name.to_owned(),
            error: e,
        })?;
        if identity.uuid() != spec.uuid {
            return Err(HostessError::UuidMismatch {
                server: spec.name.to_owned(),
                identity: identity.to_string(),
                uuid: spec.uuid,
            });
        }
        let terminals = spec
            .manifest
            .terminals
            .iter()
            .map(|t| TerminalInfo {
                name: t.name.to_owned(),
                kind: t.kind,
                message_type: t.message_type.to_owned(),
            })
            .collect();
        Guest::new(identity, terminals)
    }

    /// The guest's identity.
    pub fn identity(&self) -> &GuestIdentity {
        &self.identity
    }

    /// The guest's uuid (the last field of its identity).
    pub fn uuid(&self) -> Uuid {
        self.identity.uuid()
    }

    /// Its terminals, in manifest order.
    pub fn terminals(&self) -> &[TerminalInfo] {
        &self.terminals
    }

    /// Index of the terminal with this name.
    pub fn terminal_index(&self, name: &str) -> Option<usize> {
        self.terminals.iter().position(|t| t.name == name)
    }
}

/// What a terminal is used for right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalUse {
    /// Nobody holds it.
    Free,
    /// Held by a reservation, not yet connected.
    Reserved {
        /// The reservation holding it.
        reservation: ReservationId,
        /// The reservation's fencing token.
        token: FencingToken,
        /// Who holds the reservation.
        holder: String,
    },
    /// Held by a reservation and connected under these connectome ids (the
    /// ids of its pipes; more than one for a `Multiplex` or `Combine`).
    InUse {
        /// The reservation holding it.
        reservation: ReservationId,
        /// The reservation's fencing token.
        token: FencingToken,
        /// Who holds the reservation.
        holder: String,
        /// The pipe ids it is connected under.
        connectome: Vec<Uuid>,
    },
}

impl TerminalUse {
    /// True when nobody holds the terminal.
    pub fn is_free(&self) -> bool {
        matches!(self, TerminalUse::Free)
    }

    /// The reservation holding the terminal.
    pub fn reservation(&self) -> Option<ReservationId> {
        match self {
            TerminalUse::Free => None,
            TerminalUse::Reserved { reservation, .. } | TerminalUse::InUse { reservation, .. } => {
                Some(*reservation)
            }
        }
    }

    /// The connectome ids the terminal is connected under (empty unless in use).
    pub fn connectome(&self) -> &[Uuid] {
        match self {
            TerminalUse::InUse { connectome, .. } => connectome,
            _ => &[],
        }
    }
}

/// One terminal and its use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalStatus {
    /// The terminal as declared.
    pub info: TerminalInfo,
    /// Who holds it, if anyone.
    pub usage: TerminalUse,
}

/// A guest and the use of each of its terminals, as a query returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestStatus {
    /// The guest's identity.
    pub identity: GuestIdentity,
    /// Each of its terminals, in manifest order.
    pub terminals: Vec<TerminalStatus>,
}

impl GuestStatus {
    /// The status of the terminal with this name.
    pub fn terminal(&self, name: &str) -> Option<&TerminalStatus> {
        self.terminals.iter().find(|t| t.info.name == name)
    }

    /// True when every terminal is free.
    pub fn is_free(&self) -> bool {
        self.terminals.iter().all(|t| t.usage.is_free())
    }
}

/// Whether registering changed the guest book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// A new guest.
    Added,
    /// The same guest (same uuid, identity and terminals) was already there; nothing changed.
    Unchanged,
}

/// Availability of one (class, owner) pair: what the Hostess shares with peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    /// The server class.
    pub class: u32,
    /// The owner.
    pub owner: String,
    /// Registered guests of this class and owner.
    pub guests: usize,
    /// Guests whose terminals are all free.
    pub free_guests: usize,
    /// Their terminals.
    pub terminals: usize,
    /// Of which free.
    pub free_terminals: usize,
}

/// The availability summary, one entry per (class, owner), sorted by class then owner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Menu {
    /// One entry per (class, owner), sorted by class then owner.
    pub entries: Vec<MenuEntry>,
}

/// A terminal held by a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hold {
    pub(crate) reservation: ReservationId,
    pub(crate) connectome: Vec<Uuid>,
}

pub(crate) struct Slot {
    pub(crate) guest: Arc<Guest>,
    /// One per terminal of the guest.
    pub(crate) holds: Vec<Option<Hold>>,
}

/// The fields masks look at, packed for a fast scan: strings live in one
/// arena, appended in registration order, so a query reads memory in order.
struct Compact {
    class: u32,
    auth: Auth,
    uuid: Uuid,
    /// Byte ranges in the arena.
    fqdn: (u32, u32),
    server: (u32, u32),
    owner: (u32, u32),
    auth_mechanism: (u32, u32),
}

/// Guests in a stable order: by host name, server name, then uuid.
#[derive(Default)]
pub(crate) struct GuestBook {
    pub(crate) slots: Vec<Slot>,
    compact: Vec<Compact>,
    arena: String,
    order: BTreeMap<(String, String, Uuid), usize>,
    by_uuid: HashMap<Uuid, usize>,
    /// Position of each slot in the stable order; rebuilt after registrations.
    ranks: Mutex<Option<Arc<Vec<u32>>>>,
}

impl GuestBook {
    pub(crate) fn register(&mut self, guest: Guest) -> Result<Registration, HostessError> {
        let uuid = guest.uuid();
        if let Some(&i) = self.by_uuid.get(&uuid) {
            let existing = &self.slots[i].guest;
            return if **existing == guest {
                Ok(Registration::Unchanged)
            } else {
                Err(HostessError::RegistrationConflict {
                    uuid,
                    registered: existing.identity().to_string(),
                    offered: guest.identity().to_string(),
                })
            };
        }
        let id = guest.identity();
        let texts = [id.fqdn(), id.server(), id.owner(), id.auth_mechanism()];
        let needed = texts.iter().map(|t| t.len()).sum::<usize>();
        if self.arena.len() + needed > u32::MAX as usize || self.slots.len() >= u32::MAX as usize {
            return Err(HostessError::Full);
        }
        let mut span = |text: &str| {
            let start = self.arena.len() as u32;
            self.arena.push_str(text);
            (start, self.arena.len() as u32)
        };
        let compact = Compact {
            class: id.class(),
            auth: id.auth(),
            uuid,
            fqdn: span(id.fqdn()),
            server: span(id.server()),
            owner: span(id.owner()),
            auth_mechanism: span(id.auth_mechanism()),
        };
        let index = self.slots.len();
        let key = (id.fqdn().to_owned(), id.server().to_owned(), uuid);
        self.compact.push(compact);
        self.slots.push(Slot {
            holds: vec![None; guest.terminals().len()],
            guest: Arc::new(guest),
        });
        self.order.insert(key, index);
        self.by_uuid.insert(uuid, index);
        *self.ranks.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(Registration::Added)
    }

    pub(crate) fn index_of(&self, uuid: &Uuid) -> Option<usize> {
        self.by_uuid.get(uuid).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Slot indexes in the stable order.
    pub(crate) fn ordered(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.values().copied()
    }

    fn ranks(&self) -> Arc<Vec<u32>> {
        let mut cache = self.ranks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ranks) = &*cache {
            return Arc::clone(ranks);
        }
        let mut ranks = vec![0u32; self.slots.len()];
        for (rank, &slot) in self.order.values().enumerate() {
            ranks[slot] = rank as u32;
        }
        let ranks = Arc::new(ranks);
        *cache = Some(Arc::clone(&ranks));
        ranks
    }

    fn text(&self, (start, end): (u32, u32)) -> &str {
        self.arena
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    fn matches(&self, mask: &GuestMask, slot: usize) -> bool {
        let Some(c) = self.compact.get(slot) else {
            return false;
        };
        mask.matches_parts(&Parts {
            fqdn: self.text(c.fqdn),
            server: self.text(c.server),
            class: c.class,
            owner: self.text(c.owner),
            auth: c.auth,
            auth_mechanism: self.text(c.auth_mechanism),
            uuid: c.uuid,
        })
    }

    /// Slots matching `mask`, in the stable order; with `limit`, the first
    /// that many. Also returns how many match in all.
    pub(crate) fn select(&self, mask: &GuestMask, limit: Option<usize>) -> (Vec<usize>, usize) {
        // A mask naming one uuid needs no scan.
        if let Some(uuid) = mask.exact_uuid() {
            let hit: Vec<usize> = self
                .index_of(&uuid)
                .filter(|&i| self.matches(mask, i))
                .into_iter()
                .collect();
            let n = hit.len();
            return (hit, n);
        }
        // Scan in registration order (memory order), then sort the hits by rank.
        let ranks = self.ranks();
        let mut hits: Vec<(u32, usize)> = (0..self.compact.len())
            .filter(|&i| self.matches(mask, i))
            .map(|i| (ranks[i], i))
            .collect();
        let found = hits.len();
        if let Some(n) = limit
            && n < hits.len()
        {
            if n == 0 {
                hits.clear();
            } else {
                hits.select_nth_unstable(n - 1);
                hits.truncate(n);
            }
        }
        hits.sort_unstable();
        (hits.into_iter().map(|(_, i)| i).collect(), found)
    }

    /// Slots matching `mask`, in the stable order.
    pub(crate) fn matching<'a>(&'a self, mask: &'a GuestMask) -> impl Iterator<Item = usize> + 'a {
        self.select(mask, None).0.into_iter()
    }

    /// How many guests match `mask`.
    pub(crate) fn count(&self, mask: &GuestMask) -> usize {
        if let Some(uuid) = mask.exact_uuid() {
            return usize::from(self.index_of(&uuid).is_some_and(|i| self.matches(mask, i)));
        }
        (0..self.compact.len())
            .filter(|&i| self.matches(mask, i))
            .count()
    }
}

impl State {
    /// The use of terminal `t` of slot `g`.
    pub(crate) fn usage(&self, g: usize, t: usize) -> TerminalUse {
        let Some(Some(hold)) = self.book.slots.get(g).and_then(|s| s.holds.get(t)) else {
            return TerminalUse::Free;
        };
        let (token, holder) = self
            .ledger
            .lease(&hold.reservation)
            .map(|l| (l.token, l.holder.clone()))
            .unwrap_or((FencingToken(0), String::new()));
        if hold.connectome.is_empty() {
            TerminalUse::Reserved {
                reservation: hold.reservation,
                token,
                holder,
            }
        } else {
            TerminalUse::InUse {
                reservation: hold.reservation,
                token,
                holder,
                connectome: hold.connectome.clone(),
            }
        }
    }

    pub(crate) fn status(&self, g: usize) -> GuestStatus {
        let slot = &self.book.slots[g];
        GuestStatus {
            identity: slot.guest.identity().clone(),
            terminals: slot
                .guest
                .terminals()
                .iter()
                .enumerate()
                .map(|(t, info)| TerminalStatus {
                    info: info.clone(),
                    usage: self.usage(g, t),
                })
                .collect(),
        }
    }

    /// Guests matching `mask` in the stable order; with `count`, exactly
    /// that many (the first ones) or an error saying how many match.
    pub(crate) fn query(
        &self,
        mask: &GuestMask,
        count: Option<usize>,
    ) -> Result<Vec<GuestStatus>, HostessError> {
        let (hits, found) = self.book.select(mask, count);
        if let Some(wanted) = count
            && found < wanted
        {
            return Err(HostessError::NotEnough {
                mask: mask.to_string(),
                wanted,
                found,
                free: None,
            });
        }
        Ok(hits.into_iter().map(|g| self.status(g)).collect())
    }

    pub(crate) fn menu(&self) -> Menu {
        let mut groups: BTreeMap<(u32, &str), MenuEntry> = BTreeMap::new();
        for slot in &self.book.slots {
            let id = slot.guest.identity();
            let entry = groups
                .entry((id.class(), id.owner()))
                .or_insert_with(|| MenuEntry {
                    class: id.class(),
                    owner: id.owner().to_owned(),
                    guests: 0,
                    free_guests: 0,
                    terminals: 0,
                    free_terminals: 0,
                });
            let free = slot.holds.iter().filter(|h| h.is_none()).count();
            entry.guests += 1;
            entry.terminals += slot.holds.len();
            entry.free_terminals += free;
            if free == slot.holds.len() {
                entry.free_guests += 1;
            }
        }
        Menu {
            entries: groups.into_values().collect(),
        }
    }
}
