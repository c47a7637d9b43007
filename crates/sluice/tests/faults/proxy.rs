//! A TCP proxy on 127.0.0.1 that the fault suite puts between Sluice and a server, to cut the
//! network (drop: FIN, reset: RST), or stall it without closing, and restore it. It never
//! changes a byte: what passes is what was sent.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Pass,
    /// Bytes wait in the proxy (and then in the kernel's buffers): the peers see a silent link.
    Stall,
    /// New connections are closed at once, as by a host that is down.
    Refuse,
}

/// How the open connections are ended by `cut`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// An orderly close (FIN) of both sides.
    Drop,
    /// An abortive close (RST) of both sides.
    Reset,
}

pub struct Proxy {
    pub port: u16,
    flow: watch::Sender<Flow>,
    /// Each cut bumps the generation; connections of an older one end.
    cuts: watch::Sender<(u64, Cut)>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream`.
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, upstream)
    }

    /// Forwards from an already bound listener (so the port can be known before the upstream
    /// starts, e.g. to advertise it).
    pub fn start_on(listener: TcpListener, upstream: u16) -> Proxy {
        let port = listener.local_addr().unwrap().port();
        let (flow, flow_rx) = watch::channel(Flow::Pass);
        let (cuts, cuts_rx) = watch::channel((0u64, Cut::Drop));
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if *flow_rx.borrow() == Flow::Refuse {
                    drop(client);
                    continue;
                }
                let generation = cuts_rx.borrow().0;
                tokio::spawn(forward(
                    client,
                    upstream,
                    flow_rx.clone(),
                    cuts_rx.clone(),
                    generation,
                ));
            }
        });
        Proxy {
            port,
            flow,
            cuts,
            accept,
        }
    }

    /// Ends every open connection and refuses new ones until `restore`.
    pub fn cut(&self, how: Cut) {
        self.flow.send_replace(Flow::Refuse);
        let generation = self.cuts.borrow().0 + 1;
        self.cuts.send_replace((generation, how));
    }

    /// Stops forwarding bytes, keeping every connection open, until `restore`.
    pub fn stall(&self) {
        self.flow.send_replace(Flow::Stall);
    }

    pub fn restore(&self) {
        self.flow.send_replace(Flow::Pass);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut(Cut::Drop);
    }
}

async fn forward(
    client: TcpStream,
    upstream: u16,
    flow: watch::Receiver<Flow>,
    mut cuts: watch::Receiver<(u64, Cut)>,
    generation: u64,
) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let (cw, sw) = (
        Arc::new(tokio::sync::Mutex::new(cw)),
        Arc::new(tokio::sync::Mutex::new(sw)),
    );
    let up = pump(cr, sw.clone(), flow.clone());
    let down = pump(sr, cw.clone(), flow);
    let cut = async {
        loop {
            if cuts.borrow_and_update().0 != generation {
                return cuts.borrow().1;
            }
            if cuts.changed().await.is_err() {
                return Cut::Drop;
            }
        }
    };
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        how = cut => {
            if how == Cut::Reset {
                // SO_LINGER 0: the close sends RST instead of FIN.
                // A writer blocked on a full socket holds its half: try, do not wait.
                for half in [&cw, &sw] {
                    if let Ok(h) = half.try_lock() {
                        let _ = h.as_ref().set_zero_linger();
                    }
                }
            }
        }
    }
}

async fn pump(
    mut from: OwnedReadHalf,
    to: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    mut flow: watch::Receiver<Flow>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.lock().await.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        while *flow.borrow_and_update() == Flow::Stall {
            if flow.changed().await.is_err() {
                return;
            }
        }
        if to.lock().await.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
