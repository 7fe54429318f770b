//! Waiting for objects to reach a condition (`incluster wait`, `Client.wait`,
//! `incluster_wait`), with kubectl's semantics for each condition and list + watch underneath.
//!
//! - The target is listed once; if the conditions already hold, that is the answer (one
//!   request). Otherwise the core's [`Watch`] follows it from the
//!   list's resourceVersion, resuming after drops and relisting after a 410 as every watch
//!   does. Nothing polls.
//! - An object that does not exist yet is waited for. One that is deleted while waiting for
//!   anything but `delete` makes the wait fail with [`Error::Unmeetable`].
//! - `all` conditions are AND-ed; `any` conditions form one OR-group AND-ed with them, and the
//!   one met is reported. A `fail_on` condition met by any object ends the wait with
//!   [`Error::Unmeetable`] naming it (a Job's `condition=Failed`).
//! - With a label selector, every object it picks now must meet the conditions: an object
//!   deleted (or relabelled) while waiting leaves the selection rather than failing the wait.
//!   The empty set meets them only with `allow_empty` (or when the conditions hold for absent
//!   objects: `delete`).
//! - The timeout ends the wait with [`Error::WaitTimeout`]; a zero timeout checks once.

pub mod condition;
mod state;
mod target;

use std::fmt;
use std::time::{Duration, Instant};

use crate::core::cancel::CancelHandle;
use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::http::interrupt;
use crate::core::watch::target::and_selector;
use crate::core::watch::{EventType, Listing, Watch, WatchOptions};

pub use condition::Condition;
pub use target::{Target, target};

use state::{State, Verdict};

/// What to wait for, and how long.
#[derive(Debug, Clone, Default)]
pub struct WaitOptions {
    /// Conditions that must all hold (`--for`).
    pub all: Vec<Condition>,
    /// Conditions of which one must hold (`--for-any`), AND-ed with `all`.
    pub any: Vec<Condition>,
    /// Conditions that end the wait as a failure when one holds (`--fail-on`).
    pub fail_on: Vec<Condition>,
    /// With a label selector: an empty selection meets the conditions.
    pub allow_empty: bool,
    /// How long to wait; `None`: for ever; zero: check once.
    pub timeout: Option<Duration>,
    /// The watch's settings (its selectors are set by the wait).
    pub watch: WatchOptions,
}

impl WaitOptions {
    /// Options for these `--for`, `--for-any` and `--fail-on` texts, parsed once; a bad one is
    /// an [`Error::InvalidArgument`] naming it.
    pub fn parse<S: AsRef<str>>(all: &[S], any: &[S], fail_on: &[S]) -> Result<WaitOptions> {
        let parse =
            |v: &[S]| -> Result<Vec<Condition>> { v.iter().map(|s| s.as_ref().parse()).collect() };
        Ok(WaitOptions {
            all: parse(all)?,
            any: parse(any)?,
            fail_on: parse(fail_on)?,
            ..WaitOptions::default()
        })
    }

    /// Set an option by its name, as the C API passes them: `for`, `forAny`, `failOn` (each
    /// adds one condition), `allowEmpty` (`true`/`false`), `timeoutMs` (`0`: check once;
    /// absent: no limit); any other name is a watch option ([`WatchOptions::set`]: backoff,
    /// idle timeout, ...). The target's `labelSelector` and `namespace` are not options of
    /// the wait but of its [`target`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "for" => self.all.push(value.parse()?),
            "forAny" => self.any.push(value.parse()?),
            "failOn" => self.fail_on.push(value.parse()?),
            "allowEmpty" => {
                self.allow_empty = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(Error::invalid(format!(
                            "wait option allowEmpty={value:?}: expected true or false"
                        )));
                    }
                }
            }
            "timeoutMs" => {
                let ms: u64 = value.parse().map_err(|_| {
                    Error::invalid(format!(
                        "wait option timeoutMs={value:?}: expected a number of milliseconds"
                    ))
                })?;
                self.timeout = Some(Duration::from_millis(ms));
            }
            "labelSelector" | "fieldSelector" | "resourceVersion" => {
                return Err(Error::invalid(format!(
                    "wait option {key}: set by the wait (give the label selector with the \
                     target)"
                )));
            }
            other => self.watch.set(other, value)?,
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        if self.all.is_empty() && self.any.is_empty() {
            return Err(Error::invalid(
                "wait: no condition given (give at least one for / for-any condition)",
            ));
        }
        Ok(())
    }

    /// The conditions, as one text for messages.
    fn spec(&self) -> Spec<'_> {
        Spec(self)
    }
}

struct Spec<'a>(&'a WaitOptions);

impl fmt::Display for Spec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |v: &[Condition], sep: &str| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(sep)
        };
        let all = join(&self.0.all, " and ");
        let any = join(&self.0.any, " or ");
        match (all.is_empty(), any.is_empty()) {
            (false, true) => f.write_str(&all),
            (true, false) => f.write_str(&any),
            _ => write!(f, "{all} and ({any})"),
        }
    }
}

/// One object that met the conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetObject {
    /// The object as last seen, as JSON (with `kind` and `apiVersion`, also when its list
    /// left them out). For `delete`: its last known state, or `{"kind":...,"apiVersion":...,
    /// "metadata":{"name":...}}` when it never existed.
    pub object: Vec<u8>,
    /// The conditions it met, as `--for` spells them: every `all` one, then the `any` one.
    pub met: Vec<String>,
}

/// A wait that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Met {
    /// The objects that met the conditions: one for a named target; for a selector, every
    /// object it picked (none when the empty set met them).
    pub objects: Vec<MetObject>,
}

/// A wait as a state machine: the list, then one watch event at a time, each judged by the
/// conditions. The blocking [`wait`] steps it with the core's [`Watch`]; a driver that reads
/// the watch itself (`incluster.aio` on an event loop, with no thread per wait) steps the same
/// machine, so the conditions, the resync handling and the messages stay here.
pub struct Waiting {
    state: State,
    /// Between resync markers the view is half updated: judged at the end marker only.
    in_resync: bool,
}

impl Waiting {
    /// A wait for `target` under `opts`; an [`Error::InvalidArgument`] when no condition is
    /// given.
    pub fn new(target: Target, opts: WaitOptions) -> Result<Waiting> {
        opts.check()?;
        Ok(Waiting {
            state: State::new(target, opts),
            in_resync: false,
        })
    }

    /// What is waited for.
    pub fn target(&self) -> &Target {
        self.state.target()
    }

    /// The conditions and the timeout.
    pub fn options(&self) -> &WaitOptions {
        self.state.opts()
    }

    /// Whether the timeout is zero: the list is judged, and no watch follows.
    pub fn once(&self) -> bool {
        self.options().timeout.is_some_and(|t| t.is_zero())
    }

    /// The collection to list and watch.
    pub fn collection(&self) -> &str {
        &self.target().collection
    }

    /// The watch's settings: the options' with the target's selectors (its name as a field
    /// selector).
    pub fn watch_options(&self) -> WatchOptions {
        let target = self.target();
        let mut wopts = self.options().watch.clone();
        wopts.label_selector = target.label_selector.clone();
        if let Some(name) = &target.name {
            let by_name = format!("metadata.name={name}");
            wopts.field_selector = Some(and_selector(wopts.field_selector.as_deref(), &by_name));
        }
        wopts
    }

    /// Take in the list (before its watch starts): `Some` when it already meets the
    /// conditions, [`Error::Unmeetable`] when it never can.
    pub fn take_listing(&mut self, listing: &Listing) -> Result<Option<Met>> {
        self.state.set_item_type(listing.item_type.clone());
        for e in &listing.objects {
            self.state.apply_listed(&e.object)?;
        }
        self.judge()
    }

    /// Take in one watch event (its type and the object's JSON): `Some` when the conditions
    /// are met now, [`Error::Unmeetable`] when they never can be.
    pub fn take_event(&mut self, kind: EventType, object: &[u8]) -> Result<Option<Met>> {
        match kind {
            EventType::ResyncStart => self.in_resync = true,
            EventType::ResyncEnd => self.in_resync = false,
            EventType::Bookmark => return Ok(None),
            EventType::Added | EventType::Modified | EventType::Deleted => {
                self.state.apply(kind, object)?;
            }
        }
        if self.in_resync {
            return Ok(None);
        }
        self.judge()
    }

    fn judge(&self) -> Result<Option<Met>> {
        match self.state.judge()? {
            Verdict::Met(m) => Ok(Some(m)),
            Verdict::Unmeetable(why) => Err(Error::Unmeetable(why)),
            Verdict::Pending => Ok(None),
        }
    }

    /// The error for a wait whose timeout passed.
    pub fn timed_out(&self) -> Error {
        let opts = self.options();
        Error::WaitTimeout(format!(
            "{} did not meet {} within {}",
            self.target(),
            opts.spec(),
            humantime::format_duration(opts.timeout.unwrap_or_default())
        ))
    }

    /// The error for a watch that ended (it resumes unless told not to) before a verdict.
    pub fn watch_ended(&self) -> Error {
        Error::Transport(format!(
            "the watch of {} ended before the conditions were met",
            self.target()
        ))
    }
}

/// Wait until `target` meets the conditions of `opts`, the timeout passes
/// ([`Error::WaitTimeout`]), the conditions can no longer be met ([`Error::Unmeetable`]),
/// `cancel` is cancelled from another thread ([`Error::Cancelled`], within
/// [`interrupt::SLICE`]), or another error ends it (an API error, a `jsonpath=` condition
/// that selects several values, ...).
pub fn wait(
    client: &Client,
    target: &Target,
    opts: &WaitOptions,
    cancel: &CancelHandle,
) -> Result<Met> {
    let mut waiting = Waiting::new(target.clone(), opts.clone())?;
    let once = waiting.once();
    let deadline = opts.timeout.filter(|_| !once).map(|t| Instant::now() + t);
    let expired = move || deadline.is_some_and(|d| Instant::now() >= d);
    let flag = cancel.clone();
    let r = interrupt::with_check(
        move || flag.is_cancelled() || expired(),
        || run(client, &mut waiting),
    );
    match r {
        Err(Error::Cancelled) if !cancel.is_cancelled() && expired() => Err(waiting.timed_out()),
        Ok(None) => Err(waiting.timed_out()),
        Ok(Some(met)) => Ok(met),
        Err(e) => Err(e),
    }
}

/// List, judge, and watch until a verdict; `Ok(None)` when the wait checks once and the list
/// did not meet the conditions.
fn run(client: &Client, waiting: &mut Waiting) -> Result<Option<Met>> {
    let listing = Watch::list(client, waiting.collection(), waiting.watch_options())?;
    if let Some(met) = waiting.take_listing(&listing)? {
        return Ok(Some(met));
    }
    if waiting.once() {
        return Ok(None);
    }
    let mut watch = listing.watch(client)?;
    loop {
        let Some(e) = watch.next_event()? else {
            return Err(waiting.watch_ended());
        };
        if let Some(met) = waiting.take_event(e.kind, &e.object)? {
            return Ok(Some(met));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "n", "uid": "u1"},
        }))
        .unwrap()
    }

    #[test]
    fn the_machine_judges_a_resync_at_its_end_marker_only() {
        let t = target::from_path("/api/v1/namespaces/n/configmaps/x", None).unwrap();
        let o = WaitOptions::parse(&["delete"], &[], &[]).unwrap();
        let mut w = Waiting::new(t, o).unwrap();
        assert_eq!(w.take_event(EventType::Added, &cm("x")).unwrap(), None);
        assert_eq!(w.take_event(EventType::Bookmark, b"{}").unwrap(), None);
        // A relist: x is gone, but the view is half updated until the end marker.
        assert_eq!(w.take_event(EventType::ResyncStart, b"{}").unwrap(), None);
        assert_eq!(w.take_event(EventType::Deleted, &cm("x")).unwrap(), None);
        let met = w.take_event(EventType::ResyncEnd, b"{}").unwrap().unwrap();
        assert_eq!(met.objects[0].met, ["delete"]);
        assert_eq!(
            w.watch_options().field_selector.as_deref(),
            Some("metadata.name=x")
        );
    }

    #[test]
    fn the_machine_names_its_timeout_and_wants_a_condition() {
        let t = target::from_path("/api/v1/namespaces/n/configmaps/x", None).unwrap();
        let mut o = WaitOptions::parse(&["create"], &[], &[]).unwrap();
        o.timeout = Some(Duration::from_millis(1500));
        let w = Waiting::new(t.clone(), o).unwrap();
        assert!(!w.once());
        let e = w.timed_out().to_string();
        assert!(e.contains("did not meet create within 1s 500ms"), "{e}");
        let none = WaitOptions::parse::<&str>(&[], &[], &[]).unwrap();
        assert!(matches!(
            Waiting::new(t, none),
            Err(Error::InvalidArgument(_))
        ));
    }
}
