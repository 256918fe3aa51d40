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

    /// Bytes written but not yet acknowledged by the client.
    fn unacknowledged(&self) -> io::Result<usize> {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ writes one int through the pointer, which points
        // at a live c_int; the descriptor belongs to `self.stream`.
        let rc = unsafe { libc::ioctl(self.stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        if rc == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(usize::try_from(queued).unwrap_or(0))
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
