//! SPDY/3.1, as much of it as port-forward needs: the frames, the zlib-compressed header
//! blocks, and the port-forward tunnel kubectl opens (a SPDY session inside a WebSocket,
//! many forwarded connections over it).

pub mod frame;
pub mod headers;
pub mod tunnel;
