//! The TCP step of the connector chain: our own socket handling instead of ureq's.
//!
//! Why not ureq's `TcpConnector`:
//! - every wait here is a `poll` that can be interrupted between [`interrupt::SLICE`]s (Ctrl-C
//!   in Python, a watch's cancel handle), including the connect;
//! - the socket stays non-blocking, so no `setsockopt` per read to re-arm a timeout, and the
//!   "is this pooled connection still open?" probe is one `poll` instead of two `ioctl`s and a
//!   `recv` (syscalls dominate a keep-alive request);
//! - TCP keepalive is on, so a peer that vanished is noticed on long quiet streams.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, NextTimeout, ShutdownHandle, Transport,
};

use crate::core::http::buffers::SlimBuffers;
use crate::core::http::interrupt::{self, Interrupted};

/// Opens TCP connections (unless an earlier connector in the chain, such as the CONNECT proxy
/// step, already produced one).
#[derive(Debug, Default)]
pub struct TcpConnector;

/// Wait until `fd` is ready for `events`, the deadline passes (`Err(TimedOut)`), or the
/// thread's interrupt check fires (`Err(Interrupted)`).
pub(crate) fn wait(fd: i32, events: i16, deadline: Option<Instant>) -> io::Result<()> {
    if interrupt::is_nonblocking() {
        return wait_none(fd, events);
    }
    if let Some(wake) = interrupt::wake_fd() {
        return wait_or_wake(fd, events, wake, deadline);
    }
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let slice = if interrupt::active() {
            Some(remaining.map_or(interrupt::SLICE, |r| r.min(interrupt::SLICE)))
        } else {
            remaining
        };
        // Round up so a sub-millisecond remainder does not spin.
        let ms = slice.map_or(-1, |s| {
            i32::try_from(s.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
        });
        let mut p = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r > 0 {
            // Readable, writable, hung up or failed: the read/write that follows reports which.
            return Ok(());
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        if interrupt::interrupted() {
            return Err(Interrupted::io());
        }
    }
}

/// [`wait`] with a wake fd installed: one `poll` on the socket and the wake fd until the
/// deadline, no slices, and the check asked only on a wake (on a worker of the asyncio
/// pool, the Python front's check takes the GIL). A wake that the check confirms is left
/// readable, so every later wait of the same call ends at once too (the pool empties it when
/// the call is over); a stale one is drained and the wait goes on.
fn wait_or_wake(fd: i32, events: i16, wake: i32, deadline: Option<Instant>) -> io::Result<()> {
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let ms = remaining.map_or(-1, |s| {
            i32::try_from(s.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
        });
        let mut p = [
            libc::pollfd {
                fd,
                events,
                revents: 0,
            },
            libc::pollfd {
                fd: wake,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds for the duration of the call.
        let r = unsafe { libc::poll(p.as_mut_ptr(), 2, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            continue;
        }
        if p[1].revents != 0 {
            if interrupt::interrupted() {
                return Err(Interrupted::io());
            }
            interrupt::drain_wake_fd(wake);
        }
        if p[0].revents != 0 {
            return Ok(());
        }
    }
}

/// Inside `interrupt::nonblocking`: ready now, or fail at once saying what was needed.
fn wait_none(fd: i32, events: i16) -> io::Result<()> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call; zero timeout.
    if unsafe { libc::poll(&mut p, 1, 0) } > 0 {
        return Ok(());
    }
    Err(interrupt::not_ready(fd, events == libc::POLLOUT))
}

fn deadline_of(timeout: NextTimeout) -> Option<Instant> {
    timeout.not_zero().map(|d| Instant::now() + *d)
}

/// Start a non-blocking connect to `addr` and wait for it like any other socket wait.
pub(crate) fn connect_one(addr: &SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
    // Non-blocking from the start, so the connect itself is a wait we can interrupt.
    // socket2 sets close-on-exec on the new socket.
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if let Err(e) = socket.connect(&SockAddr::from(*addr)) {
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
        wait(socket.as_raw_fd(), libc::POLLOUT, deadline)?;
        if let Some(e) = socket.take_error()? {
            return Err(e);
        }
    }
    socket.set_tcp_nodelay(true)?;
    // Keepalive: notice a peer that disappeared during a long quiet read (a watch, a log).
    socket.set_tcp_keepalive(
        &TcpKeepalive::new()
            .with_time(Duration::from_secs(30))
            .with_interval(Duration::from_secs(10))
            .with_retries(3),
    )?;
    Ok(socket.into())
}

fn to_ureq(e: io::Error, timeout: NextTimeout) -> ureq::Error {
    if e.kind() == io::ErrorKind::TimedOut {
        ureq::Error::Timeout(timeout.reason)
    } else {
        ureq::Error::Io(e)
    }
}

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, TcpTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(t) = chained {
            return Ok(Some(Either::A(t)));
        }
        let deadline = deadline_of(details.timeout);
        let mut last = None;
        for addr in details.addrs.iter() {
            match connect_one(addr, deadline) {
                Ok(stream) => {
                    let stream = Arc::new(stream);
                    let weak = Arc::downgrade(&stream);
                    (details.register_shutdown)(weak as std::sync::Weak<dyn ShutdownHandle>)?;
                    let buffers = SlimBuffers::new(
                        details.config.input_buffer_size(),
                        details.config.output_buffer_size(),
                    );
                    return Ok(Some(Either::B(TcpTransport { stream, buffers })));
                }
                // Timeouts and interruptions end the attempt; other errors try the next address.
                Err(e) if e.kind() == io::ErrorKind::TimedOut || Interrupted::is(&e) => {
                    return Err(to_ureq(e, details.timeout));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(ureq::Error::Io(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::ConnectionRefused, "no address to connect to")
        })))
    }
}

/// A non-blocking TCP connection as a ureq transport.
pub struct TcpTransport {
    stream: Arc<TcpStream>,
    buffers: SlimBuffers,
}

impl fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        let deadline = deadline_of(timeout);
        let fd = self.stream.as_raw_fd();
        let mut out = &self.buffers.output()[..amount];
        while !out.is_empty() {
            match (&*self.stream).write(out) {
                Ok(0) => return Err(ureq::Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => out = &out[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(fd, libc::POLLOUT, deadline).map_err(|e| to_ureq(e, timeout))?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ureq::Error::Io(e)),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        let deadline = deadline_of(timeout);
        let fd = self.stream.as_raw_fd();
        loop {
            // Wait first: ureq asks for input when it has consumed what it had, so the data
            // is rarely there already, and a poll is cheaper than a failed read plus a poll.
            if let Err(e) = wait(fd, libc::POLLIN, deadline) {
                if interrupt::was_refused() {
                    // A non-blocking read found nothing: the stream parks until the socket is
                    // readable, without holding empty buffers meanwhile.
                    self.buffers.release_idle();
                }
                return Err(to_ureq(e, timeout));
            }
            let input = self.buffers.input_append_buf();
            match (&*self.stream).read(input) {
                Ok(n) => {
                    self.buffers.input_appended(n);
                    return Ok(n > 0);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(ureq::Error::Io(e)),
            }
        }
    }

    fn is_open(&mut self) -> bool {
        // An idle pooled connection must have nothing to read: readable means the server closed
        // it (EOF) or sent bytes nobody asked for. Either way it cannot be reused.
        let mut p = libc::pollfd {
            fd: self.stream.as_raw_fd(),
            events: libc::POLLIN | libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: one valid pollfd; zero timeout.
        unsafe { libc::poll(&mut p, 1, 0) == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::net::TcpListener;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn eventfd() -> i32 {
        // SAFETY: creates a new fd; no pointers involved.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        assert!(fd >= 0);
        fd
    }

    fn write_wake(fd: i32) {
        let one: u64 = 1;
        // SAFETY: writes the 8 bytes of a local u64, as an eventfd expects.
        let n = unsafe { libc::write(fd, (&raw const one).cast(), 8) };
        assert_eq!(n, 8);
    }

    #[test]
    fn a_wake_ends_a_wait_at_once_and_the_wait_is_not_sliced() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let wake = eventfd();
        let flag = Arc::new(AtomicBool::new(false));
        let (f2, w2) = (flag.clone(), wake);
        let canceller = std::thread::spawn(move || {
            // Long enough for several SLICEs, had the wait been cut into them.
            std::thread::sleep(interrupt::SLICE * 6);
            f2.store(true, Ordering::SeqCst);
            write_wake(w2);
        });
        let asked = Rc::new(Cell::new(0));
        let a2 = asked.clone();
        let r = interrupt::with_check(
            move || {
                a2.set(a2.get() + 1);
                flag.load(Ordering::SeqCst)
            },
            || interrupt::with_wake_fd(wake, || wait(client.as_raw_fd(), libc::POLLIN, None)),
        );
        canceller.join().unwrap();
        assert!(Interrupted::is(&r.unwrap_err()));
        // Once, on the wake: never between slices.
        assert_eq!(asked.get(), 1);
        // The wake stays readable: a second wait of the same call ends at once as well.
        let again = interrupt::with_check(
            || true,
            || interrupt::with_wake_fd(wake, || wait(client.as_raw_fd(), libc::POLLIN, None)),
        );
        assert!(Interrupted::is(&again.unwrap_err()));
        // SAFETY: closing the eventfd this test opened.
        unsafe { libc::close(wake) };
    }

    #[test]
    fn a_stale_wake_is_drained_and_the_wait_goes_on() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let wake = eventfd();
        write_wake(wake);
        let writer = std::thread::spawn(move || {
            std::thread::sleep(interrupt::SLICE);
            server.write_all(b"x").unwrap();
            server
        });
        let r = interrupt::with_check(
            || false,
            || interrupt::with_wake_fd(wake, || wait(client.as_raw_fd(), libc::POLLIN, None)),
        );
        assert!(r.is_ok(), "{r:?}");
        drop(writer.join().unwrap());
        // SAFETY: closing the eventfd this test opened.
        unsafe { libc::close(wake) };
    }
}
