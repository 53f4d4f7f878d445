//! Guest identities and masks: parsing is total (an error, never a panic),
//! and what parses round-trips through its canonical text; an identity's
//! exact mask matches it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wiring_model::{GuestIdentity, GuestMask};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(identity) = GuestIdentity::parse(text) {
        let canonical = identity.to_string();
        assert_eq!(GuestIdentity::parse(&canonical).as_ref(), Ok(&identity));
        assert!(GuestMask::exact(&identity).matches(&identity));
    }
    if let Ok(mask) = GuestMask::parse(text) {
        let canonical = mask.to_string();
        assert_eq!(GuestMask::parse(&canonical).as_ref(), Ok(&mask));
    }
});
