//! Whether the system has room for a kernel's threads, checked before the
//! kernel starts any.
//!
//! On Linux each thread takes memory maps: its stack and the signal stack
//! std gives it, each with a guard page. When a process runs out of maps
//! (`vm.max_map_count`, 65,530 by default: about 16,000 threads), the
//! thread that cannot map its signal stack aborts the whole process, and
//! std cannot report it; a kernel of 100,000 servers with 20,000 threads
//! did so halfway through its start. So the kernel refuses to start instead,
//! saying what to raise.

use crate::Error;

/// Memory maps one thread takes.
const MAPS_PER_THREAD: usize = 4;

/// `Err` when `threads` more threads would not find the memory maps they
/// need.
pub(crate) fn check_room(kernel: &str, threads: usize) -> Result<(), Error> {
    match limits() {
        Some((max_map_count, in_use)) => check(kernel, threads, max_map_count, in_use),
        None => Ok(()),
    }
}

fn check(kernel: &str, threads: usize, max_map_count: usize, in_use: usize) -> Result<(), Error> {
    let room = max_map_count.saturating_sub(in_use) / MAPS_PER_THREAD;
    if threads <= room {
        return Ok(());
    }
    Err(Error::ThreadRoom {
        kernel: kernel.to_owned(),
        threads,
        room,
        max_map_count,
    })
}

/// `vm.max_map_count` and the maps this process has now; `None` where the
/// system does not say (not Linux, no `/proc`).
fn limits() -> Option<(usize, usize)> {
    let max = std::fs::read_to_string("/proc/sys/vm/max_map_count").ok()?;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    Some((max.trim().parse().ok()?, maps.lines().count()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_needing_more_maps_than_left_is_refused_with_the_limit_to_raise() {
        assert!(check("plant", 16_000, 65_530, 300).is_ok());
        let Err(e) = check("plant", 20_001, 65_530, 300) else {
            panic!("20,001 threads fit in 65,230 maps?");
        };
        let message = e.to_string();
        for needle in [
            "`plant`",
            "20001 threads",
            "about 16307",
            "vm.max_map_count",
            "65530",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }

    #[test]
    fn this_system_is_asked() {
        if limits().is_none() {
            return; // not Linux: nothing to ask
        }
        assert!(check_room("small", 10).is_ok());
        assert!(check_room("huge", usize::MAX / 8).is_err());
    }
}
