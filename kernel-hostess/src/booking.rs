//! Booking with the control surface: the control surface turns the wiring
//! into a [`Plan`] (masks and counts), the Hostess answers with the guests
//! and terminals it reserved for it ([`Booking`]), and the control surface
//! returns the connectome ids under which each terminal is connected
//! ([`Hostess::bind`]). Disconnecting a connection frees its terminals
//! ([`Hostess::unbind`]).
//!
//! [`book_spec`] does the whole exchange for a generated kernel: one want
//! per server instance (its exact identity, count 1, the terminals its pipes
//! use), then every terminal bound under the ids of its pipes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use uuid::Uuid;

use crate::identity::GuestIdentity;
use crate::mask::GuestMask;
use crate::reservation::{Grant, TerminalRef, check_guest_holder, check_holder, check_ttl};
use crate::{Hostess, HostessError, State};
use wiring_model::Spec;

/// Some guests the plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// Which guests qualify.
    pub mask: GuestMask,
    /// How many of them.
    pub count: usize,
    /// Which terminals of each; empty means all of the guest's terminals.
    /// A guest lacking one of them does not qualify.
    pub terminals: Vec<String>,
}

/// What the control surface asks the Hostess for, all or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Who will hold the reservation.
    pub holder: String,
    /// Lease TTL; `None` for bookings that last until released.
    pub ttl: Option<Duration>,
    /// What to book: each want a mask and terminals, all or nothing.
    pub wants: Vec<Want>,
}

/// One guest picked for a want, with the terminals reserved for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    /// The guest picked.
    pub identity: GuestIdentity,
    /// The names of its terminals reserved.
    pub terminals: Vec<String>,
}

/// The Hostess's answer to a plan: one reservation holding every picked
/// terminal, and the picks of each want (in the plan's order, each in the
/// guest book's stable order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The one reservation holding every picked terminal.
    pub grant: Grant,
    /// For each want of the plan, in order, the guests picked for it.
    pub picks: Vec<Vec<Pick>>,
}

impl State {
    /// The terminals of guest `g` that `want` asks for, when the guest has
    /// them all and they are free (and not already picked by this plan).
    fn qualifies(
        &self,
        g: usize,
        want: &Want,
        picked: &HashSet<(usize, usize)>,
    ) -> Option<Vec<usize>> {
        let slot = &self.book.slots[g];
        let terminals: Vec<usize> = if want.terminals.is_empty() {
            (0..slot.guest.terminals().len()).collect()
        } else {
            want.terminals
                .iter()
                .map(|n| slot.guest.terminal_index(n))
                .collect::<Option<_>>()?
        };
        let free = !terminals.is_empty()
            && terminals
                .iter()
                .all(|&t| slot.holds[t].is_none() && !picked.contains(&(g, t)));
        free.then_some(terminals)
    }

    /// Books a plan; for the kernel (`kernel`), as its own booking.
    pub(crate) fn book(
        &mut self,
        now: Duration,
        plan: &Plan,
        kernel: bool,
    ) -> Result<Booking, HostessError> {
        check_ttl(plan.ttl)?;
        if kernel {
            check_holder(&plan.holder)?;
        } else {
            check_guest_holder(&plan.holder)?;
        }
        self.expire_due(now);
        let mut picked: HashSet<(usize, usize)> = HashSet::new();
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        let mut picks = Vec::with_capacity(plan.wants.len());
        for (w, want) in plan.wants.iter().enumerate() {
            let found: Vec<(usize, Vec<usize>)> = self
                .book
                .matching(&want.mask)
                .filter_map(|g| self.qualifies(g, want, &picked).map(|ts| (g, ts)))
                .take(want.count)
                .collect();
            if found.len() < want.count {
                let free = self
                    .book
                    .matching(&want.mask)
                    .filter(|&g| self.qualifies(g, want, &picked).is_some())
                    .count();
                return Err(HostessError::NotEnough {
                    mask: format!("{} (want {} of the plan)", want.mask, w + 1),
                    wanted: want.count,
                    found: self.book.count(&want.mask),
                    free: Some(free),
                });
            }
            let mut want_picks = Vec::with_capacity(found.len());
            for (g, terminals) in found {
                let guest = &self.book.slots[g].guest;
                want_picks.push(Pick {
                    identity: guest.identity().clone(),
                    terminals: terminals
                        .iter()
                        .map(|&t| guest.terminals()[t].name.clone())
                        .collect(),
                });
                for t in terminals {
                    picked.insert((g, t));
                    chosen.push((g, t));
                }
            }
            picks.push(want_picks);
        }
        if chosen.is_empty() {
            return Err(HostessError::EmptyReservation);
        }
        let grant = self.reserve_pairs(now, plan.holder.clone(), chosen, plan.ttl, kernel)?;
        Ok(Booking { grant, picks })
    }
}

/// The plan of a generated kernel: for each server instance whose pipes use
/// terminals, its exact identity, count 1, and those terminals.
pub fn plan_for_spec(spec: &Spec, holder: &str) -> Result<Plan, HostessError> {
    // Each server's terminals in the order the pipes first use them, in one
    // pass over the pipes (a pass per server is quadratic in large kernels).
    let mut used: HashMap<&str, Vec<&str>> = HashMap::new();
    for pipe in spec.pipes {
        for end in [pipe.from, pipe.to] {
            let terminals = used.entry(end.server).or_default();
            if !terminals.contains(&end.terminal) {
                terminals.push(end.terminal);
            }
        }
    }
    let mut wants = Vec::new();
    for server in spec.servers {
        let identity =
            GuestIdentity::parse(server.identity).map_err(|e| HostessError::Identity {
                server: server.name.to_owned(),
                error: e,
            })?;
        let Some(terminals) = used.get(server.name) else {
            continue;
        };
        let terminals = terminals.iter().map(|t| (*t).to_owned()).collect();
        wants.push(Want {
            mask: GuestMask::exact(&identity),
            count: 1,
            terminals,
        });
    }
    Ok(Plan {
        holder: holder.to_owned(),
        ttl: None,
        wants,
    })
}

/// What [`book_spec`] booked: the reservation and, per `server.terminal`,
/// the connectome ids (pipe ids) it is booked under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecBooking {
    /// `None` when the kernel has no pipes (nothing to book).
    pub grant: Option<Grant>,
    /// Every booked terminal, `(instance, terminal)`, with the pipe ids it is
    /// booked under.
    pub terminals: BTreeMap<(String, String), Vec<Uuid>>,
}

impl SpecBooking {
    /// The connectome ids of `server.terminal`.
    pub fn connectome_ids(&self, server: &str, terminal: &str) -> &[Uuid] {
        self.terminals
            .get(&(server.to_owned(), terminal.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// The whole exchange for a generated kernel whose servers are registered
/// (see [`Hostess::register_spec`]): plan, book, bind every terminal under
/// the ids of its pipes, as one step and all or nothing. What it books is
/// the kernel's own booking (see [`reservation`](crate::reservation)),
/// held under `holder`.
pub fn book_spec(
    hostess: &Hostess,
    spec: &Spec,
    holder: &str,
) -> Result<SpecBooking, HostessError> {
    let plan = plan_for_spec(spec, holder)?;
    if plan.wants.is_empty() {
        return Ok(SpecBooking {
            grant: None,
            terminals: BTreeMap::new(),
        });
    }
    let uuids: HashMap<&str, Uuid> = spec.servers.iter().map(|s| (s.name, s.uuid)).collect();
    let mut bindings = Vec::new();
    let mut terminals: BTreeMap<(String, String), Vec<Uuid>> = BTreeMap::new();
    for pipe in spec.pipes {
        for end in [pipe.from, pipe.to] {
            let Some(&uuid) = uuids.get(end.server) else {
                continue;
            };
            bindings.push((TerminalRef::new(uuid, end.terminal), pipe.id));
            terminals
                .entry((end.server.to_owned(), end.terminal.to_owned()))
                .or_default()
                .push(pipe.id);
        }
    }
    let grant = hostess.book_for_kernel(&plan, &bindings)?;
    Ok(SpecBooking {
        grant: Some(grant),
        terminals,
    })
}
