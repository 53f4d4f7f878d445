//! Each route of the kernel being linted, checked against the kernels it
//! goes to (E0801-E0808): the remote kernel, server and terminal exist, the
//! terminal is an offered input of the message type the route sends, and
//! no `Input` takes producers from two places.

use std::collections::BTreeMap;

use wiring_model::identity::{GuestIdentity, class_hex};
use wiring_model::names::closest;
use wiring_model::wiring::{Route, Span};
use wiring_model::{GuestMask, TerminalKind, Uuid};

use super::view::{GuestView, KernelView, TerminalView};
use crate::diagnostic::{Code, Finding};
use crate::lint::{article, quoted_list};

/// How many guests a note lists before it counts the rest.
const LISTED: usize = 5;

/// The findings on `local`'s routes and offers against `peers`.
pub(crate) fn check(local: &KernelView, peers: &[KernelView]) -> Vec<Finding> {
    let all: Vec<&KernelView> = std::iter::once(local).chain(peers).collect();
    let mut findings = Vec::new();
    let mut sources: Vec<Source<'_>> = Vec::new();
    for (index, kernel) in all.iter().enumerate() {
        let universe: Vec<(usize, &KernelView)> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(i, k)| (i, *k))
            .collect();
        for route in &kernel.routes {
            let Some(resolved) = resolve(kernel, route, &universe) else {
                continue;
            };
            match resolved {
                Ok(ends) => {
                    if let [(target, end)] = ends[..]
                        && end.terminal.kind == TerminalKind::Input
                    {
                        sources.push(Source {
                            kernel: index,
                            route,
                            target,
                            end,
                        });
                    }
                }
                Err(miss) if index == 0 => findings.push(miss_finding(route, &miss, peers)),
                Err(_) => {}
            }
        }
    }
    findings.extend(routed_twice(&all, &sources));
    findings
}

/// Where a route ends: a terminal of a guest of a kernel.
#[derive(Debug, Clone, Copy)]
struct End<'a> {
    kernel: &'a KernelView,
    guest: &'a GuestView,
    terminal: &'a TerminalView,
}

impl End<'_> {
    /// `south/checker.numbers`.
    fn describe(&self) -> String {
        format!(
            "{}/{}.{}",
            self.kernel.name, self.guest.name, self.terminal.name
        )
    }
}

/// Why a guest cannot take a route.
#[derive(Debug)]
enum Unfit<'a> {
    NoTerminal {
        kernel: &'a KernelView,
        guest: &'a GuestView,
    },
    NotInput(End<'a>),
    NotOffered(End<'a>),
    Type {
        end: End<'a>,
        sent: String,
        written: String,
    },
}

/// Why a route has nowhere to go.
#[derive(Debug)]
enum Miss<'a> {
    /// No peer has the guest's fqdn.
    Kernel,
    /// The kernels with that fqdn have no guest of that uuid.
    Guest(Vec<&'a KernelView>),
    /// The guest of that uuid has another identity.
    Differs(&'a KernelView, &'a GuestView),
    /// No guest matches the mask.
    NoMatch,
    /// Guests were found; none can take the route (the first is the exact guest's).
    Unfit(Vec<Unfit<'a>>),
}

/// A route that ends at one `Input`.
struct Source<'a> {
    /// Index of the route's kernel (0: the kernel being linted).
    kernel: usize,
    route: &'a Route,
    /// Index of the kernel it goes to.
    target: usize,
    end: End<'a>,
}

type Resolved<'a> = Result<Vec<(usize, End<'a>)>, Miss<'a>>;

/// Where `route` of `kernel` can go among `universe`; `None` when the route
/// is too broken to say (its own lints report why).
fn resolve<'a>(
    kernel: &'a KernelView,
    route: &Route,
    universe: &[(usize, &'a KernelView)],
) -> Option<Resolved<'a>> {
    let terminal = &route.terminal.as_ref()?.value;
    let (server, output) = wiring_model::wiring::split_endpoint(&route.from.as_ref()?.value)?;
    // A route from a non-output is E0201 already.
    let sent = kernel
        .guest(server)?
        .terminal(output)
        .filter(|t| t.kind.is_producer())?;
    if let Some(guest) = &route.guest {
        let identity = GuestIdentity::parse(&guest.value).ok()?;
        let kernels: Vec<(usize, &KernelView)> = universe
            .iter()
            .filter(|(_, k)| k.fqdn.eq_ignore_ascii_case(identity.fqdn()))
            .copied()
            .collect();
        if kernels.is_empty() {
            return Some(Err(Miss::Kernel));
        }
        let found = kernels.iter().find_map(|(i, k)| {
            let g = k
                .guests
                .iter()
                .find(|g| g.identity.uuid() == identity.uuid())?;
            Some((*i, *k, g))
        });
        let Some((index, target, found)) = found else {
            return Some(Err(Miss::Guest(kernels.iter().map(|(_, k)| *k).collect())));
        };
        if found.identity != identity {
            return Some(Err(Miss::Differs(target, found)));
        }
        return Some(match fit(target, found, terminal, sent) {
            Ok(end) => Ok(vec![(index, end)]),
            Err(unfit) => Err(Miss::Unfit(vec![unfit])),
        });
    }
    let mask = GuestMask::parse(&route.mask.as_ref()?.value).ok()?;
    let mut ends = Vec::new();
    let mut unfits = Vec::new();
    for (index, target) in universe {
        for guest in target.guests.iter().filter(|g| mask.matches(&g.identity)) {
            match fit(target, guest, terminal, sent) {
                Ok(end) => ends.push((*index, end)),
                Err(unfit) => unfits.push(unfit),
            }
        }
    }
    Some(match (ends.is_empty(), unfits.is_empty()) {
        (false, _) => Ok(ends),
        (true, true) => Err(Miss::NoMatch),
        (true, false) => Err(Miss::Unfit(unfits)),
    })
}

/// Whether terminal `name` of `guest` can take a route sending `sent`.
fn fit<'a>(
    kernel: &'a KernelView,
    guest: &'a GuestView,
    name: &str,
    sent: &TerminalView,
) -> Result<End<'a>, Unfit<'a>> {
    let Some(terminal) = guest.terminal(name) else {
        return Err(Unfit::NoTerminal { kernel, guest });
    };
    let end = End {
        kernel,
        guest,
        terminal,
    };
    if !matches!(terminal.kind, TerminalKind::Input | TerminalKind::Combine) {
        return Err(Unfit::NotInput(end));
    }
    if !kernel.offers(&format!("{}.{}", guest.name, terminal.name)) {
        return Err(Unfit::NotOffered(end));
    }
    if let (Some(sent_type), Some(taken)) = (&sent.rust_type, &terminal.rust_type)
        && sent_type != taken
    {
        return Err(Unfit::Type {
            end,
            sent: sent_type.clone(),
            written: sent.written.clone(),
        });
    }
    Ok(end)
}

/// The span of a route's `guest` or `mask`, else its `to`, else the entry.
fn target_span(route: &Route) -> Span {
    route
        .guest
        .as_ref()
        .or(route.mask.as_ref())
        .map(|t| t.span.clone())
        .or_else(|| route.to_span.clone())
        .unwrap_or_else(|| route.span.clone())
}

fn terminal_span(route: &Route) -> Span {
    route
        .terminal
        .as_ref()
        .map(|t| t.span.clone())
        .unwrap_or_else(|| target_span(route))
}

fn peers_list(peers: &[KernelView]) -> String {
    let list: Vec<String> = peers
        .iter()
        .map(|p| format!("{} with fqdn `{}`", p.describe(), p.fqdn))
        .collect();
    list.join(", ")
}

fn miss_finding(route: &Route, miss: &Miss<'_>, peers: &[KernelView]) -> Finding {
    let text = route
        .guest
        .as_ref()
        .or(route.mask.as_ref())
        .map(|t| t.value.as_str())
        .unwrap_or_default();
    match miss {
        Miss::Kernel => {
            let fqdn = text.split(':').next().unwrap_or_default();
            Finding::new(
                Code::UnknownPeerKernel,
                target_span(route),
                format!("no peer kernel has fqdn `{fqdn}`"),
            )
            .label("the guest's kernel is not among the peers")
            .note(format!("the peers are {}", peers_list(peers)))
            .help(format!(
                "check the route against the crate of the kernel with fqdn `{fqdn}` \
                 (`Config::peer`, `wiring lint --peer`), or correct the fqdn"
            ))
        }
        Miss::Guest(kernels) => {
            let uuid = GuestIdentity::parse(text)
                .map(|i| i.uuid())
                .unwrap_or_default();
            let names: Vec<String> = kernels.iter().map(|k| k.name.clone()).collect();
            let mut finding = Finding::new(
                Code::UnknownPeerGuest,
                target_span(route),
                format!(
                    "no guest {uuid} on peer kernel {}",
                    quoted_list(&names).replace(", ", " or ")
                ),
            )
            .label("no server of the peer has this uuid");
            let server = text.split(':').nth(1).unwrap_or_default();
            let same_name = kernels.iter().find_map(|k| k.guest(server));
            finding = match same_name {
                Some(guest) => finding.help(format!(
                    "`{server}` there is `{}`; copy its identity",
                    guest.identity
                )),
                None => finding.note(format!(
                    "the guests of {} are {}",
                    kernels
                        .iter()
                        .map(|k| k.describe())
                        .collect::<Vec<_>>()
                        .join(", "),
                    guests_list(kernels.iter().flat_map(|k| &k.guests))
                )),
            };
            finding
        }
        Miss::Differs(kernel, guest) => {
            let differs = GuestIdentity::parse(text)
                .map(|written| differing_fields(&written, &guest.identity))
                .unwrap_or_default();
            Finding::new(
                Code::UnknownPeerGuest,
                target_span(route),
                format!(
                    "guest {} of peer kernel `{}` has another identity",
                    guest.identity.uuid(),
                    kernel.name
                ),
            )
            .label(format!("differs in {}", differs.join(", ")))
            .note(format!(
                "server `{}` of {} is `{}`",
                guest.name,
                kernel.describe(),
                guest.identity
            ))
            .help(format!("write `guest = \"{}\"`", guest.identity))
        }
        Miss::NoMatch => Finding::new(
            Code::NoPeerGuestMatches,
            target_span(route),
            format!("no guest of the peer kernels matches `{text}`"),
        )
        .label("matches no guest")
        .note(format!(
            "the peers' guests are {}",
            guests_list(peers.iter().flat_map(|k| &k.guests))
        ))
        .help("widen the mask, or check the route against the kernel that hosts the guest"),
        Miss::Unfit(unfits) => {
            let mut finding = match unfits.first() {
                Some(first) => unfit_finding(route, first),
                None => Finding::new(Code::NoPeerGuestMatches, target_span(route), "no guest"),
            };
            if route.mask.is_some() {
                let names: Vec<String> = unfits
                    .iter()
                    .map(|u| match u {
                        Unfit::NoTerminal { kernel, guest } => {
                            format!("`{}/{}`", kernel.name, guest.name)
                        }
                        Unfit::NotInput(end) | Unfit::NotOffered(end) => {
                            format!("`{}/{}`", end.kernel.name, end.guest.name)
                        }
                        Unfit::Type { end, .. } => {
                            format!("`{}/{}`", end.kernel.name, end.guest.name)
                        }
                    })
                    .collect();
                finding = finding.note(format!(
                    "the mask matches {}, and none can take the route; the first is shown",
                    names.join(", ")
                ));
            }
            finding
        }
    }
}

fn unfit_finding(route: &Route, unfit: &Unfit<'_>) -> Finding {
    let terminal = route
        .terminal
        .as_ref()
        .map(|t| t.value.as_str())
        .unwrap_or_default();
    match unfit {
        Unfit::NoTerminal { kernel, guest } => {
            let finding = Finding::new(
                Code::UnknownPeerTerminal,
                terminal_span(route),
                format!(
                    "server `{}` of peer kernel `{}` has no terminal `{terminal}`",
                    guest.name, kernel.name
                ),
            )
            .label(format!("not a terminal of `{}`", guest.type_name));
            match closest(terminal, guest.terminals.iter().map(|t| t.name.as_str())) {
                Some(near) => {
                    finding.help(format!("a terminal with a similar name exists: `{near}`"))
                }
                None => finding.note(format!(
                    "the terminals of `{}` are {}",
                    guest.type_name,
                    terminals_list(&guest.terminals)
                )),
            }
        }
        Unfit::NotInput(end) => {
            let inputs: Vec<String> = end
                .guest
                .terminals
                .iter()
                .filter(|t| matches!(t.kind, TerminalKind::Input | TerminalKind::Combine))
                .map(|t| t.name.clone())
                .collect();
            let finding = Finding::new(
                Code::PeerTargetNotInput,
                terminal_span(route),
                format!("route target `{}` is not an input", end.describe()),
            )
            .label(format!(
                "`{}` is {} `{}<{}>` in `{}`",
                end.terminal.name,
                article(end.terminal.kind),
                end.terminal.kind.type_name(),
                end.terminal.written,
                end.guest.type_name
            ));
            if inputs.is_empty() {
                finding.help(format!(
                    "a route ends at an `Input` or `Combine` terminal; `{}` has none",
                    end.guest.type_name
                ))
            } else {
                finding.help(format!(
                    "a route ends at an `Input` or `Combine` terminal: {}",
                    quoted_list(&inputs)
                ))
            }
        }
        Unfit::NotOffered(end) => {
            let endpoint = format!("{}.{}", end.guest.name, end.terminal.name);
            let file = end
                .kernel
                .origin
                .as_deref()
                .map_or_else(|| "wiring.toml".to_string(), |o| format!("{o}/wiring.toml"));
            Finding::new(
                Code::NotOffered,
                terminal_span(route),
                format!(
                    "peer kernel `{}` does not offer `{endpoint}`",
                    end.kernel.name
                ),
            )
            .label(format!("not in `[mesh] offer` of `{}`", end.kernel.name))
            .note("a kernel refuses routes into terminals it does not offer")
            .help(format!(
                "add `\"{endpoint}\"` to `offer` in `[mesh]` of `{file}`"
            ))
        }
        Unfit::Type { end, sent, written } => {
            let from = route.from.as_ref();
            let span = from.map_or_else(|| target_span(route), |f| f.span.clone());
            let taken = end.terminal.rust_type.clone().unwrap_or_default();
            Finding::new(
                Code::RouteTypeMismatch,
                span,
                format!(
                    "route from `{}` to `{}` carries different types",
                    from.map_or("?", |f| f.value.as_str()),
                    end.describe()
                ),
            )
            .label(format!("sends `{written}`"))
            .secondary(
                terminal_span(route),
                format!("takes `{}`", end.terminal.written),
            )
            .note(format!(
                "the two ends are compared as Rust type paths: `{sent}` and `{taken}`"
            ))
            .help(
                "send the type the remote terminal takes; a type of one kernel's crate is \
                 never the type of another's: put the message type in a library both \
                 kernels depend on",
            )
        }
    }
}

fn terminals_list(terminals: &[TerminalView]) -> String {
    let list: Vec<String> = terminals
        .iter()
        .map(|t| format!("`{}` ({}<{}>)", t.name, t.kind.type_name(), t.written))
        .collect();
    list.join(", ")
}

fn guests_list<'a>(guests: impl Iterator<Item = &'a GuestView>) -> String {
    let all: Vec<String> = guests.map(|g| format!("`{}`", g.identity)).collect();
    if all.is_empty() {
        return "none".to_string();
    }
    let mut shown = all[..all.len().min(LISTED)].join(", ");
    if all.len() > LISTED {
        shown.push_str(&format!(" and {} more", all.len() - LISTED));
    }
    shown
}

/// The fields in which two identities differ, by name.
fn differing_fields(a: &GuestIdentity, b: &GuestIdentity) -> Vec<String> {
    let mut fields = Vec::new();
    if !a.fqdn().eq_ignore_ascii_case(b.fqdn()) {
        fields.push(format!("fqdn (`{}` there)", b.fqdn()));
    }
    if a.server() != b.server() {
        fields.push(format!("server name (`{}` there)", b.server()));
    }
    if a.class() != b.class() {
        fields.push(format!("class (`{}` there)", class_hex(b.class())));
    }
    if a.owner() != b.owner() {
        fields.push(format!("owner (`{}` there)", b.owner()));
    }
    if a.auth() != b.auth() || a.auth_mechanism() != b.auth_mechanism() {
        fields.push(format!(
            "auth (`{}:{}` there)",
            b.auth().as_str(),
            b.auth_mechanism()
        ));
    }
    fields
}

/// E0808: an `Input` fed from two places, one of them a route or an offer
/// of the kernel being linted.
fn routed_twice(all: &[&KernelView], sources: &[Source<'_>]) -> Vec<Finding> {
    let mut groups: BTreeMap<(usize, Uuid, &str), Vec<&Source<'_>>> = BTreeMap::new();
    for source in sources {
        let key = (
            source.target,
            source.end.guest.identity.uuid(),
            source.end.terminal.name.as_str(),
        );
        groups.entry(key).or_default().push(source);
    }
    let mut findings = Vec::new();
    for group in groups.values() {
        let Some(first) = group.first() else {
            continue;
        };
        let end = first.end;
        let endpoint = format!("{}.{}", end.guest.name, end.terminal.name);
        let fed = end.kernel.fed.contains(&endpoint);
        let count = group.len() + usize::from(fed);
        if count < 2 {
            continue;
        }
        let help = format!(
            "an `Input` takes one producer: declare `{}` as `Combine<{}>` in `{}` to take many, \
             or route to another terminal",
            end.terminal.name, end.terminal.written, end.guest.type_name
        );
        let other_notes = |this: Option<&Source<'_>>| -> Vec<String> {
            let mut notes: Vec<String> = group
                .iter()
                .filter(|s| this.is_none_or(|t| !std::ptr::eq(**s, t)))
                .map(|s| {
                    let from = s.route.from.as_ref().map_or("?", |f| f.value.as_str());
                    match all.get(s.kernel) {
                        Some(kernel) if s.kernel != 0 => {
                            format!(
                                "route from `{from}` of kernel {} ends there too",
                                kernel.describe()
                            )
                        }
                        _ => format!("route from `{from}` of this kernel ends there too"),
                    }
                })
                .collect();
            if fed {
                notes.push(format!(
                    "kernel {} feeds it from a `[[connections]]` entry",
                    end.kernel.describe()
                ));
            }
            notes
        };
        for source in group.iter().filter(|s| s.kernel == 0) {
            let mut finding = Finding::new(
                Code::InputRoutedTwice,
                target_span(source.route),
                format!("`Input` `{}` would take {count} producers", end.describe()),
            )
            .label("this route is one of them")
            .help(help.clone());
            for note in other_notes(Some(source)) {
                finding = finding.note(note);
            }
            findings.push(finding);
        }
        // Routes of peers into an input this kernel offers.
        if first.target == 0
            && group.len() >= 2
            && let Some(offer) = end.kernel.offers.iter().find(|o| o.value == endpoint)
        {
            let mut finding = Finding::new(
                Code::InputRoutedTwice,
                offer.span.clone(),
                format!(
                    "offered `Input` `{endpoint}` is the target of {} routes",
                    group.len()
                ),
            )
            .label("offered here")
            .help(help.clone());
            for note in other_notes(None) {
                finding = finding.note(note);
            }
            findings.push(finding);
        }
    }
    findings
}
