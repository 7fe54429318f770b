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
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};

use crate::core::http::interrupt::{self, Interrupted};

/// Opens TCP connections (unless an earlier connector in the chain, such as the CONNECT proxy
/// step, already produced one).
#[derive(Debug, Default)]
pub struct TcpConnector;

/// Wait until `fd` is ready for `events`, the deadline passes (`Err(TimedOut)`), or the
/// thread's interrupt check fires (`Err(Interrupted)`).
fn wait(fd: i32, events: i16, deadline: Option<Instant>) -> io::Result<()> {
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

fn deadline_of(timeout: NextTimeout) -> Option<Instant> {
    timeout.not_zero().map(|d| Instant::now() + *d)
}

fn setsockopt_int(fd: i32, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to a live c_int of the given size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Start a non-blocking connect to `addr` and wait for it like any other socket wait.
fn connect_one(addr: &SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
    let (family, storage, len) = sockaddr(addr);
    // SAFETY: plain socket creation; the fd is owned by the TcpStream right after.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh socket we own; the stream closes it on every path below.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    // SAFETY: `storage` holds a sockaddr of `len` bytes for `family`.
    let r = unsafe { libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len) };
    if r != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
        wait(fd, libc::POLLOUT, deadline)?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
    }
    stream.set_nodelay(true)?;
    // Keepalive: notice a peer that disappeared during a long quiet read (a watch, a log).
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    #[cfg(target_os = "linux")]
    {
        setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 30)?;
        setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 10)?;
        setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)?;
    }
    Ok(stream)
}

fn sockaddr(addr: &SocketAddr) -> (i32, libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            (
                libc::AF_INET,
                storage,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            (
                libc::AF_INET6,
                storage,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
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
                    let buffers = LazyBuffers::new(
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
    buffers: LazyBuffers,
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
            wait(fd, libc::POLLIN, deadline).map_err(|e| to_ureq(e, timeout))?;
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
