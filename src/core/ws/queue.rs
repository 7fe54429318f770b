//! A bounded queue between a session's I/O thread and its user, whose waits can be
//! interrupted (Ctrl-C in Python, a cancel handle) like every socket wait.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::core::http::interrupt;

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    /// Threads in a wait: a notify is a system call, which a queue nobody waits on skips
    /// (a busy session pushes and pops tens of thousands of messages).
    waiting: usize,
}

/// A wait's outcome: the guard back, with why it ended early.
type Waited<'a, T> = Result<MutexGuard<'a, State<T>>, (MutexGuard<'a, State<T>>, Ended)>;

/// A bounded multi-producer, multi-consumer queue that can be closed.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    cap: usize,
}

/// Why a wait on a [`Queue`] ended without an item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The queue is closed (and, for a pop, empty).
    Closed,
    /// The deadline passed.
    TimedOut,
    /// The thread's interrupt check fired.
    Interrupted,
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("cap", &self.cap).finish()
    }
}

impl<T> Queue<T> {
    /// An empty queue holding at most `cap` items.
    pub(crate) fn new(cap: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(cap),
                closed: false,
                waiting: 0,
            }),
            changed: Condvar::new(),
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wake the waiters, if any, after a change made under `guard`.
    fn notify_waiters(&self, guard: MutexGuard<'_, State<T>>) {
        let any = guard.waiting > 0;
        drop(guard);
        if any {
            self.changed.notify_all();
        }
    }

    /// Wait on the condition in slices, so interrupts are noticed.
    fn wait<'a>(
        &self,
        guard: MutexGuard<'a, State<T>>,
        deadline: Option<Instant>,
    ) -> Waited<'a, T> {
        let mut slice = interrupt::SLICE;
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err((guard, Ended::TimedOut));
            }
            slice = slice.min(left);
        }
        let mut guard = guard;
        guard.waiting += 1;
        let (mut guard, _) = self
            .changed
            .wait_timeout(guard, slice)
            .unwrap_or_else(PoisonError::into_inner);
        guard.waiting -= 1;
        if interrupt::interrupted() {
            return Err((guard, Ended::Interrupted));
        }
        Ok(guard)
    }

    /// Add an item, waiting while the queue is full. Gives the item back if the queue is
    /// closed or the wait ended.
    pub(crate) fn push(&self, item: T, deadline: Option<Instant>) -> Result<(), (T, Ended)> {
        let mut g = self.lock();
        loop {
            if g.closed {
                return Err((item, Ended::Closed));
            }
            if g.items.len() < self.cap {
                g.items.push_back(item);
                self.notify_waiters(g);
                return Ok(());
            }
            g = match self.wait(g, deadline) {
                Ok(g) => g,
                Err((_, why)) => return Err((item, why)),
            };
        }
    }

    /// Add an item if there is room; gives it back when full or closed.
    pub(crate) fn try_push(&self, item: T) -> Result<(), T> {
        let mut g = self.lock();
        if g.closed || g.items.len() >= self.cap {
            return Err(item);
        }
        g.items.push_back(item);
        self.notify_waiters(g);
        Ok(())
    }

    /// Take the oldest item, waiting until one comes, the queue is closed and empty, or the
    /// wait ends.
    pub(crate) fn pop(&self, deadline: Option<Instant>) -> Result<T, Ended> {
        self.pop_full(deadline).map(|(item, _)| item)
    }

    /// [`Queue::pop`], also saying whether the queue was full (a producer may be waiting
    /// for room and need a wake-up).
    pub(crate) fn pop_full(&self, deadline: Option<Instant>) -> Result<(T, bool), Ended> {
        let mut g = self.lock();
        loop {
            let was_full = g.items.len() >= self.cap;
            if let Some(item) = g.items.pop_front() {
                self.notify_waiters(g);
                return Ok((item, was_full));
            }
            if g.closed {
                return Err(Ended::Closed);
            }
            g = self.wait(g, deadline).map_err(|(_, why)| why)?;
        }
    }

    /// Take the oldest item if there is one.
    pub(crate) fn try_pop(&self) -> Option<T> {
        let mut g = self.lock();
        let item = g.items.pop_front();
        if item.is_some() {
            self.notify_waiters(g);
        }
        item
    }

    /// Whether an item fits now.
    pub(crate) fn has_room(&self) -> bool {
        let g = self.lock();
        !g.closed && g.items.len() < self.cap
    }

    /// Whether no item is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }

    /// Refuse further pushes; items already queued can still be popped.
    pub(crate) fn close(&self) {
        let mut g = self.lock();
        g.closed = true;
        self.notify_waiters(g);
    }

    /// Whether [`Queue::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_full_queue_makes_the_producer_wait_for_the_consumer() {
        let q = Arc::new(Queue::new(1));
        q.push(1, None).unwrap();
        assert_eq!(q.try_push(2), Err(2));
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.push(3, None).is_ok());
        assert_eq!(q.pop(None), Ok(1));
        assert!(t.join().unwrap());
        assert_eq!(q.pop(None), Ok(3));
    }

    #[test]
    fn closing_ends_waits_but_keeps_queued_items() {
        let q = Queue::new(2);
        q.push("a", None).unwrap();
        q.close();
        assert!(matches!(q.push("b", None), Err(("b", Ended::Closed))));
        assert_eq!(q.pop(None), Ok("a"));
        assert_eq!(q.pop(None), Err(Ended::Closed));
        let empty: Queue<u8> = Queue::new(1);
        let past = Some(Instant::now() - Duration::from_millis(1));
        assert_eq!(empty.pop(past), Err(Ended::TimedOut));
    }
}
