//! Typed access to ONNX node attributes.
//!
//! Why: attributes arrive as a loosely typed protobuf union; every lowering
//! rule wants "this int, or that default" with an error naming the node when
//! the file lies about a type.

use tract_onnx::pb::{AttributeProto, NodeProto, TensorProto};

use crate::model::ModelError;

/// A node's attributes plus the name used in error messages.
pub(crate) struct Attrs<'a> {
    pub node: &'a NodeProto,
    pub name: &'a str,
}

impl<'a> Attrs<'a> {
    pub fn new(node: &'a NodeProto, name: &'a str) -> Self {
        Self { node, name }
    }

    fn get(&self, key: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == key)
    }

    pub fn invalid(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            node: self.name.to_string(),
            reason: reason.into(),
        }
    }

    pub fn int(&self, key: &str, default: i64) -> i64 {
        self.get(key).map(|a| a.i).unwrap_or(default)
    }

    pub fn float(&self, key: &str, default: f32) -> f32 {
        self.get(key).map(|a| a.f).unwrap_or(default)
    }

    pub fn ints(&self, key: &str) -> Option<&'a [i64]> {
        self.get(key).map(|a| a.ints.as_slice())
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    pub fn tensor(&self, key: &str) -> Option<&'a TensorProto> {
        self.get(key).and_then(|a| a.t.as_ref())
    }

    /// A list of non-negative ints of exactly `len` entries (`default` when
    /// the attribute is absent).
    pub fn usizes(&self, key: &str, len: usize, default: usize) -> Result<Vec<usize>, ModelError> {
        match self.ints(key) {
            None => Ok(vec![default; len]),
            Some(v) if v.len() == len => v
                .iter()
                .map(|&x| {
                    usize::try_from(x)
                        .ok()
                        .filter(|&x| x <= 1 << 20)
                        .ok_or_else(|| self.invalid(format!("attribute {key}: bad value {x}")))
                })
                .collect(),
            Some(v) => Err(self.invalid(format!(
                "attribute {key}: expected {len} values, got {}",
                v.len()
            ))),
        }
    }
}
