//! A TCP proxy a test puts between the app and MySQL or Redis, to make the dependency
//! misbehave on cue without touching the real server (other sessions use it):
//!
//! - [`Mode::Forward`]: bytes pass both ways;
//! - [`Mode::Freeze`]: connections stay open and new ones are accepted, but no byte
//!   passes either way (a stopped VM, a partition): what a deadline must catch;
//! - [`Mode::Refuse`]: the port is closed and every connection dropped (the server is
//!   down);
//! - [`TcpProxy::hold_next`]: the next client-to-server chunk that matches a predicate
//!   is held back until released, so a test can stop one request at one command (a
//!   rebuild at its `RENAME`, a result at its board write) and run another meanwhile.
//!   Waiting for the hold is a signal, never a sleep.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Freeze,
    Refuse,
}

type Predicate = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;

struct Hold {
    matches: Predicate,
    reached: Arc<Notify>,
    release: watch::Receiver<bool>,
}

struct Shared {
    target: String,
    mode: watch::Sender<Mode>,
    holds: Mutex<Vec<Hold>>,
}

/// A proxy on `127.0.0.1:{port}` to `target`, stopped when dropped.
pub struct TcpProxy {
    pub port: u16,
    shared: Arc<Shared>,
    acceptor: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A held chunk: [`Held::reached`] resolves once it is held, [`Held::release`] lets it go.
pub struct Held {
    reached: Arc<Notify>,
    release: watch::Sender<bool>,
}

impl Held {
    /// Resolves when a matching chunk has been held.
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    /// Forwards the held chunk (and lets any later match pass).
    pub fn release(&self) {
        let _ = self.release.send(true);
    }
}

impl TcpProxy {
    /// Starts forwarding to `target` (`host:port`).
    pub async fn start(target: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let (mode, _) = watch::channel(Mode::Forward);
        let shared = Arc::new(Shared {
            target: target.to_owned(),
            mode,
            holds: Mutex::new(Vec::new()),
        });
        let proxy = TcpProxy {
            port,
            shared,
            acceptor: Mutex::new(None),
        };
        proxy.accept_on(listener);
        proxy
    }

    /// `127.0.0.1:{port}`, the form of the `db_host` and `redis_host` variables.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn accept_on(&self, listener: TcpListener) {
        let shared = Arc::clone(&self.shared);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, Arc::clone(&shared)));
            }
        });
        *self.acceptor.lock().unwrap() = Some(task);
    }

    /// Switches the mode: see the module docs.
    pub async fn set_mode(&self, mode: Mode) {
        let before = *self.shared.mode.borrow();
        self.shared.mode.send_replace(mode);
        match (before == Mode::Refuse, mode == Mode::Refuse) {
            (false, true) => {
                if let Some(task) = self.acceptor.lock().unwrap().take() {
                    task.abort();
                }
            }
            (true, false) => {
                let listener = TcpListener::bind(("127.0.0.1", self.port))
                    .await
                    .expect("the proxy's port is free again");
                self.accept_on(listener);
            }
            _ => {}
        }
    }

    /// Holds the next client-to-server chunk for which `matches` is true.
    pub fn hold_next(&self, matches: impl Fn(&[u8]) -> bool + Send + Sync + 'static) -> Held {
        let reached = Arc::new(Notify::new());
        let (release, released) = watch::channel(false);
        self.shared.holds.lock().unwrap().push(Hold {
            matches: Box::new(matches),
            reached: Arc::clone(&reached),
            release: released,
        });
        Held { reached, release }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.mode.send_replace(Mode::Refuse);
        if let Some(task) = self.acceptor.lock().unwrap().take() {
            task.abort();
        }
    }
}

/// Waits while frozen; false once the proxy refuses (the connection must end).
async fn may_pass(mode: &mut watch::Receiver<Mode>) -> bool {
    match mode.wait_for(|m| *m != Mode::Freeze).await {
        Ok(m) => *m == Mode::Forward,
        Err(_) => false,
    }
}

async fn serve(client: TcpStream, shared: Arc<Shared>) {
    let mut mode = shared.mode.subscribe();
    if !may_pass(&mut mode).await {
        return;
    }
    let Ok(server) = TcpStream::connect(&shared.target).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = {
        let shared = Arc::clone(&shared);
        let mut mode = shared.mode.subscribe();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                let hold = {
                    let mut holds = shared.holds.lock().unwrap();
                    holds
                        .iter()
                        .position(|h| (h.matches)(chunk))
                        .map(|i| holds.remove(i))
                };
                if let Some(mut hold) = hold {
                    hold.reached.notify_one();
                    let _ = hold.release.wait_for(|r| *r).await;
                }
                if !may_pass(&mut mode).await || server_write.write_all(chunk).await.is_err() {
                    return;
                }
            }
        }
    };
    let downstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !may_pass(&mut mode).await || client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    // Either direction ending (or the proxy refusing) ends the connection.
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
    }
}
