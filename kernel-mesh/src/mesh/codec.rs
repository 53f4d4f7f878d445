//! How a route's messages become bytes and back, and the type-erased ends
//! the mesh moves them between.
//!
//! The message type is known only where the kernel is wired (the generated
//! code, or a hand-written builder): [`RouteCodecs::route`] and
//! [`RouteCodecs::offer`] are generic over it and keep what the mesh needs
//! (encode from the route's local pipe, decode into a local terminal)
//! behind the object-safe [`Source`] and [`Sink`]. A type without serde
//! support does not compile there.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use kernel_core::connectome::RouteSpec;
use kernel_core::pipe::PipeStats;
use kernel_core::route::{Drain, Drained, Feed, FeedError};
use kernel_core::terminal::{Consumer, Producer};
use kernel_core::{Control, ControlError, Endpoint, Error, KernelBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wiring_model::Encoding;

/// A message type that can travel over a route: serde both ways.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel over a route to another kernel",
    note = "routes encode their messages (postcard or JSON): derive `serde::Serialize` and `serde::Deserialize` for `{Self}`"
)]
pub trait RouteMessage: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> RouteMessage for T {}

/// A message that could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// serde could not write the message (a map with non-string keys in
    /// JSON, say).
    #[error("cannot encode a `{type_name}` as {encoding}: {reason}")]
    Encode {
        /// The message type.
        type_name: &'static str,
        /// `postcard` or `json`.
        encoding: &'static str,
        /// The serializer's message.
        reason: String,
    },
    /// The bytes are not a message of this type in this encoding: the two
    /// kernels disagree on the message type or the route's `encoding`.
    #[error("cannot decode a `{type_name}` from {encoding}: {reason}")]
    Decode {
        /// The message type.
        type_name: &'static str,
        /// `postcard` or `json`.
        encoding: &'static str,
        /// The deserializer's message.
        reason: String,
    },
}

/// `msg` as bytes in `encoding`.
pub fn encode<T: Serialize>(encoding: Encoding, msg: &T) -> Result<Vec<u8>, CodecError> {
    let result = match encoding {
        Encoding::Postcard => postcard::to_stdvec(msg).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::to_vec(msg).map_err(|e| e.to_string()),
    };
    result.map_err(|reason| CodecError::Encode {
        type_name: std::any::type_name::<T>(),
        encoding: encoding.as_str(),
        reason,
    })
}

/// A message of type `T` from `bytes` in `encoding`.
pub fn decode<T: DeserializeOwned>(encoding: Encoding, bytes: &[u8]) -> Result<T, CodecError> {
    let result = match encoding {
        Encoding::Postcard => postcard::from_bytes(bytes).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
    };
    result.map_err(|reason| CodecError::Decode {
        type_name: std::any::type_name::<T>(),
        encoding: encoding.as_str(),
        reason,
    })
}

/// What both ends of a route compare when it opens: the Rust type name of
/// the message and the encoding, hashed (32 hex digits).
pub fn fingerprint(type_name: &str, encoding: Encoding) -> String {
    let digest = Sha256::digest(format!("{type_name}\n{}", encoding.as_str()).as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`Source::next`] got.
pub enum Next {
    /// An encoded message.
    Message(Vec<u8>),
    /// Nothing arrived within the wait.
    Empty,
    /// The route's output finished for good and everything was taken.
    Closed,
    /// The message could not be encoded; it is lost.
    Unencodable(CodecError),
}

/// The outbound end of a route, type-erased: encoded messages out of the
/// route's local pipe.
pub trait Source: Send {
    /// The next message, waiting at most `timeout`.
    fn next(&mut self, timeout: Duration) -> Next;
    /// Messages still in the local pipe.
    fn queued(&self) -> u64;
    /// The Rust type of the messages.
    fn type_name(&self) -> &'static str;
}

struct TypedSource<T> {
    drain: Drain<T>,
    encoding: Encoding,
}

impl<T: RouteMessage> Source for TypedSource<T> {
    fn next(&mut self, timeout: Duration) -> Next {
        match self.drain.recv_timeout(timeout) {
            Drained::Message(msg) => match encode(self.encoding, &msg) {
                Ok(bytes) => Next::Message(bytes),
                Err(e) => Next::Unencodable(e),
            },
            Drained::Empty => Next::Empty,
            Drained::Closed => Next::Closed,
        }
    }

    fn queued(&self) -> u64 {
        self.drain.queued()
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// What [`InFeed::deliver`] did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// The terminal's pipe took it.
    Ok,
    /// No room: the sender went beyond its credit; it sends again.
    Full,
    /// The terminal's server is gone for good.
    Gone,
    /// The bytes are not a message of the terminal's type.
    Undecodable(CodecError),
}

/// An inbound route's pipe into a local terminal, type-erased.
pub trait InFeed: Send {
    /// Decodes `bytes` and puts the message into the pipe; never waits.
    fn deliver(&self, bytes: &[u8]) -> Delivered;
    /// Room left in the pipe.
    fn free(&self) -> usize;
    /// The pipe's counters (they outlive the feed).
    fn stats(&self) -> Arc<PipeStats>;
    /// Ends the stream (the terminal sees end of stream once drained);
    /// dropping the feed instead leaves the terminal waiting.
    fn finish(self: Box<Self>);
}

struct TypedFeed<T> {
    feed: Feed<T>,
    encoding: Encoding,
}

impl<T: RouteMessage> InFeed for TypedFeed<T> {
    fn deliver(&self, bytes: &[u8]) -> Delivered {
        let msg = match decode::<T>(self.encoding, bytes) {
            Ok(msg) => msg,
            Err(e) => return Delivered::Undecodable(e),
        };
        match self.feed.try_send(msg) {
            Ok(()) => Delivered::Ok,
            Err(FeedError::Full(_)) => Delivered::Full,
            Err(FeedError::Gone(_)) => Delivered::Gone,
        }
    }

    fn free(&self) -> usize {
        self.feed.free()
    }

    fn stats(&self) -> Arc<PipeStats> {
        self.feed.stats()
    }

    fn finish(self: Box<Self>) {
        self.feed.finish();
    }
}

/// An offered terminal, type-erased: opens feeds of its message type.
pub trait Sink: Send + Sync {
    /// The Rust type the terminal takes.
    fn type_name(&self) -> &'static str;
    /// Opens a pipe into terminal `to` for route `route` from `from`.
    fn open(
        &self,
        control: &Control,
        route: Uuid,
        from: Endpoint,
        to: &str,
        capacity: usize,
        encoding: Encoding,
    ) -> Result<Box<dyn InFeed>, ControlError>;
}

struct TypedSink<T>(PhantomData<fn() -> T>);

impl<T: RouteMessage> Sink for TypedSink<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn open(
        &self,
        control: &Control,
        route: Uuid,
        from: Endpoint,
        to: &str,
        capacity: usize,
        encoding: Encoding,
    ) -> Result<Box<dyn InFeed>, ControlError> {
        let feed = control.feed::<T>(route, from, to, capacity)?;
        Ok(Box::new(TypedFeed { feed, encoding }))
    }
}

/// The typed ends of a kernel's routes, collected while it is wired and
/// handed to the mesh when it is built.
#[derive(Default)]
pub struct RouteCodecs {
    pub(crate) sources: Vec<(&'static RouteSpec, Box<dyn Source>)>,
    /// Offered terminals (`server.terminal`) and their sinks.
    pub(crate) sinks: BTreeMap<String, Arc<dyn Sink>>,
}

impl std::fmt::Debug for RouteCodecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteCodecs")
            .field(
                "routes",
                &self.sources.iter().map(|(r, _)| r.id).collect::<Vec<_>>(),
            )
            .field("offers", &self.sinks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RouteCodecs {
    /// Gives the routes of the wiring from output `from` (`server.terminal`)
    /// their local pipes on `builder`, and keeps their encoders.
    pub fn route<P: Producer>(
        &mut self,
        builder: &mut KernelBuilder,
        from: &str,
    ) -> Result<(), Error>
    where
        P::Message: RouteMessage,
    {
        for (route, drain) in builder.route::<P>(from)? {
            self.sources.push((
                route,
                Box::new(TypedSource {
                    drain,
                    encoding: route.encoding,
                }),
            ));
        }
        Ok(())
    }

    /// Makes input terminal `to` (`server.terminal`) take routes from other
    /// kernels: it waits for them instead of ending at once, and the mesh
    /// decodes their messages into it.
    pub fn offer<C: Consumer>(&mut self, builder: &mut KernelBuilder, to: &str) -> Result<(), Error>
    where
        C::Message: RouteMessage,
    {
        builder.await_producers::<C>(to)?;
        self.sinks.insert(
            to.to_owned(),
            Arc::new(TypedSink::<C::Message>(PhantomData)),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Reading {
        seq: u64,
        text: String,
    }

    #[test]
    fn both_encodings_round_trip() {
        let r = Reading {
            seq: 7,
            text: "ok".into(),
        };
        for encoding in [Encoding::Postcard, Encoding::Json] {
            let bytes = encode(encoding, &r).unwrap();
            assert_eq!(decode::<Reading>(encoding, &bytes).unwrap(), r);
        }
        assert_eq!(
            encode(Encoding::Json, &r).unwrap(),
            br#"{"seq":7,"text":"ok"}"#
        );
    }

    #[test]
    fn bad_bytes_are_an_error_naming_the_type() {
        let err = decode::<Reading>(Encoding::Json, b"[1,").unwrap_err();
        assert!(err.to_string().contains("Reading"), "{err}");
        assert!(decode::<Reading>(Encoding::Postcard, &[0xff; 3]).is_err());
    }

    #[test]
    fn fingerprints_differ_by_type_and_encoding() {
        let a = fingerprint("u64", Encoding::Postcard);
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint("u64", Encoding::Postcard));
        assert_ne!(a, fingerprint("u32", Encoding::Postcard));
        assert_ne!(a, fingerprint("u64", Encoding::Json));
    }
}
