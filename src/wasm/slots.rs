//! The zero-parse hand-over of record and context values.
//!
//! JS writes two `f64` per slot into a scratch buffer in wasm memory: a tag and a payload.
//! Tags: 0 null, 1 false, 2 true, 3 number (payload: the number), 4 interned value (payload:
//! its id; strings, or lists and objects interned by their JSON text). Strings cross once, when
//! first interned; after that a decision moves only numbers.

use crate::core::{AttrPath, Attrs, Input, NoAttrs};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;

/// Interned values beyond this many are dropped (the JS side is told to forget its ids too).
const MAX_INTERNED: usize = 1 << 16;

#[derive(Default)]
struct State {
    interned: Vec<Value>,
    scratch: Vec<f64>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    static CODES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Interns a value; returns its id, or `None` when the table was full and has been cleared
/// (then every id handed out before is void).
pub(crate) fn intern(value: Value) -> Option<u32> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.interned.len() >= MAX_INTERNED {
            s.interned.clear();
            return None;
        }
        s.interned.push(value);
        Some(s.interned.len() as u32 - 1)
    })
}

/// Makes room for `len` f64 in the scratch buffer; returns its address in wasm memory.
pub(crate) fn scratch(len: usize) -> usize {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.scratch.len() < len {
            s.scratch.resize(len, 0.0);
        }
        s.scratch.as_ptr() as usize
    })
}

/// Writes `len` codes into the outgoing code buffer; returns its address in wasm memory.
pub(crate) fn write_codes(len: usize, f: impl FnOnce(&mut [u8])) -> usize {
    CODES.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < len {
            c.resize(len, 0);
        }
        f(&mut c[..len]);
        c.as_ptr() as usize
    })
}

/// Decoded slot values, borrowing interned ones.
struct Decoded<'t>(Vec<Cow<'t, Value>>);

impl Attrs for Decoded<'_> {
    fn attr(&self, path: &AttrPath) -> Option<&Value> {
        self.0
            .get(path.slot as usize)
            .map(|c| &**c)
            .filter(|v| !v.is_null())
    }
}

fn decode<'t>(raw: &[f64], interned: &'t [Value]) -> Decoded<'t> {
    Decoded(
        raw.chunks_exact(2)
            .map(|pair| match pair[0] as u8 {
                1 => Cow::Owned(Value::Bool(false)),
                2 => Cow::Owned(Value::Bool(true)),
                3 => Cow::Owned(
                    serde_json::Number::from_f64(pair[1]).map_or(Value::Null, Value::Number),
                ),
                4 => interned
                    .get(pair[1] as usize)
                    .map_or(Cow::Owned(Value::Null), Cow::Borrowed),
                _ => Cow::Owned(Value::Null),
            })
            .collect(),
    )
}

/// Where the record and context are in the scratch buffer, in f64 (`record: None`: no record).
#[derive(Clone, Copy)]
pub(crate) struct Layout {
    pub record: Option<(usize, usize)>,
    pub context: Option<(usize, usize)>,
}

/// Runs `f` with the input decoded from the scratch buffer.
pub(crate) fn with_input<T>(layout: Layout, f: impl FnOnce(Input<'_>) -> T) -> T {
    STATE.with(|s| {
        let s = s.borrow();
        let part = |p: Option<(usize, usize)>| {
            p.and_then(|(at, len)| s.scratch.get(at..at + len))
                .map(|raw| decode(raw, &s.interned))
        };
        let (rec, ctx) = (part(layout.record), part(layout.context));
        f(Input {
            record: rec.as_ref().map(|r| r as &dyn Attrs),
            context: ctx
                .as_ref()
                .map_or(&NoAttrs as &dyn Attrs, |c| c as &dyn Attrs),
        })
    })
}
