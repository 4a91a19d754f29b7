//! A connection's socket, shared by its session and the fan-out.
//!
//! The session reads, and writes its own frames (replies, pings, close), through tungstenite,
//! which sees a [`SocketIo`] as its `AsyncRead + AsyncWrite`. The fan-out writes each event's
//! frame, encoded once for all connections, straight into the socket from its dispatch loop
//! ([`Direct::offer`]): no session wake-up, no per-connection framing or copy, one
//! non-blocking `send`. Only when that cannot be done at once does the event go through the
//! session's bounded queue, as every event used to.
//!
//! Two rules keep the byte stream a sequence of whole frames, in order:
//! - **Whole frames.** Bytes the kernel did not take stay in `tail`, and nothing else is
//!   written before the tail is out. Writes from tungstenite are taken whole or not at all
//!   (their unwritten rest becomes the tail), so tungstenite never holds half a frame that a
//!   direct write could follow.
//! - **Events in order.** Once an event has been queued for the session, `queued` stays set and
//!   later events queue behind it, until the session has written the queue empty.
//!
//! A `std::sync::Mutex` guards the socket: each critical section is one non-blocking read or
//! write, never an await.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::registry::{Event, Outgoing};

/// What became of an event offered to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Written into the socket.
    Written,
    /// Put on the session's queue.
    Queued,
    /// The session's queue is full: the client is too slow.
    Full,
    /// The connection is gone.
    Closed,
}

/// The fan-out's side of a connection: `queue` puts an item on the session's queue (it
/// reports a full or closed queue as an error).
pub trait Direct: Send + Sync {
    /// Writes `event` now if nothing is waiting to go out before it, or queues it for the
    /// session (also when the socket took only part of it: then the session flushes the rest).
    fn offer(&self, event: &Event, queue: &mut dyn FnMut(Outgoing) -> Offered) -> Offered;

    /// Called by the session after writing a queued item: if `queue_is_empty()` (checked under
    /// the lock, so no offer can slip in between), events may be written directly again.
    fn settle(&self, queue_is_empty: &dyn Fn() -> bool);

    /// The session is about to send a close frame, after which no event may follow: later
    /// offers report the connection as closed.
    fn stop(&self);
}

struct State<T> {
    io: T,
    /// Accepted bytes the socket has not taken yet; they go out before anything else.
    tail: Bytes,
    /// Events are waiting in the session's queue: a direct write would overtake them.
    queued: bool,
    /// The session is closing the connection.
    stopped: bool,
}

impl<T: AsyncWrite + Unpin> State<T> {
    fn poll_write_tail(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.tail.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.tail))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let _ = self.tail.split_to(n);
        }
        Poll::Ready(Ok(()))
    }
}

/// The shared socket; the session holds it through [`SocketIo`], the registry as [`Direct`].
pub struct SharedSocket<T> {
    state: Mutex<State<T>>,
}

impl<T> SharedSocket<T> {
    pub fn new(io: T) -> Arc<Self> {
        Arc::new(SharedSocket {
            state: Mutex::new(State {
                io,
                tail: Bytes::new(),
                queued: false,
                stopped: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().expect("socket lock poisoned")
    }
}

impl<T: AsyncWrite + Unpin + Send> Direct for SharedSocket<T> {
    fn offer(&self, event: &Event, queue: &mut dyn FnMut(Outgoing) -> Offered) -> Offered {
        let mut s = self.lock();
        if s.stopped {
            return Offered::Closed;
        }
        let next = if s.queued || !s.tail.is_empty() {
            Outgoing::Event(event.text.clone())
        } else {
            // No waker: if the socket is full, the session waits for room with its own.
            let mut cx = Context::from_waker(Waker::noop());
            let frame = &event.frame;
            match Pin::new(&mut s.io).poll_write(&mut cx, frame) {
                Poll::Ready(Ok(n)) if n == frame.len() => return Offered::Written,
                Poll::Ready(Ok(0) | Err(_)) => return Offered::Closed,
                Poll::Ready(Ok(n)) => {
                    // Half a frame is out: the session writes the rest when there is room.
                    s.tail = frame.slice(n..);
                    Outgoing::Flush
                }
                Poll::Pending => Outgoing::Event(event.text.clone()),
            }
        };
        let offered = queue(next);
        if offered == Offered::Queued {
            s.queued = true;
        }
        offered
    }

    fn settle(&self, queue_is_empty: &dyn Fn() -> bool) {
        let mut s = self.lock();
        if s.queued && queue_is_empty() {
            s.queued = false;
        }
    }

    fn stop(&self) {
        self.lock().stopped = true;
    }
}

/// The session's handle, given to tungstenite as its transport.
pub struct SocketIo<T>(pub Arc<SharedSocket<T>>);

impl<T: AsyncRead + Unpin> AsyncRead for SocketIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0.lock().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SocketIo<T> {
    /// Takes all of `buf` or none of it (see the module doc).
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.0.lock();
        ready!(s.poll_write_tail(cx))?;
        match Pin::new(&mut s.io).poll_write(cx, buf) {
            Poll::Ready(Ok(0)) if !buf.is_empty() => {
                Poll::Ready(Err(io::ErrorKind::WriteZero.into()))
            }
            Poll::Ready(Ok(n)) => {
                if n < buf.len() {
                    s.tail = Bytes::copy_from_slice(&buf[n..]);
                }
                Poll::Ready(Ok(buf.len()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // Our waker is registered; the flush that follows every write waits for room.
            Poll::Pending => {
                s.tail = Bytes::copy_from_slice(buf);
                Poll::Ready(Ok(buf.len()))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut s = self.0.lock();
        ready!(s.poll_write_tail(cx))?;
        Pin::new(&mut s.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut s = self.0.lock();
        ready!(s.poll_write_tail(cx))?;
        Pin::new(&mut s.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "socket_tests.rs"]
mod tests;
