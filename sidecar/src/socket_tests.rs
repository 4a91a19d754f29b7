//! The shared socket over an in-memory pipe (`tokio::io::duplex`) whose small buffer stands
//! for a full kernel send buffer.

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

/// A queue that records what it was given.
#[derive(Default)]
struct Queue(Vec<Outgoing>);

impl Queue {
    fn push(&mut self) -> impl FnMut(Outgoing) -> Offered + '_ {
        |item| {
            self.0.push(item);
            Offered::Queued
        }
    }
}

fn event(text: &str) -> Event {
    Event::new(text.to_owned())
}

/// Reads exactly `n` bytes from the client's end.
async fn read(client: &mut DuplexStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    client.read_exact(&mut buf).await.unwrap();
    buf
}

#[tokio::test]
async fn an_idle_socket_gets_the_frame_directly() {
    let (server, mut client) = tokio::io::duplex(1024);
    let socket = SharedSocket::new(server);
    let mut queue = Queue::default();

    let e = event("hello");
    assert_eq!(socket.offer(&e, &mut queue.push()), Offered::Written);

    assert!(queue.0.is_empty(), "nothing went through the session");
    assert_eq!(read(&mut client, e.frame.len()).await, e.frame);
}

#[tokio::test]
async fn a_partly_written_frame_is_finished_by_the_session_before_anything_else() {
    let (server, mut client) = tokio::io::duplex(4);
    let socket = SharedSocket::new(server);
    let mut queue = Queue::default();
    let first = event("first event");
    let second = event("second");

    assert_eq!(socket.offer(&first, &mut queue.push()), Offered::Queued);
    assert_eq!(socket.offer(&second, &mut queue.push()), Offered::Queued);
    assert!(
        matches!(queue.0[0], Outgoing::Flush),
        "the rest is the session's to write"
    );
    assert!(
        matches!(&queue.0[1], Outgoing::Event(t) if t.as_str() == "second"),
        "later events queue behind it"
    );

    // The session's flush finishes the first frame; the client reads it whole.
    let mut io = SocketIo(socket.clone());
    let reader = tokio::spawn(async move {
        let frame = read(&mut client, first.frame.len()).await;
        (frame == first.frame, client)
    });
    io.flush().await.unwrap();
    let (whole, _client) = reader.await.unwrap();
    assert!(whole);
}

#[tokio::test]
async fn the_session_writes_whole_frames_and_direct_writes_wait_for_them() {
    let (server, mut client) = tokio::io::duplex(4);
    let socket = SharedSocket::new(server);
    let mut io = SocketIo(socket.clone());
    let mut queue = Queue::default();

    // The pipe takes 4 of these 10 bytes; the write still counts as whole.
    let n = std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, b"0123456789"))
        .await
        .unwrap();
    assert_eq!(n, 10);
    // An event offered now must not land in the middle: it is queued.
    assert_eq!(
        socket.offer(&event("e"), &mut queue.push()),
        Offered::Queued
    );
    assert!(matches!(&queue.0[..], [Outgoing::Event(_)]));

    let reader = tokio::spawn(async move { (read(&mut client, 10).await, client) });
    io.flush().await.unwrap();
    assert_eq!(reader.await.unwrap().0, b"0123456789");
}

#[tokio::test]
async fn direct_writes_resume_once_the_queue_is_empty() {
    let (server, mut client) = tokio::io::duplex(64);
    let socket = SharedSocket::new(server);
    let mut queue = Queue::default();
    let big = event(&"x".repeat(100));

    assert_eq!(socket.offer(&big, &mut queue.push()), Offered::Queued);
    assert_eq!(queue.0.len(), 1);
    read(&mut client, 64).await;
    SocketIo(socket.clone()).flush().await.unwrap();
    read(&mut client, big.frame.len() - 64).await;

    socket.settle(&|| false);
    let e = event("after");
    socket.offer(&e, &mut queue.push());
    assert_eq!(
        queue.0.len(),
        2,
        "still queued while the queue is not empty"
    );

    socket.settle(&|| true);
    assert_eq!(socket.offer(&e, &mut queue.push()), Offered::Written);
    assert_eq!(queue.0.len(), 2, "written directly again");
    assert_eq!(read(&mut client, e.frame.len()).await, e.frame);
}

#[tokio::test]
async fn a_full_queue_or_a_closed_socket_is_reported() {
    let (server, client) = tokio::io::duplex(4);
    let socket = SharedSocket::new(server);
    let e = event("an event longer than four bytes");
    // Partly written, and the session's queue is full.
    assert_eq!(socket.offer(&e, &mut |_| Offered::Full), Offered::Full);

    let (server, client2) = tokio::io::duplex(64);
    let socket = SharedSocket::new(server);
    drop(client2);
    assert_eq!(socket.offer(&e, &mut |_| Offered::Queued), Offered::Closed);
    drop(client);
}

#[tokio::test]
async fn nothing_is_written_after_the_session_stops_events() {
    let (server, _client) = tokio::io::duplex(1024);
    let socket = SharedSocket::new(server);
    socket.stop();
    let mut queue = Queue::default();
    assert_eq!(
        socket.offer(&event("late"), &mut queue.push()),
        Offered::Closed
    );
    assert!(queue.0.is_empty());
}
