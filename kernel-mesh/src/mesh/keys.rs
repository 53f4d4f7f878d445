//! The Zenoh key expressions of the mesh, written in one place.
//!
//! | key | what |
//! |---|---|
//! | `wiring/kernel/<kernel>/<zid>` | liveliness: a kernel's mesh session is up |
//! | `wiring/hostess/<kernel>/guests/<uuid>` | liveliness: a guest of that kernel |
//! | `wiring/hostess/<kernel>/menu` | queryable: the Hostess's menu (JSON) |
//! | `wiring/hostess/<kernel>/guests` | queryable: guests, `?mask=` (JSON) |
//! | `wiring/hostess/<kernel>/call` | queryable: phone calls (open, renew, close a route) |
//! | `wiring/route/<uuid>/<terminal>/<route>` | a route's messages, to guest `<uuid>`'s terminal |
//! | `wiring/credit/<uuid>/<terminal>/<route>` | the receiver's acknowledgements and credits |

use uuid::Uuid;

/// Liveliness of a kernel's mesh session.
pub fn kernel(kernel: &str, zid: &str) -> String {
    format!("wiring/kernel/{kernel}/{zid}")
}

/// Every kernel session's liveliness.
pub const ALL_KERNELS: &str = "wiring/kernel/*/*";

/// The kernel name and session id in a key of [`kernel`].
pub fn parse_kernel(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("wiring/kernel/")?;
    let (kernel, zid) = rest.split_once('/')?;
    (!zid.contains('/')).then_some((kernel, zid))
}

/// Liveliness of one guest.
pub fn guest(kernel: &str, uuid: Uuid) -> String {
    format!("wiring/hostess/{kernel}/guests/{}", uuid.hyphenated())
}

/// The liveliness of guest `uuid`, whichever kernel hosts it.
pub fn guest_anywhere(uuid: Uuid) -> String {
    format!("wiring/hostess/*/guests/{}", uuid.hyphenated())
}

/// The kernel in a key of [`guest`] or of a Hostess queryable.
pub fn parse_hostess_kernel(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("wiring/hostess/")?;
    rest.split('/').next().filter(|k| !k.is_empty())
}

/// The menu queryable of `kernel`'s Hostess.
pub fn menu(kernel: &str) -> String {
    format!("wiring/hostess/{kernel}/menu")
}

/// The guests queryable of `kernel`'s Hostess (`?mask=` filters).
pub fn guests(kernel: &str) -> String {
    format!("wiring/hostess/{kernel}/guests")
}

/// The guests queryables of every kernel.
pub const ALL_GUESTS: &str = "wiring/hostess/*/guests";

/// The queryable that takes calls (open a route, ...) for `kernel`.
pub fn call(kernel: &str) -> String {
    format!("wiring/hostess/{kernel}/call")
}

/// Where the sender of `route` publishes its messages for `terminal` of
/// `guest`.
pub fn data(guest: Uuid, terminal: &str, route: Uuid) -> String {
    format!(
        "wiring/route/{}/{terminal}/{}",
        guest.hyphenated(),
        route.hyphenated()
    )
}

/// Where the receiver of `route` into `terminal` of `guest` publishes its
/// credits and acknowledgements.
pub fn credit(guest: Uuid, terminal: &str, route: Uuid) -> String {
    format!(
        "wiring/credit/{}/{terminal}/{}",
        guest.hyphenated(),
        route.hyphenated()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back() {
        assert_eq!(
            parse_kernel(&kernel("south", "a1b2")),
            Some(("south", "a1b2"))
        );
        assert_eq!(parse_kernel("wiring/kernel/south"), None);
        let uuid = Uuid::from_u128(7);
        assert_eq!(parse_hostess_kernel(&guest("south", uuid)), Some("south"));
        assert_eq!(parse_hostess_kernel(&guests("north")), Some("north"));
        assert_eq!(parse_hostess_kernel("wiring/route/x"), None);
        assert_eq!(
            data(uuid, "lines", Uuid::from_u128(1)),
            "wiring/route/00000000-0000-0000-0000-000000000007/lines/00000000-0000-0000-0000-000000000001"
        );
    }
}
