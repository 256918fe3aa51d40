//! A TCP stream that, when the connection ends, waits until the client has
//! received everything written to it.
//!
//! Without this, the end of a response can be lost when the process exits
//! right after a graceful shutdown: the last bytes sit in the kernel's send
//! queue of a socket nobody owns any more, and in a container the network
//! namespace (with that queue) goes away with the process. A slow client
//! downloading a large export then sees neither the end nor a reset.

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// How often the send queue is looked at while it drains.
const POLL: Duration = Duration::from_millis(20);

/// `TCP_CLOSE` of the kernel's TCP states (`tcp_info.tcpi_state`).
const TCP_CLOSE: u8 = 7;

pub struct Delivered {
    stream: TcpStream,
    /// Longest wait for the client to take the rest after the last write.
    limit: Duration,
    closing: Option<Closing>,
}

struct Closing {
    deadline: Instant,
    next_look: Pin<Box<Sleep>>,
}

impl Delivered {
    pub fn new(stream: TcpStream, limit: Duration) -> Self {
        Delivered {
            stream,
            limit,
            closing: None,
        }
    }

    /// Bytes written but not yet acknowledged by the client, 0 once the
    /// connection is closed: after a reset from the client the kernel still
    /// reports what was queued then, which nobody will ever acknowledge.
    fn unacknowledged(&self) -> io::Result<usize> {
        if self.closed()? {
            return Ok(0);
        }
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ writes one int through the pointer, which points
        // at a live c_int; the descriptor belongs to `self.stream`.
        let rc = unsafe { libc::ioctl(self.stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        if rc == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(usize::try_from(queued).unwrap_or(0))
    }

    /// Whether the kernel has closed the connection (the client reset it).
    fn closed(&self) -> io::Result<bool> {
        // SAFETY: tcp_info is plain integers, so all zeroes is a valid value.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `info`, which
        // is that large; the descriptor belongs to `self.stream`.
        let rc = unsafe {
            libc::getsockopt(
                self.stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            )
        };
        if rc == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(info.tcpi_state == TCP_CLOSE)
    }
}

impl AsyncRead for Delivered {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Delivered {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    /// Sends FIN after the queued data, then waits (up to the limit) until
    /// the client has acknowledged all of it.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.closing.is_none() {
            ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            this.closing = Some(Closing {
                deadline: Instant::now() + this.limit,
                next_look: Box::pin(tokio::time::sleep(Duration::ZERO)),
            });
        }
        loop {
            // A socket the client already reset has nothing left to deliver.
            let unacknowledged = this.unacknowledged().unwrap_or(0);
            let Some(closing) = this.closing.as_mut() else {
                return Poll::Ready(Ok(()));
            };
            if unacknowledged == 0 || Instant::now() >= closing.deadline {
                return Poll::Ready(Ok(()));
            }
            ready!(closing.next_look.as_mut().poll(cx));
            let next = (Instant::now() + POLL).min(closing.deadline);
            closing.next_look.as_mut().reset(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    /// Resets a connection (SO_LINGER 0, then close), as a client that goes
    /// away mid-response does.
    fn reset(stream: TcpStream) {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: setsockopt reads one `linger` from the pointer; the
        // descriptor belongs to `stream`, closed right after.
        let rc = unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        drop(stream);
    }

    #[tokio::test]
    async fn the_close_waits_for_a_slow_client_but_not_for_one_that_reset() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let limit = Duration::from_secs(30);
        let mut delivered = Delivered::new(server, limit);
        // More than the socket buffers hold: the client reads nothing, so
        // part of it stays unacknowledged.
        let data = vec![b'x'; 32 << 20];
        let _ = tokio::time::timeout(Duration::from_millis(500), delivered.write_all(&data)).await;
        assert!(delivered.unacknowledged().unwrap() > 0);
        let started = Instant::now();
        let closing = tokio::spawn(async move { delivered.shutdown().await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !closing.is_finished(),
            "the close must wait while the client still has data to take"
        );
        reset(client);
        closing.await.unwrap().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a reset connection was waited for {:?}",
            started.elapsed()
        );
    }
}
