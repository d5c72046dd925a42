//! The model IR: what an ONNX graph becomes once loaded, folded and shaped.
//!
//! Why a separate IR: ONNX carries dynamic shapes, constant subgraphs
//! (Shape/Slice/Cast/Concat), BatchNormalization next to convolutions and a
//! dozen spellings of "reshape". The compiler and the exact integer evaluator
//! should see one small, fully static language instead. Every tensor here has
//! a fixed shape, every weight is a float constant inside its op, and nodes
//! are in topological order with a single graph input and a single output.
//!
//! Quantized semantics (the contract the circuit matches bit for bit; see
//! [`crate::model::quant`]): every tensor holds integers `round(x * 2^S)`,
//! `S` = the model's `quant_scale_bits`. Weights and multiplicative constants
//! are quantized at `2^S`, biases and additive terms of products at `2^(2S)`,
//! and a product is brought back to `2^S` by `rescale(a) = floor((a +
//! 2^(S-1)) / 2^S)`.

/// Index into [`Graph::tensors`].
pub type TensorId = usize;

/// A constant tensor (weights, biases, broadcast operands), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Const {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Const {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// 2-D convolution geometry (NCHW input, OIHW weights).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// `[out_channels, in_channels / groups, kh, kw]`.
    pub weight: Const,
    /// `[out_channels]`.
    pub bias: Option<Const>,
    /// `[sh, sw]`.
    pub strides: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// `[dh, dw]`.
    pub dilations: [usize; 2],
    pub groups: usize,
}

/// Pooling window geometry over the two spatial axes of an NCHW tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool2d {
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[sh, sw]`.
    pub strides: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// AveragePool only: divide by the full window even where it overlaps
    /// padding (ONNX `count_include_pad`).
    pub count_include_pad: bool,
}

/// One operation. Shapes of inputs and output are in [`Graph::tensors`].
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `y[.., o] = sum_i x[.., i] * weight[o, i] + bias[o]` over the last
    /// axis. Gemm and MatMul with a constant right operand become this.
    /// `weight` has shape `[out, in]`. Quantized: `rescale(sum q(w) x +
    /// q2(b))`.
    Dense { weight: Const, bias: Option<Const> },
    /// 2-D convolution; BatchNormalization right after a Conv is folded into
    /// it at load time. Quantized like Dense.
    Conv(Conv2d),
    /// Per-channel `y = x * scale[c] + shift[c]` on axis 1 (a BatchNormalization
    /// that could not be folded). Quantized: `rescale(q(scale) x + q2(shift))`.
    ChannelAffine { scale: Const, shift: Const },
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, lo), hi)`; quantized bounds `q(lo)`, `q(hi)`.
    Clip { lo: f32, hi: f32 },
    /// `clip(alpha x + beta, 0, 1)`. Quantized: `clip(rescale(q(alpha) x +
    /// q2(beta)), 0, 2^S)`.
    HardSigmoid { alpha: f32, beta: f32 },
    /// `x * hardsigmoid(x)` with alpha 1/6, beta 1/2. Quantized:
    /// `rescale(x * hs(x))` with `hs` as in HardSigmoid.
    HardSwish,
    /// Max over each window; padded positions never win.
    MaxPool(Pool2d),
    /// Mean over each window. Quantized: `rescale(q(1/count) * sum x)`,
    /// where `count` is the number of cells averaged for that output.
    AveragePool(Pool2d),
    /// Mean over the spatial axes, keeping `[N, C, 1, 1]`. Quantized like
    /// AveragePool with `count = H * W`.
    GlobalAveragePool,
    /// Elementwise `a + b` of two graph tensors, numpy broadcasting. No
    /// rescale: both operands are at `2^S`.
    Add,
    /// Elementwise `a - b`, numpy broadcasting.
    Sub,
    /// Elementwise `a * b` of two graph tensors, numpy broadcasting.
    /// Quantized: `rescale(a * b)`.
    Mul,
    /// `x + c`, constant broadcast to `x`. Quantized: `x + q(c)`.
    AddConst { c: Const },
    /// `x * c`, constant broadcast to `x` (Div by a constant becomes this
    /// with `1 / c`). Quantized: `rescale(q(c) x)`.
    MulConst { c: Const },
    /// Same data, new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity).
    Reshape,
    /// Softmax over `axis` (non-negative, already normalised). Quantized as
    /// documented in [`crate::model::quant`].
    Softmax { axis: usize },
}

impl Op {
    /// Short name for messages and `zkml inspect`.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Dense { .. } => "Dense",
            Op::Conv(_) => "Conv",
            Op::ChannelAffine { .. } => "ChannelAffine",
            Op::Relu => "Relu",
            Op::Clip { .. } => "Clip",
            Op::HardSigmoid { .. } => "HardSigmoid",
            Op::HardSwish => "HardSwish",
            Op::MaxPool(_) => "MaxPool",
            Op::AveragePool(_) => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::AddConst { .. } => "AddConst",
            Op::MulConst { .. } => "MulConst",
            Op::Reshape => "Reshape",
            Op::Softmax { .. } => "Softmax",
        }
    }
}

/// A tensor of the graph: its ONNX name and static shape.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One node: `output = op(inputs...)`. `Add`, `Sub` and `Mul` take two
/// inputs, every other op one.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The ONNX node name (or `op@index` when the file has none), for errors.
    pub name: String,
    pub op: Op,
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
}

/// A static, topologically ordered model graph with one input and one output.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub tensors: Vec<TensorInfo>,
    pub nodes: Vec<Node>,
    pub input: TensorId,
    pub output: TensorId,
}

impl Graph {
    pub fn shape(&self, t: TensorId) -> &[usize] {
        &self.tensors[t].shape
    }

    /// Index of the node that produces tensor `t`, if any.
    pub fn producer(&self, t: TensorId) -> Option<usize> {
        self.nodes.iter().position(|n| n.output == t)
    }

    /// Tensor id by ONNX name.
    pub fn tensor_by_name(&self, name: &str) -> Option<TensorId> {
        self.tensors.iter().position(|t| t.name == name)
    }
}
