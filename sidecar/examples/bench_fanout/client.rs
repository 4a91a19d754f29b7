//! The benchmark's clients, kept lean so they leave the CPU to the sidecar: plain sockets that
//! do the WebSocket upgrade themselves (blocking, a few threads), then a single thread that
//! waits on all of them with epoll (mio) and only reads bytes, timestamps each read and checks
//! each event frame byte for byte against the expected one. tokio-tungstenite clients cost as
//! much CPU per fan-out as the sidecar itself, on the same two cores.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mio::{Events, Interest, Poll, Token};
use tokio::sync::mpsc::UnboundedSender;

use crate::now_ns;

const OP_TEXT: u8 = 0x1;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;
/// Wake-ups with fewer ready connections are followed by a short pause.
const PAUSE_BELOW: usize = 64;

/// One connection after the handshake: its socket and any bytes read past the last frame.
pub struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

/// One event frame as a client saw it.
pub struct Delivery {
    /// Index of the connection (in the order they were opened).
    pub conn: usize,
    /// Wall clock (ns) right after the read that completed the frame.
    pub received_ns: u128,
    /// The frame's text was exactly the expected event.
    pub content_ok: bool,
}

/// The event text every client must receive in the current round, set before each PUBLISH.
pub type Expected = Arc<Mutex<Arc<[u8]>>>;

/// A complete server frame at the start of `buf`: (opcode, payload range, frame length).
/// Server frames are never masked; the sidecar never fragments a message.
fn parse_frame(buf: &[u8]) -> Option<(u8, std::ops::Range<usize>, usize)> {
    if buf.len() < 2 {
        return None;
    }
    assert!(buf[0] & 0x80 != 0, "fragmented frame");
    assert!(buf[1] & 0x80 == 0, "masked server frame");
    let (len, start) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => (
            u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize,
            10,
        ),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    (buf.len() >= start + len).then_some((buf[0] & 0x0f, start..start + len, start + len))
}

/// A masked client frame (clients must mask; the key need not be secret here).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Reads (blocking) until one text frame is complete and returns its payload.
fn read_text(stream: &mut TcpStream, pending: &mut Vec<u8>) -> io::Result<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((op, payload, len)) = parse_frame(pending) {
            let text = String::from_utf8_lossy(&pending[payload]).into_owned();
            pending.drain(..len);
            match op {
                OP_TEXT => return Ok(text),
                OP_PING | OP_PONG => continue,
                _ => return Err(io::Error::other(format!("unexpected opcode {op}"))),
            }
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// Opens one connection (blocking): upgrade with `?token=`, wait for `authenticated`,
/// subscribe to `channel`, wait for `subscribed`.
pub fn open(addr: SocketAddr, token: &str, channel: &str) -> io::Result<Conn> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET /ws?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let mut pending = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        pending.extend_from_slice(&chunk[..n]);
    };
    if !pending.starts_with(b"HTTP/1.1 101") {
        let head = String::from_utf8_lossy(&pending[..head_end]).into_owned();
        return Err(io::Error::other(format!("upgrade refused: {head}")));
    }
    pending.drain(..head_end);
    let hello = read_text(&mut stream, &mut pending)?;
    if !hello.contains(r#""type":"authenticated""#) {
        return Err(io::Error::other(hello));
    }
    let subscribe = format!(r#"{{"type":"subscribe","channel":"{channel}"}}"#);
    stream.write_all(&client_frame(OP_TEXT, subscribe.as_bytes()))?;
    let ack = read_text(&mut stream, &mut pending)?;
    if !ack.contains(r#""type":"subscribed""#) {
        return Err(io::Error::other(ack));
    }
    stream.set_read_timeout(None)?;
    Ok(Conn { stream, pending })
}

/// Runs on its own thread until `stop`: waits on every connection, reads what arrives and
/// reports the event frames, one batch per wake-up. Pings are answered; anything else ends
/// the benchmark.
pub fn receive(
    conns: Vec<Conn>,
    expected: Expected,
    out: UnboundedSender<Vec<Delivery>>,
    stop: Arc<AtomicBool>,
) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut streams = Vec::with_capacity(conns.len());
    let mut pendings = Vec::with_capacity(conns.len());
    for (i, conn) in conns.into_iter().enumerate() {
        conn.stream.set_nonblocking(true)?;
        let mut stream = mio::net::TcpStream::from_std(conn.stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)?;
        streams.push(stream);
        pendings.push(conn.pending);
    }
    let mut events = Events::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        let want = expected.lock().unwrap().clone();
        let mut batch = Vec::new();
        for event in &events {
            let i = event.token().0;
            let (stream, pending) = (&mut streams[i], &mut pendings[i]);
            // Edge-triggered: read until the socket is empty.
            loop {
                let n = match stream.read(&mut chunk) {
                    Ok(0) => return Err(io::Error::other(format!("connection {i} closed"))),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                };
                let received_ns = now_ns();
                pending.extend_from_slice(&chunk[..n]);
                while let Some((op, payload, len)) = parse_frame(pending) {
                    match op {
                        OP_TEXT => {
                            let content_ok = pending[payload] == *want;
                            let delivery = Delivery {
                                conn: i,
                                received_ns,
                                content_ok,
                            };
                            batch.push(delivery);
                        }
                        OP_PING => {
                            let pong = client_frame(OP_PONG, &pending[payload]);
                            stream.write_all(&pong)?;
                        }
                        OP_PONG => {}
                        OP_CLOSE => {
                            return Err(io::Error::other(format!("connection {i} got a close")))
                        }
                        op => return Err(io::Error::other(format!("opcode {op}"))),
                    }
                    pending.drain(..len);
                }
            }
        }
        // A few frames per wake-up means waking up (and being woken by the sidecar's sends)
        // for almost every frame, which on shared cores costs both processes more than the
        // reads. A short pause lets frames gather; any delay it adds is measured, as the
        // timestamps are taken when a frame is read.
        if events.iter().count() < PAUSE_BELOW {
            std::thread::sleep(Duration::from_micros(200));
        }
        if !batch.is_empty() && out.send(batch).is_err() {
            return Ok(());
        }
    }
    Ok(())
}
