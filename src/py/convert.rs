//! JSON bytes ↔ Python objects, in Rust, with no trip through `json.loads` / `json.dumps`.
//!
//! Decoding is a serde `DeserializeSeed` that builds `dict`/`list`/`str`/`int`/`float`/
//! `bool`/`None` as the parser goes, so no intermediate `serde_json::Value` tree is built.
//! Encoding walks the Python object with a `Serialize` impl straight into the output buffer.
//!
//! pydantic-core's `jiter` was measured in this decoder's place (the README's benchmark
//! section has the figures) and cost more instructions per watch event, so this stays.

use std::cell::RefCell;
use std::fmt;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::py::strcache::StrCache;

thread_local! {
    static STRINGS: RefCell<StrCache> = RefCell::new(StrCache::default());
}

/// Builds one Python value from the deserializer (usable as a seed inside other visitors).
/// It carries the thread's string cache, looked up once per document rather than once per
/// string.
#[derive(Clone, Copy)]
pub struct Seed<'py, 'k> {
    py: Python<'py>,
    strings: &'k RefCell<StrCache>,
}

impl<'py> Seed<'py, '_> {
    /// Run `f` with a seed for this thread.
    pub fn with<R>(py: Python<'py>, f: impl for<'k> FnOnce(Seed<'py, 'k>) -> R) -> R {
        STRINGS.with(|strings| f(Seed { py, strings }))
    }
}

use Seed as PySeed;

fn py_err<E: de::Error>(e: PyErr) -> E {
    E::custom(e)
}

impl<'de, 'py> DeserializeSeed<'de> for PySeed<'py, '_> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A dict key straight from the parser's `&str` (borrowed from the input, or from its scratch
/// buffer when the key has escapes) to the cached Python string: no Rust `String` per key.
struct KeySeed<'py, 'k>(Seed<'py, 'k>);

impl<'de, 'py> DeserializeSeed<'de> for KeySeed<'py, '_> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for KeySeed<'py, '_> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<Self::Value, E> {
        Ok(self.0.strings.borrow_mut().get(self.0.py, k))
    }
}

impl<'de, 'py> Visitor<'de> for PySeed<'py, '_> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let Ok(i) = v.into_pyobject(self.py);
        Ok(i.into_any())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let Ok(i) = v.into_pyobject(self.py);
        Ok(i.into_any())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.py, v).into_any())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.strings.borrow_mut().get(self.py, v).into_any())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.py);
        while let Some(v) = seq.next_element_seed(self)? {
            list.append(v).map_err(py_err)?;
        }
        Ok(list.into_any())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(k) = map.next_key_seed(KeySeed(self))? {
            let v = map.next_value_seed(self)?;
            dict.set_item(k, v).map_err(py_err)?;
        }
        Ok(dict.into_any())
    }
}

/// Parse JSON bytes into Python objects. Errors name the position.
pub fn loads<'py>(py: Python<'py>, bytes: &[u8]) -> Result<Bound<'py, PyAny>, serde_json::Error> {
    // One UTF-8 check of the whole buffer is cheaper than serde_json's check of every string.
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let v = PySeed::with(py, |seed| seed.deserialize(&mut de))?;
            de.end()?;
            Ok(v)
        }
        Err(_) => {
            // Let serde_json find and report the bad byte's position.
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let v = PySeed::with(py, |seed| seed.deserialize(&mut de))?;
            de.end()?;
            Ok(v)
        }
    }
}

/// A Python object seen as JSON.
struct PyJson<'a, 'py>(&'a Bound<'py, PyAny>, u32);

/// Containers nested deeper than this are refused (a cycle would otherwise recurse forever).
const MAX_DEPTH: u32 = 256;

fn ser_err<E: ser::Error>(msg: impl fmt::Display) -> E {
    E::custom(msg)
}

impl Serialize for PyJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (o, depth) = (self.0, self.1);
        if depth > MAX_DEPTH {
            return Err(ser_err(
                "nested too deeply (or a container contains itself)",
            ));
        }
        if o.is_none() {
            s.serialize_unit()
        } else if let Ok(b) = o.cast::<PyBool>() {
            s.serialize_bool(b.is_true())
        } else if let Ok(i) = o.cast::<PyInt>() {
            if let Ok(v) = i.extract::<i64>() {
                s.serialize_i64(v)
            } else if let Ok(v) = i.extract::<u64>() {
                s.serialize_u64(v)
            } else {
                Err(ser_err("an int does not fit in 64 bits"))
            }
        } else if let Ok(f) = o.cast::<PyFloat>() {
            let v = f.value();
            if v.is_finite() {
                s.serialize_f64(v)
            } else {
                Err(ser_err("NaN and infinity are not JSON"))
            }
        } else if let Ok(st) = o.cast::<PyString>() {
            s.serialize_str(&st.to_cow().map_err(ser_err)?)
        } else if let Ok(d) = o.cast::<PyDict>() {
            let mut m = s.serialize_map(Some(d.len()))?;
            for (k, v) in d.iter() {
                let k = k
                    .cast::<PyString>()
                    .map_err(|_| ser_err("dict keys must be str"))?;
                m.serialize_entry(&*k.to_cow().map_err(ser_err)?, &PyJson(&v, depth + 1))?;
            }
            m.end()
        } else if o.is_instance_of::<PyList>() || o.is_instance_of::<PyTuple>() {
            let len = o.len().map_err(ser_err)?;
            let mut seq = s.serialize_seq(Some(len))?;
            for item in o.try_iter().map_err(ser_err)? {
                seq.serialize_element(&PyJson(&item.map_err(ser_err)?, depth + 1))?;
            }
            seq.end()
        } else {
            let t = o
                .get_type()
                .name()
                .map_or_else(|_| "?".to_string(), |n| n.to_string());
            Err(ser_err(format!("an object of type {t} is not JSON")))
        }
    }
}

/// Encode a Python object as JSON bytes. Errors are `TypeError`/`ValueError` naming the problem.
pub fn dumps(o: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    match PyJson(o, 0).serialize(&mut serde_json::Serializer::new(&mut out)) {
        Ok(()) => Ok(out),
        Err(e) => {
            let msg = format!("json= cannot be encoded: {e}");
            if msg.contains("NaN") || msg.contains("64 bits") {
                Err(PyValueError::new_err(msg))
            } else {
                Err(PyTypeError::new_err(msg))
            }
        }
    }
}
