//! Pooled payloads: [`Frame`], a buffer of bytes for large messages that
//! moves through pipes as a pointer, is shared without a copy on fan-out,
//! and goes back to its [`FramePool`] when its last holder drops it.
//!
//! Small messages (numbers, short structs) move by value: that is cheapest.
//! A kilobyte copied into and out of every pipe, and once per consumer of a
//! multiplexer, is not; neither is a heap allocation per message (an `Arc`
//! allocated on one thread and freed on another caps a pipeline at a few
//! million messages per second). A frame's buffer is allocated once and
//! reused: taking one is a pop from the pool's free list, dropping the last
//! holder a push. Each size class has a few free lists; a thread takes from
//! one of them, and a buffer goes back to the list it came from, so two
//! producers rarely take from the same list.
//!
//! Buffers come in size classes (powers of two from 64 bytes to 1 MiB); a
//! frame larger than that is allocated and freed as usual. Each class keeps
//! up to about 4 MiB of free buffers; beyond, dropped frames are freed.

use std::alloc::Layout;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crossbeam_queue::ArrayQueue;

/// The smallest size class: 64 bytes.
const MIN_SHIFT: u32 = 6;
/// The largest pooled size class: 1 MiB.
const MAX_SHIFT: u32 = 20;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;
/// Free buffers a class keeps, in bytes, over all its shards (and at
/// least 4, at most 4096 buffers a shard).
const KEEP_BYTES: usize = 4 << 20;

/// Free lists per class. Each thread that takes frames takes them from one
/// shard, and a buffer goes back to the shard it was taken from, so
/// producers on different threads do not take from the same list: two
/// sources taking 1 KiB frames from one list spent 70 % of their time in
/// its compare-and-swap.
const SHARDS: usize = 4;

/// The free lists of one pool.
struct Shared {
    lists: [[OnceLock<ArrayQueue<Held>>; SHARDS]; CLASSES],
    /// Bumped when the last [`FramePool`] handle goes: frames of an earlier
    /// generation free their buffers when dropped instead of keeping them.
    generation: AtomicU64,
}

/// The free lists of pools that are gone, for new pools to take over.
///
/// A pool's lists are never freed: a frame dropped while its pool closes
/// may still be putting its buffer on one of them, and a buffer reaches its
/// lists without counting references to them (an `Arc` on the lists cost
/// every recycled frame two locked instructions; a consumer of two
/// producers ran 40 % slower). So a closed pool's lists wait here, emptied,
/// and the next new pool takes them over: there are never more lists than
/// pools alive at once.
static RETIRED: Mutex<Vec<&'static Shared>> = Mutex::new(Vec::new());

impl Shared {
    fn list(&self, (class, shard): Home) -> &ArrayQueue<Held> {
        self.lists[usize::from(class)][usize::from(shard)].get_or_init(|| {
            let size = 1usize << (u32::from(class) + MIN_SHIFT);
            ArrayQueue::new((KEEP_BYTES / SHARDS / size).clamp(4, 4096))
        })
    }

    fn made(&self) -> impl Iterator<Item = &ArrayQueue<Held>> {
        self.lists.iter().flatten().filter_map(OnceLock::get)
    }
}

/// A free list: size class and shard. Bytes, so that a block's counts and
/// origin share a cache line more often: with `usize`s the consumer that
/// recycles 1 KiB frames ran 5 % slower.
type Home = (u8, u8);

/// The shard this thread takes frames from: threads get them in turn.
#[inline]
fn shard() -> u8 {
    static NEXT: AtomicU8 = AtomicU8::new(0);
    thread_local! {
        static SHARD: std::cell::Cell<u8> = const { std::cell::Cell::new(SHARDS as u8) };
    }
    // A thread being torn down has no thread-locals left: shard 0.
    SHARD
        .try_with(|s| {
            if usize::from(s.get()) == SHARDS {
                s.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS as u8);
            }
            s.get()
        })
        .unwrap_or(0)
}

/// A block held, with where its bytes start: reaching them reads nothing
/// of the block's own cache line (its counts and origin). That line is cold
/// by the time a free buffer is taken again, and loading it held up the
/// filling of every frame: 1 KiB frame chains moved 20 to 30 % more frames
/// a second without it.
struct Held {
    block: Arc<Block>,
    /// `block.bytes`, copied.
    bytes: NonNull<u8>,
}

// SAFETY: `bytes` points into the buffer `block` owns; sending or sharing
// a `Held` sends or shares that `Arc<Block>` and nothing else.
unsafe impl Send for Held {}
// SAFETY: as for `Send`; only a `FrameMut`, a block's only holder, writes.
unsafe impl Sync for Held {}

impl Held {
    /// A new block of `size` zero bytes.
    fn new(origin: Option<Origin>, size: usize) -> Self {
        let layout = Block::layout(size);
        // SAFETY: the layout's size is not zero (the smallest class is 64
        // bytes; larger frames than the largest class are larger still).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let bytes = NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        Held {
            block: Arc::new(Block {
                origin,
                bytes,
                size,
            }),
            bytes,
        }
    }

    /// The first `len` bytes.
    ///
    /// # Safety
    ///
    /// `len` is at most the buffer's size, and nothing writes the buffer
    /// while the slice lives.
    unsafe fn slice(&self, len: usize) -> &[u8] {
        // SAFETY: the buffer lives as long as `self.block`; the caller
        // promised the rest.
        unsafe { std::slice::from_raw_parts(self.bytes.as_ptr(), len) }
    }
}

impl Clone for Held {
    fn clone(&self) -> Self {
        Held {
            block: Arc::clone(&self.block),
            bytes: self.bytes,
        }
    }
}

/// Where a pooled buffer goes back to.
#[derive(Clone, Copy)]
struct Origin {
    pool: &'static Shared,
    list: Home,
    /// The pool's generation when the buffer was made.
    generation: u64,
}

/// One buffer and where it goes back to.
struct Block {
    /// `None` for a buffer too large to pool.
    origin: Option<Origin>,
    /// The buffer, `size` bytes of [`Block::layout`], owned.
    bytes: NonNull<u8>,
    size: usize,
}

// SAFETY: `Block` owns its buffer as a `Box<[u8]>` would; what writes it
// is ruled by `FrameMut`.
unsafe impl Send for Block {}
// SAFETY: as for `Send`.
unsafe impl Sync for Block {}

impl Block {
    /// Buffers start on a cache line and fill whole lines (the size classes
    /// are multiples of 64 bytes): a frame's bytes then share no line with
    /// the allocator's neighbours, such as another block's counts, which
    /// the thread dropping that block reads.
    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 64)
            .unwrap_or_else(|_| panic!("a frame of {size} bytes is larger than memory"))
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout in `Held::new`, freed once,
        // here: no frame holds the block any more.
        unsafe { std::alloc::dealloc(self.bytes.as_ptr(), Block::layout(self.size)) };
    }
}

/// The class of a buffer of at least `len` bytes; `None` when too large.
fn class_of(len: usize) -> Option<u8> {
    let shift = len
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .max(MIN_SHIFT);
    (shift <= MAX_SHIFT).then(|| (shift - MIN_SHIFT) as u8)
}

/// A pool of frame buffers. The kernel owns one
/// ([`Context::frames`](crate::Context::frames)); cheap to clone, shared by
/// every thread.
#[derive(Clone)]
pub struct FramePool {
    owner: Arc<Owner>,
}

/// Closes the free lists when the last pool handle goes: empties them
/// (frames still out free their buffers when dropped) and retires them.
struct Owner(&'static Shared);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        for list in self.0.made() {
            while list.pop().is_some() {}
        }
        RETIRED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.0);
    }
}

impl Default for FramePool {
    fn default() -> Self {
        FramePool::new()
    }
}

impl fmt::Debug for FramePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramePool")
            .field("free", &self.free())
            .finish()
    }
}

impl FramePool {
    /// An empty pool; buffers are allocated as frames are first taken.
    pub fn new() -> Self {
        let retired = RETIRED.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let shared = retired.unwrap_or_else(|| {
            Box::leak(Box::new(Shared {
                lists: std::array::from_fn(|_| std::array::from_fn(|_| OnceLock::new())),
                generation: AtomicU64::new(0),
            }))
        });
        FramePool {
            owner: Arc::new(Owner(shared)),
        }
    }

    /// A frame of `len` zero bytes, to fill in.
    pub fn frame(&self, len: usize) -> FrameMut {
        let mut frame = self.take(len);
        frame.fill(0);
        frame
    }

    /// A frame holding a copy of `bytes`.
    pub fn frame_from(&self, bytes: &[u8]) -> FrameMut {
        let mut frame = self.take(bytes.len());
        frame.copy_from_slice(bytes);
        frame
    }

    /// Free buffers the pool keeps now, over all size classes.
    pub fn free(&self) -> usize {
        self.owner.0.made().map(ArrayQueue::len).sum()
    }

    /// A frame of `len` bytes whose content is whatever its buffer held.
    fn take(&self, len: usize) -> FrameMut {
        let shared = self.owner.0;
        let held = match class_of(len) {
            Some(class) => {
                let home = (class, shard());
                match shared.list(home).pop() {
                    Some(held) => held,
                    None => Held::new(
                        Some(Origin {
                            pool: shared,
                            list: home,
                            // Stable while this handle lives.
                            generation: shared.generation.load(Ordering::Relaxed),
                        }),
                        1 << (u32::from(class) + MIN_SHIFT),
                    ),
                }
            }
            None => Held::new(None, len),
        };
        FrameMut {
            held: Some(held),
            len,
        }
    }
}

/// Gives `held`'s block back to its pool when the caller held the last
/// reference.
fn recycle(held: Held) {
    if Arc::strong_count(&held.block) != 1 {
        return; // another holder drops it later (or frees it, racing us)
    }
    // The last holder before us let go with a release decrement: see its
    // writes before the buffer is handed out again.
    fence(Ordering::Acquire);
    let Some(origin) = held.block.origin else {
        return; // not pooled: freed here
    };
    if origin.pool.generation.load(Ordering::Acquire) != origin.generation {
        return; // its pool closed since: freed here
    }
    // Moved in, never cloned: whoever pops it next is its only holder.
    // Full: the block is freed here.
    let _ = origin.pool.list(origin.list).push(held);
}

/// A frame being filled: unique, writable. [`freeze`](Self::freeze) it to
/// send it.
pub struct FrameMut {
    /// Always `Some` until dropped or frozen.
    held: Option<Held>,
    len: usize,
}

impl FrameMut {
    /// The frame, ready to be sent and shared.
    pub fn freeze(mut self) -> Frame {
        Frame {
            held: self.held.take(),
            len: self.len,
        }
    }

    /// Shortens the frame to `len` bytes (no effect when it is shorter).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl Deref for FrameMut {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.held {
            // SAFETY: `len` is at most the buffer's size (`take`,
            // `truncate`), and only `deref_mut`, which needs `&mut self`,
            // writes.
            Some(held) => unsafe { held.slice(self.len) },
            None => &[],
        }
    }
}

impl DerefMut for FrameMut {
    fn deref_mut(&mut self) -> &mut [u8] {
        let Some(held) = &self.held else {
            return &mut [];
        };
        // SAFETY: a `FrameMut` is the only holder of its block: it made the
        // block, popped it from a free list (blocks are moved in, never
        // cloned), or took it from a `Frame` whose strong count was 1, and
        // no `Weak` is ever made. So nothing else reads or writes the
        // buffer while `&mut self` lives; `len` is at most its size, and
        // the pointer came from `Box::into_raw`, allowed to write.
        // (`Arc::get_mut` would say the same with a compare-and-swap on
        // the block's counts, a line the consumer that freed the block last
        // touched: a fifth of a frame source's time.)
        unsafe { std::slice::from_raw_parts_mut(held.bytes.as_ptr(), self.len) }
    }
}

impl fmt::Debug for FrameMut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameMut").field("len", &self.len).finish()
    }
}

impl Drop for FrameMut {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            recycle(held);
        }
    }
}

/// A payload of bytes from a [`FramePool`], for large messages: sending it
/// moves a pointer, cloning it (a [`Multiplex`](crate::Multiplex) does, once
/// per consumer) shares the bytes, and when the last clone is dropped its
/// buffer goes back to the pool, with no allocation per message.
///
/// Take a frame from the kernel's pool with
/// [`ctx.frames()`](crate::Context::frames), fill it, freeze it, send it:
///
/// ```
/// # extern crate kernel_core as kernel; // server crates use the `kernel` facade
/// use kernel::prelude::*;
///
/// #[derive(Manifest)]
/// #[manifest(class = 0x0c01, owner = "ops")]
/// pub struct Camera {
///     pub images: Multiplex<Frame>,
/// }
///
/// impl Server for Camera {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Camera { images: Multiplex::default() }
///     }
///     fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
///         for seq in 0..100u64 {
///             let mut image = ctx.frames().frame(1024); // 1 KiB of zeros
///             image[..8].copy_from_slice(&seq.to_le_bytes());
///             // Every consumer gets the same bytes, not a copy.
///             self.images.send(image.freeze())?;
///         }
///         Ok(())
///     }
/// }
///
/// // A consumer reads the bytes through `Deref<Target = [u8]>`; dropping
/// // the frame returns the buffer once every consumer has.
/// fn checksum(frame: &Frame) -> u64 {
///     frame.iter().map(|&b| u64::from(b)).sum()
/// }
/// # let pool = FramePool::new();
/// # let frame = pool.frame_from(&[1, 2, 3]).freeze();
/// # assert_eq!(checksum(&frame), 6);
/// ```
pub struct Frame {
    /// Always `Some` until dropped.
    held: Option<Held>,
    len: usize,
}

impl Frame {
    /// The bytes, writable in place if this is the only holder; the frame
    /// back otherwise.
    pub fn try_into_mut(mut self) -> Result<FrameMut, Frame> {
        match &self.held {
            Some(held) if Arc::strong_count(&held.block) == 1 => {
                fence(Ordering::Acquire);
                Ok(FrameMut {
                    held: self.held.take(),
                    len: self.len,
                })
            }
            _ => Err(self),
        }
    }
}

impl Clone for Frame {
    /// Shares the bytes: no copy.
    fn clone(&self) -> Self {
        Frame {
            held: self.held.clone(),
            len: self.len,
        }
    }
}

impl Deref for Frame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.held {
            // SAFETY: `len` is at most the buffer's size, and a shared
            // block is never written (`try_into_mut` needs the only hold).
            Some(held) => unsafe { held.slice(self.len) },
            None => &[],
        }
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        **self == **other
    }
}

impl Eq for Frame {}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame").field("len", &self.len).finish()
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            recycle(held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_zeroed_or_copied_and_shared_without_a_copy() {
        let pool = FramePool::new();
        let mut f = pool.frame(1000);
        assert!(f.iter().all(|&b| b == 0));
        f[0] = 7;
        let frozen = f.freeze();
        let copy = frozen.clone();
        assert_eq!(frozen.as_ptr(), copy.as_ptr());
        assert_eq!((frozen.len(), copy[0]), (1000, 7));
        assert_eq!(
            pool.frame_from(b"abc").freeze(),
            pool.frame_from(b"abc").freeze()
        );
    }

    #[test]
    fn the_last_holder_returns_the_buffer_and_it_is_reused() {
        let pool = FramePool::new();
        let a = pool.frame(1024).freeze();
        let ptr = a.as_ptr();
        let b = a.clone();
        drop(a);
        assert_eq!(pool.free(), 0, "a clone still holds it");
        // Dropped on another thread, as a consumer does.
        std::thread::spawn(move || drop(b)).join().unwrap();
        assert_eq!(pool.free(), 1);
        let mut again = pool.frame(600); // same size class (1 KiB)
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.iter().all(|&x| x == 0), "a reused buffer is zeroed");
        again[0] = 1;
        assert_eq!(pool.free(), 0);
    }

    #[test]
    fn a_buffer_goes_back_to_the_free_list_of_the_thread_that_took_it() {
        let pool = FramePool::new();
        let taken_here = pool.frame(1024).freeze();
        let ptr = taken_here.as_ptr();
        let (there, taken_there) = std::thread::scope(|s| {
            s.spawn(|| (shard(), pool.frame(1024).freeze()))
                .join()
                .unwrap()
        });
        drop(taken_here);
        drop(taken_there);
        assert_eq!(pool.free(), 2);
        let home = (class_of(1024).unwrap(), shard());
        assert_eq!(
            pool.owner.0.list(home).len(),
            1 + usize::from(there == home.1)
        );
        // This thread takes its own buffer back (first, if both threads
        // share a shard).
        assert_eq!(pool.frame(1024).as_ptr(), ptr);
    }

    #[test]
    fn a_frame_taken_before_its_pool_closed_is_freed_even_when_its_lists_serve_again() {
        let pool = FramePool::new();
        let before = pool.frame(1024).freeze();
        // What closing does to the lists a new pool then takes over (the
        // pool closing here would hand them to any test's new pool).
        pool.owner.0.generation.fetch_add(1, Ordering::AcqRel);
        drop(before);
        assert_eq!(pool.free(), 0, "kept a buffer of a closed pool");
        drop(pool.frame(1024).freeze());
        assert_eq!(pool.free(), 1, "a buffer of the lists' new pool is kept");
    }

    #[test]
    fn a_sole_holder_may_write_in_place() {
        let pool = FramePool::new();
        let a = pool.frame_from(&[1, 2, 3]).freeze();
        let b = a.clone();
        let a = a.try_into_mut().unwrap_err();
        drop(b);
        let mut a = a.try_into_mut().unwrap();
        a[0] = 9;
        a.truncate(2);
        assert_eq!(&*a.freeze(), &[9, 2]);
    }

    #[test]
    fn large_frames_are_not_pooled_and_a_closed_pool_keeps_nothing() {
        let pool = FramePool::new();
        drop(pool.frame(2 << 20));
        assert_eq!(pool.free(), 0);
        let kept = pool.frame(64).freeze();
        drop(pool);
        drop(kept); // the pool is gone: freed, not kept
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(65), Some(1));
        assert_eq!(class_of(1 << 20).map(usize::from), Some(CLASSES - 1));
        assert_eq!(class_of((1 << 20) + 1), None);
    }
}
