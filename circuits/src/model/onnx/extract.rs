//! Standalone `.onnx` files for slices.
//!
//! Why: a slice is handed to miners and checked with ordinary ONNX tooling,
//! so it must be a valid model on its own: its boundary tensor becomes a
//! statically shaped graph input, and only the nodes and initializers the
//! slice needs are kept.

use std::collections::HashSet;

use prost::Message;
use tract_onnx::pb::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, GraphProto, ModelProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use super::{decode, guarded, lower};
use crate::model::ModelError;

fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: shape
                        .iter()
                        .map(|&d| Dimension {
                            denotation: String::new(),
                            value: Some(dimension::Value::DimValue(d as i64)),
                        })
                        .collect(),
                }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// The sub-model computing tensor `to` from tensor `from` (both ONNX tensor
/// names; `from` may be the graph input) as re-encoded ONNX bytes.
pub fn extract_slice(
    bytes: &[u8],
    input_shape: &[usize],
    from: &str,
    to: &str,
) -> Result<Vec<u8>, ModelError> {
    guarded(|| {
        let model = decode(bytes)?;
        let (g, names) = lower::lower_named(&model, input_shape)?;
        let shape_of = |name: &str| {
            names
                .get(name)
                .map(|&t| g.shape(t).to_vec())
                .ok_or_else(|| {
                    ModelError::Other(format!(
                        "'{name}' is not a graph tensor of the model (unknown, constant or unused)"
                    ))
                })
        };
        let from_shape = shape_of(from)?;
        let to_shape = shape_of(to)?;
        let pg = model
            .graph
            .as_ref()
            .ok_or_else(|| ModelError::Parse("model has no graph".into()))?;

        let mut needed: HashSet<&str> = HashSet::from([to]);
        let mut keep = vec![false; pg.node.len()];
        let mut reaches_from = from == to;
        for (i, n) in pg.node.iter().enumerate().rev() {
            if n.output.iter().any(|o| needed.contains(o.as_str())) {
                keep[i] = true;
                for inp in n.input.iter().filter(|s| !s.is_empty()) {
                    if inp == from {
                        reaches_from = true;
                    } else {
                        needed.insert(inp);
                    }
                }
            }
        }
        if !reaches_from {
            return Err(ModelError::Other(format!(
                "'{to}' does not depend on '{from}'"
            )));
        }
        let initializer: Vec<_> = pg
            .initializer
            .iter()
            .filter(|t| needed.contains(t.name.as_str()))
            .cloned()
            .collect();
        let inits: HashSet<&str> = initializer.iter().map(|t| t.name.as_str()).collect();
        if let Some(outside) = pg.input.iter().find(|i| {
            i.name != from && needed.contains(i.name.as_str()) && !inits.contains(i.name.as_str())
        }) {
            return Err(ModelError::Other(format!(
                "slice '{from}' → '{to}' is not self-contained: it also reads '{}'",
                outside.name
            )));
        }
        // A tensor computed before `from` that the slice still needs means
        // the cut is not clean.
        let produced: HashSet<&str> = pg
            .node
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .flat_map(|(n, _)| n.output.iter().map(String::as_str))
            .collect();
        if let Some(missing) = needed
            .iter()
            .find(|t| **t != from && !produced.contains(**t) && !inits.contains(**t))
        {
            return Err(ModelError::Other(format!(
                "slice '{from}' → '{to}' is not self-contained: it also reads '{missing}'"
            )));
        }
        let graph = GraphProto {
            node: pg
                .node
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(n, _)| n.clone())
                .collect(),
            name: format!("{}[{from}..{to}]", pg.name),
            initializer,
            input: vec![value_info(from, &from_shape)],
            output: vec![value_info(to, &to_shape)],
            ..Default::default()
        };
        let out = ModelProto {
            ir_version: model.ir_version,
            opset_import: model.opset_import.clone(),
            producer_name: "circuits::model::onnx::extract_slice".into(),
            graph: Some(graph),
            ..Default::default()
        };
        Ok(out.encode_to_vec())
    })
}
