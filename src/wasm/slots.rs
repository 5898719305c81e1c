//! The zero-parse hand-over of record and context values.
//!
//! JS writes two `f64` per slot into a scratch buffer in wasm memory: a tag and a payload.
//! Tags: 0 null, 1 false, 2 true, 3 number (payload: the number), 4 interned value (payload:
//! its id; strings, or lists and objects interned by their JSON text). Strings cross once, when
//! first interned; after that a decision moves only numbers.

use crate::core::{AttrPath, Attrs, FieldState, Input, NoAttrs};
use crate::prelude::*;
use serde_json::Value;
use spin::mutex::SpinMutex;

/// Interned values beyond this many are dropped (the JS side is told to forget its ids too).
const MAX_INTERNED: usize = 1 << 16;

struct State {
    interned: Vec<Value>,
    scratch: Vec<f64>,
    /// Reused per call: the record's and the context's numbers by slot.
    record_numbers: Vec<Value>,
    context_numbers: Vec<Value>,
}

// The module's buffers (wasm here runs on one thread: the locks are never contended).
static STATE: SpinMutex<State> = SpinMutex::new(State {
    interned: Vec::new(),
    scratch: Vec::new(),
    record_numbers: Vec::new(),
    context_numbers: Vec::new(),
});
static CODES: SpinMutex<Vec<u8>> = SpinMutex::new(Vec::new());
static STATES: SpinMutex<Vec<FieldState>> = SpinMutex::new(Vec::new());

/// Interns a value; returns its id, or `None` when the table was full and has been cleared
/// (then every id handed out before is void).
#[expect(
    clippy::cast_possible_truncation,
    reason = "the table holds at most MAX_INTERNED (2^16) values"
)]
pub(crate) fn intern(value: Value) -> Option<u32> {
    let mut s = STATE.lock();
    if s.interned.len() >= MAX_INTERNED {
        s.interned.clear();
        return None;
    }
    s.interned.push(value);
    Some(s.interned.len() as u32 - 1)
}

/// Makes room for `len` f64 in the scratch buffer; returns its address in wasm memory.
pub(crate) fn scratch(len: usize) -> usize {
    let mut s = STATE.lock();
    if s.scratch.len() < len {
        s.scratch.resize(len, 0.0);
    }
    s.scratch.as_ptr() as usize
}

/// Lets `f` fill `len` field states in a reused buffer, then writes them as codes into the
/// outgoing code buffer; returns its address in wasm memory.
#[expect(
    clippy::indexing_slicing,
    reason = "the buffer was just resized to `len`"
)]
pub(crate) fn write_states(len: usize, f: impl FnOnce(&mut [FieldState])) -> usize {
    let mut states = STATES.lock();
    states.resize(len, FieldState::Hidden);
    f(&mut states[..len]);
    write_codes(len, |codes| {
        for (c, s) in codes.iter_mut().zip(states.iter()) {
            *c = *s as u8;
        }
    })
}

/// Writes `len` codes into the outgoing code buffer; returns its address in wasm memory.
#[expect(
    clippy::indexing_slicing,
    reason = "the buffer was just resized to at least `len`"
)]
pub(crate) fn write_codes(len: usize, f: impl FnOnce(&mut [u8])) -> usize {
    let mut c = CODES.lock();
    if c.len() < len {
        c.resize(len, 0);
    }
    f(&mut c[..len]);
    c.as_ptr() as usize
}

/// Slot values read in place: interned values are borrowed, numbers come from `numbers`
/// (decoded once per call into a reused buffer), so a decision allocates nothing.
struct Decoded<'t> {
    raw: &'t [f64],
    interned: &'t [Value],
    numbers: &'t [Value],
}

static FALSE: Value = Value::Bool(false);
static TRUE: Value = Value::Bool(true);

impl Attrs for Decoded<'_> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "tags and ids come from JS as small integers; `as` saturates anything else, and `get` checks every id"
    )]
    fn attr(&self, path: &AttrPath) -> Option<&Value> {
        let i = path.slot as usize;
        let value = match *self.raw.get(2 * i)? as u8 {
            1 => &FALSE,
            2 => &TRUE,
            3 => self.numbers.get(i)?,
            4 => self.interned.get(*self.raw.get(2 * i + 1)? as usize)?,
            _ => return None,
        };
        (!value.is_null()).then_some(value)
    }
}

/// Writes the numbers among `raw`'s slots into `out` at their slot, for the slots `only` names
/// (all with `None`); other entries are left as they are: a decision reads only the slots its
/// resource's conditions name, so the JS side writes only those, and the rest of the buffer
/// may hold an earlier call's values.
#[expect(
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    reason = "`out` was just resized to the slot count and `i` is a slot; narrowing: tags are small integers; `as` saturates anything else"
)]
fn decode_numbers(raw: &[f64], only: Option<&[u32]>, out: &mut Vec<Value>) {
    let slots = raw.len() / 2;
    if out.len() < slots {
        out.resize(slots, Value::Null);
    }
    let mut one = |i: usize| {
        if let (Some(&tag), Some(&n)) = (raw.get(2 * i), raw.get(2 * i + 1)) {
            if tag as u8 == 3 {
                out[i] = serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number);
            }
        }
    };
    match only {
        Some(slots) => slots.iter().for_each(|&i| one(i as usize)),
        None => (0..slots).for_each(one),
    }
}

/// Where the record and context are in the scratch buffer, in f64 (`record: None`: no record),
/// which record slots the decision reads, and whether any slot holds a number.
#[derive(Clone, Copy)]
pub(crate) struct Layout<'s> {
    pub record: Option<(usize, usize)>,
    pub context: Option<(usize, usize)>,
    pub slots: &'s [u32],
    pub numbers: bool,
}

/// Runs `f` with the input decoded from the scratch buffer.
pub(crate) fn with_input<T>(layout: Layout<'_>, f: impl FnOnce(Input<'_>) -> T) -> T {
    let s = &mut *STATE.lock();
    let raw = |p: Option<(usize, usize)>| p.and_then(|(at, len)| s.scratch.get(at..at + len));
    let (rec, ctx) = (raw(layout.record), raw(layout.context));
    if layout.numbers {
        let (r, c) = (rec.unwrap_or_default(), ctx.unwrap_or_default());
        decode_numbers(r, Some(layout.slots), &mut s.record_numbers);
        decode_numbers(c, None, &mut s.context_numbers);
    }
    let interned = &s.interned;
    let rec = rec.map(|raw| Decoded {
        raw,
        interned,
        numbers: &s.record_numbers,
    });
    let ctx = ctx.map(|raw| Decoded {
        raw,
        interned,
        numbers: &s.context_numbers,
    });
    f(Input {
        record: rec.as_ref().map(|r| r as &dyn Attrs),
        context: ctx
            .as_ref()
            .map_or(&NoAttrs as &dyn Attrs, |c| c as &dyn Attrs),
    })
}
