//! Waiting for objects to reach a condition (`incluster wait`, `Client.wait`,
//! `incluster_wait`), with kubectl's semantics for each condition and list + watch underneath.
//!
//! - The target is listed once; if the conditions already hold, that is the answer (one
//!   request). Otherwise the core's [`Watch`](crate::core::watch::Watch) follows it from the
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
use crate::core::watch::{EventType, Watch, WatchOptions};

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
    opts.check()?;
    let once = opts.timeout.is_some_and(|t| t.is_zero());
    let deadline = opts.timeout.filter(|_| !once).map(|t| Instant::now() + t);
    let expired = move || deadline.is_some_and(|d| Instant::now() >= d);
    let flag = cancel.clone();
    let r = interrupt::with_check(
        move || flag.is_cancelled() || expired(),
        || run(client, target, opts, once),
    );
    let timed_out = || {
        Error::WaitTimeout(format!(
            "{target} did not meet {} within {}",
            opts.spec(),
            humantime::format_duration(opts.timeout.unwrap_or_default())
        ))
    };
    match r {
        Err(Error::Cancelled) if !cancel.is_cancelled() && expired() => Err(timed_out()),
        Ok(None) => Err(timed_out()),
        Ok(Some(met)) => Ok(met),
        Err(e) => Err(e),
    }
}

/// List, judge, and watch until a verdict; `Ok(None)` when `once` and the list did not meet
/// the conditions.
fn run(client: &Client, target: &Target, opts: &WaitOptions, once: bool) -> Result<Option<Met>> {
    let mut wopts = opts.watch.clone();
    wopts.label_selector = target.label_selector.clone();
    if let Some(name) = &target.name {
        let by_name = format!("metadata.name={name}");
        wopts.field_selector = Some(and_selector(wopts.field_selector.as_deref(), &by_name));
    }
    let listing = Watch::list(client, &target.collection, wopts)?;
    let mut state = State::new(target, opts);
    state.set_item_type(listing.item_type.clone());
    for e in &listing.objects {
        state.apply_listed(&e.object)?;
    }
    let unmet = |v| match v {
        Verdict::Met(m) => Ok(Some(m)),
        Verdict::Unmeetable(why) => Err(Error::Unmeetable(why)),
        Verdict::Pending => Ok(None),
    };
    if let Some(met) = unmet(state.judge()?)? {
        return Ok(Some(met));
    }
    if once {
        return Ok(None);
    }
    let mut watch = listing.watch(client)?;
    // Between resync markers the view is half updated: judged at the end marker only.
    let mut in_resync = false;
    loop {
        let Some(e) = watch.next_event()? else {
            return Err(Error::Transport(format!(
                "the watch of {target} ended before the conditions were met"
            )));
        };
        match e.kind {
            EventType::ResyncStart => in_resync = true,
            EventType::ResyncEnd => in_resync = false,
            EventType::Bookmark => continue,
            EventType::Added | EventType::Modified | EventType::Deleted => {
                state.apply(e.kind, &e.object)?;
            }
        }
        if !in_resync && let Some(met) = unmet(state.judge()?)? {
            return Ok(Some(met));
        }
    }
}
