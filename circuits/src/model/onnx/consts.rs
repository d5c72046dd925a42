//! Constant tensors met while loading: initializers, `Constant` nodes and
//! everything folded from them.
//!
//! Why: exporters compute shapes at run time (Shape → Slice → Cast → Concat →
//! Reshape). Once the input shape is pinned those chains are constants, and
//! folding them here is what leaves a fully static graph behind. Integers are
//! kept as `i64` so that shape values such as `INT64_MAX` survive untouched.

use tract_onnx::pb::{tensor_proto::DataType, TensorProto};

use crate::model::ModelError;

/// Largest tensor (in elements) the loader accepts anywhere.
pub const MAX_ELEMENTS: usize = 1 << 26;

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    F(Vec<f32>),
    I(Vec<i64>),
}

/// A constant tensor, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct CTensor {
    pub shape: Vec<usize>,
    pub data: Data,
}

/// Product of dims, refusing overflow and tensors above [`MAX_ELEMENTS`].
pub fn checked_len(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// `raw` must hold exactly `n` values of `width` bytes.
fn check_raw(name: &str, raw: &[u8], width: usize, n: usize) -> Result<(), ModelError> {
    if raw.len() == n.saturating_mul(width) {
        Ok(())
    } else {
        Err(parse_err(
            name,
            format!("{} raw bytes for {n} values", raw.len()),
        ))
    }
}

fn parse_err(name: &str, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Parse(format!("tensor '{name}': {reason}"))
}

impl CTensor {
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Self {
        Self {
            shape,
            data: Data::F(data),
        }
    }

    pub fn i64(shape: Vec<usize>, data: Vec<i64>) -> Self {
        Self {
            shape,
            data: Data::I(data),
        }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::F(v) => v.len(),
            Data::I(v) => v.len(),
        }
    }

    /// Values as floats (integers converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            Data::F(v) => v.clone(),
            Data::I(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// Values as integers (floats truncated toward zero, as ONNX Cast does).
    pub fn to_i64(&self) -> Vec<i64> {
        match &self.data {
            Data::F(v) => v.iter().map(|&x| x as i64).collect(),
            Data::I(v) => v.clone(),
        }
    }

    /// Decode an initializer or a `Constant` value.
    pub fn from_proto(t: &TensorProto) -> Result<Self, ModelError> {
        let name = t.name.as_str();
        if t.data_location == Some(1) || !t.external_data.is_empty() {
            return Err(parse_err(name, "external data is not supported"));
        }
        let mut shape = Vec::with_capacity(t.dims.len());
        for &d in &t.dims {
            let d = usize::try_from(d).map_err(|_| parse_err(name, format!("negative dim {d}")))?;
            shape.push(d);
        }
        let n = checked_len(&shape).ok_or_else(|| parse_err(name, "too many elements"))?;
        let raw = &t.raw_data;
        let dt = DataType::try_from(t.data_type)
            .map_err(|_| parse_err(name, format!("unknown data type {}", t.data_type)))?;
        let check = |got: usize| {
            if got == n {
                Ok(())
            } else {
                Err(parse_err(name, format!("{got} values for shape {shape:?}")))
            }
        };
        let data = match dt {
            DataType::Float => {
                if !raw.is_empty() {
                    check_raw(name, raw, 4, n)?;
                    Data::F(
                        raw.chunks_exact(4)
                            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                            .collect(),
                    )
                } else {
                    check(t.float_data.len())?;
                    Data::F(t.float_data.clone())
                }
            }
            DataType::Double => {
                if !raw.is_empty() {
                    check_raw(name, raw, 8, n)?;
                    Data::F(
                        raw.chunks_exact(8)
                            .map(|c| {
                                let mut b = [0u8; 8];
                                b.copy_from_slice(c);
                                f64::from_le_bytes(b) as f32
                            })
                            .collect(),
                    )
                } else {
                    check(t.double_data.len())?;
                    Data::F(t.double_data.iter().map(|&x| x as f32).collect())
                }
            }
            DataType::Int64 => {
                if !raw.is_empty() {
                    check_raw(name, raw, 8, n)?;
                    Data::I(
                        raw.chunks_exact(8)
                            .map(|c| {
                                let mut b = [0u8; 8];
                                b.copy_from_slice(c);
                                i64::from_le_bytes(b)
                            })
                            .collect(),
                    )
                } else {
                    check(t.int64_data.len())?;
                    Data::I(t.int64_data.clone())
                }
            }
            DataType::Int32 => {
                if !raw.is_empty() {
                    check_raw(name, raw, 4, n)?;
                    Data::I(
                        raw.chunks_exact(4)
                            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                            .collect(),
                    )
                } else {
                    check(t.int32_data.len())?;
                    Data::I(t.int32_data.iter().map(|&x| x as i64).collect())
                }
            }
            other => {
                return Err(parse_err(
                    name,
                    format!("unsupported data type {}", other.as_str_name()),
                ))
            }
        };
        Ok(Self { shape, data })
    }

    /// Same data, new shape (caller checked the element count).
    pub fn reshaped(mut self, shape: Vec<usize>) -> Self {
        self.shape = shape;
        self
    }

    /// Take elements by flat index (used by Gather, Slice and Concat).
    fn pick(&self, idx: &[usize], shape: Vec<usize>) -> Self {
        let data = match &self.data {
            Data::F(v) => Data::F(idx.iter().map(|&i| v[i]).collect()),
            Data::I(v) => Data::I(idx.iter().map(|&i| v[i]).collect()),
        };
        Self { shape, data }
    }

    /// ONNX Gather along `axis` with constant indices.
    pub fn gather(&self, axis: usize, indices: &CTensor) -> Result<Self, String> {
        let rank = self.shape.len();
        if axis >= rank {
            return Err(format!("axis {axis} out of range for rank {rank}"));
        }
        let dim = self.shape[axis] as i64;
        let idx: Vec<usize> = indices
            .to_i64()
            .into_iter()
            .map(|i| {
                let j = if i < 0 { i + dim } else { i };
                if (0..dim).contains(&j) {
                    Ok(j as usize)
                } else {
                    Err(format!("index {i} out of range for dim {dim}"))
                }
            })
            .collect::<Result<_, _>>()?;
        let outer: usize = self.shape[..axis].iter().product();
        let inner: usize = self.shape[axis + 1..].iter().product();
        let mut out_shape = self.shape[..axis].to_vec();
        out_shape.extend_from_slice(&indices.shape);
        out_shape.extend_from_slice(&self.shape[axis + 1..]);
        checked_len(&out_shape).ok_or("result too large")?;
        let mut flat = Vec::with_capacity(outer * idx.len() * inner);
        for o in 0..outer {
            for &j in &idx {
                let base = (o * self.shape[axis] + j) * inner;
                flat.extend(base..base + inner);
            }
        }
        Ok(self.pick(&flat, out_shape))
    }

    /// ONNX Slice with resolved per-axis (start, end, step); unlisted axes whole.
    pub fn slice(
        &self,
        axes: &[usize],
        starts: &[i64],
        ends: &[i64],
        steps: &[i64],
    ) -> Result<Self, String> {
        let rank = self.shape.len();
        let mut ranges: Vec<Vec<usize>> = self.shape.iter().map(|&d| (0..d).collect()).collect();
        for (k, &ax) in axes.iter().enumerate() {
            if ax >= rank {
                return Err(format!("axis {ax} out of range"));
            }
            let d = self.shape[ax] as i64;
            let step = steps[k];
            if step == 0 {
                return Err("step 0".into());
            }
            let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
            let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let mut sel = Vec::new();
            if step > 0 {
                let s = clamp(norm(starts[k]), 0, d);
                let e = clamp(norm(ends[k]), 0, d);
                let mut i = s;
                while i < e {
                    sel.push(i as usize);
                    i += step;
                }
            } else {
                let s = clamp(norm(starts[k]), -1, d - 1);
                let e = clamp(norm(ends[k]), -1, d - 1);
                let mut i = s;
                while i > e {
                    sel.push(i as usize);
                    i += step;
                }
            }
            ranges[ax] = sel;
        }
        let out_shape: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
        let n = checked_len(&out_shape).ok_or("result too large")?;
        let mut strides = vec![1usize; rank];
        for i in (0..rank.saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * self.shape[i + 1];
        }
        let mut flat = Vec::with_capacity(n);
        let mut counter = vec![0usize; rank];
        for _ in 0..n {
            flat.push((0..rank).map(|i| ranges[i][counter[i]] * strides[i]).sum());
            for i in (0..rank).rev() {
                counter[i] += 1;
                if counter[i] < out_shape[i] {
                    break;
                }
                counter[i] = 0;
            }
        }
        Ok(self.pick(&flat, out_shape))
    }

    /// ONNX Concat of constants along `axis`.
    pub fn concat(parts: &[CTensor], axis: usize) -> Result<Self, String> {
        let first = parts.first().ok_or("no inputs")?;
        let rank = first.shape.len();
        if axis >= rank {
            return Err(format!("axis {axis} out of range"));
        }
        let mut out_shape = first.shape.clone();
        out_shape[axis] = 0;
        for p in parts {
            if p.shape.len() != rank || (0..rank).any(|i| i != axis && p.shape[i] != first.shape[i])
            {
                return Err(format!(
                    "mismatched shapes {:?} and {:?}",
                    first.shape, p.shape
                ));
            }
            out_shape[axis] += p.shape[axis];
        }
        checked_len(&out_shape).ok_or("result too large")?;
        let outer: usize = first.shape[..axis].iter().product();
        let inner: usize = first.shape[axis + 1..].iter().product();
        let ints = parts.iter().all(|p| matches!(p.data, Data::I(_)));
        let mut f = Vec::new();
        let mut i = Vec::new();
        for o in 0..outer {
            for p in parts {
                let chunk = p.shape[axis] * inner;
                if ints {
                    i.extend_from_slice(&p.to_i64()[o * chunk..(o + 1) * chunk]);
                } else {
                    f.extend_from_slice(&p.to_f32()[o * chunk..(o + 1) * chunk]);
                }
            }
        }
        Ok(if ints {
            Self::i64(out_shape, i)
        } else {
            Self::f32(out_shape, f)
        })
    }

    /// Elementwise binary op with numpy broadcasting; integer arithmetic
    /// when both sides are integers.
    pub fn binary(&self, other: &CTensor, op: &str) -> Result<Self, String> {
        let shape = broadcast_shape(&self.shape, &other.shape)
            .ok_or_else(|| format!("cannot broadcast {:?} with {:?}", self.shape, other.shape))?;
        checked_len(&shape).ok_or("result too large")?;
        let ia = broadcast_index(&self.shape, &shape);
        let ib = broadcast_index(&other.shape, &shape);
        match (&self.data, &other.data) {
            (Data::I(a), Data::I(b)) => {
                let f = |x: i64, y: i64| -> Result<i64, String> {
                    match op {
                        "Add" => Ok(x.wrapping_add(y)),
                        "Sub" => Ok(x.wrapping_sub(y)),
                        "Mul" => Ok(x.wrapping_mul(y)),
                        "Div" => x
                            .checked_div(y)
                            .ok_or_else(|| "integer division by zero".to_string()),
                        _ => Err(format!("op {op}")),
                    }
                };
                let v = ia
                    .iter()
                    .zip(&ib)
                    .map(|(&i, &j)| f(a[i], b[j]))
                    .collect::<Result<_, _>>()?;
                Ok(Self::i64(shape, v))
            }
            _ => {
                let a = self.to_f32();
                let b = other.to_f32();
                let v = ia
                    .iter()
                    .zip(&ib)
                    .map(|(&i, &j)| match op {
                        "Add" => a[i] + b[j],
                        "Sub" => a[i] - b[j],
                        "Mul" => a[i] * b[j],
                        _ => a[i] / b[j],
                    })
                    .collect();
                Ok(Self::f32(shape, v))
            }
        }
    }
}

/// Numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

/// For every element of `out` (row-major), the flat index into a tensor of
/// shape `from` broadcast to `out`. `from` must broadcast to `out`.
pub fn broadcast_index(from: &[usize], out: &[usize]) -> Vec<usize> {
    let rank = out.len();
    let off = rank - from.len();
    let mut strides = vec![0usize; rank];
    let mut s = 1;
    for i in (0..from.len()).rev() {
        strides[i + off] = if from[i] == 1 { 0 } else { s };
        s *= from[i];
    }
    let n: usize = out.iter().product();
    let mut idx = Vec::with_capacity(n);
    let mut counter = vec![0usize; rank];
    let mut cur = 0usize;
    for _ in 0..n {
        idx.push(cur);
        for i in (0..rank).rev() {
            counter[i] += 1;
            cur += strides[i];
            if counter[i] < out[i] {
                break;
            }
            cur -= strides[i] * out[i];
            counter[i] = 0;
        }
    }
    idx
}
