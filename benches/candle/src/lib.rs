//! The matgrad benchmark workloads written with candle-core tensors, their gradients
//! taken by candle's tape (`Tensor::backward`): the runtime-autodiff alternative that
//! BENCHMARKS.md compares matgrad's generated gradients with.
//!
//! The inputs are those of `benches/workloads.rs` (the same seeded generator, included
//! from `benches/common/data.rs`), converted once to row-major candle tensors.
//! `ln_det(X) − tr(S X)` has no candle version: candle-core has no determinant,
//! factorisation or inverse.

use candle_core::{DType, Device, Result, Tensor, Var};
use nalgebra::{DMatrix, DVector, RowDVector};

/// The seeded inputs shared with `benches/workloads.rs`.
#[path = "../../common/data.rs"]
pub mod data;

/// A row-major candle tensor with the entries of `m`.
pub fn tensor(m: &DMatrix<f64>) -> Result<Tensor> {
    Tensor::from_vec(m.transpose().as_slice().to_vec(), m.shape(), &Device::Cpu)
}

/// An `n×1` tensor.
pub fn column(v: &DVector<f64>) -> Result<Tensor> {
    Tensor::from_vec(v.as_slice().to_vec(), (v.len(), 1), &Device::Cpu)
}

/// A `1×n` tensor.
pub fn row(v: &RowDVector<f64>) -> Result<Tensor> {
    Tensor::from_vec(v.as_slice().to_vec(), (1, v.len()), &Device::Cpu)
}

/// A trainable variable holding `t`.
pub fn var(t: &Tensor) -> Result<Var> {
    Var::from_tensor(t)
}

/// The entries of a 2-D tensor in nalgebra's column-major order, for comparisons.
pub fn column_major(t: &Tensor) -> Result<Vec<f64>> {
    let rows = t.to_vec2::<f64>()?;
    let (r, c) = t.dims2()?;
    Ok((0..c)
        .flat_map(|j| (0..r).map(move |i| (i, j)))
        .map(|(i, j)| rows[i][j])
        .collect())
}

/// A loss value and one gradient per variable, in the order of the variables.
pub struct Output {
    /// the loss
    pub value: Tensor,
    /// the gradients
    pub grads: Vec<Tensor>,
}

fn backward(value: Tensor, vars: &[&Var]) -> Result<Output> {
    let store = value.backward()?;
    let grads = vars
        .iter()
        .map(|v| {
            store
                .get(v.as_tensor())
                .cloned()
                .ok_or_else(|| candle_core::Error::Msg("no gradient".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Output { value, grads })
}

/// `‖tanh(X W1) W2 − Y‖²`: constants x, y; variables w1, w2.
pub struct TwoLayer {
    /// batch × inputs
    pub x: Tensor,
    /// inputs × hidden
    pub w1: Var,
    /// hidden × outputs
    pub w2: Var,
    /// batch × outputs
    pub y: Tensor,
}

impl TwoLayer {
    /// The candle version of the inputs.
    pub fn new(p: &data::TwoLayer) -> Result<Self> {
        Ok(TwoLayer {
            x: tensor(&p.x)?,
            w1: var(&tensor(&p.w1)?)?,
            w2: var(&tensor(&p.w2)?)?,
            y: tensor(&p.y)?,
        })
    }

    /// The loss and (dw1, dw2).
    pub fn grad(&self) -> Result<Output> {
        let h = self.x.matmul(self.w1.as_tensor())?.tanh()?;
        let value = (h.matmul(self.w2.as_tensor())? - &self.y)?
            .sqr()?
            .sum_all()?;
        backward(value, &[&self.w1, &self.w2])
    }
}

/// The MLP classifier: softmax cross-entropy (summed over rows) of
/// `relu(x w1 + b1) w2 + b2`; variables w1, b1, w2, b2.
pub struct Mlp {
    /// batch × 64
    pub x: Tensor,
    /// 64 × 128
    pub w1: Var,
    /// 1 × 128
    pub b1: Var,
    /// 128 × 10
    pub w2: Var,
    /// 1 × 10
    pub b2: Var,
    /// batch × 10, one-hot
    pub y: Tensor,
}

impl Mlp {
    /// The candle version of the inputs.
    pub fn new(p: &data::Mlp) -> Result<Self> {
        Ok(Mlp {
            x: tensor(&p.x)?,
            w1: var(&tensor(&p.w1)?)?,
            b1: var(&row(&p.b1)?)?,
            w2: var(&tensor(&p.w2)?)?,
            b2: var(&row(&p.b2)?)?,
            y: tensor(&p.y)?,
        })
    }

    /// The loss and (dw1, db1, dw2, db2).
    pub fn grad(&self) -> Result<Output> {
        let h = self
            .x
            .matmul(self.w1.as_tensor())?
            .broadcast_add(self.b1.as_tensor())?
            .relu()?;
        let z = h
            .matmul(self.w2.as_tensor())?
            .broadcast_add(self.b2.as_tensor())?;
        // log softmax by rows; the shift by the row max is a constant for the gradient.
        let shifted = z.broadcast_sub(&z.max_keepdim(1)?.detach())?;
        let lse = shifted.exp()?.sum_keepdim(1)?.log()?;
        let log_softmax = shifted.broadcast_sub(&lse)?;
        let value = (&self.y * log_softmax)?.sum_all()?.neg()?;
        backward(value, &[&self.w1, &self.b1, &self.w2, &self.b2])
    }
}

/// Least squares `‖X w − y‖²` and logistic regression
/// `Σ softplus(−y ⊙ X w) + λ ‖w‖²`; variable w (d × 1).
pub struct Regression {
    /// samples × features
    pub x: Tensor,
    /// features × 1
    pub w: Var,
    /// samples × 1
    pub y: Tensor,
    /// the ridge weight
    pub lambda: f64,
}

impl Regression {
    /// The candle version of the inputs.
    pub fn new(p: &data::Regression) -> Result<Self> {
        Ok(Regression {
            x: tensor(&p.x)?,
            w: var(&column(&p.w)?)?,
            y: column(&p.y)?,
            lambda: p.lambda,
        })
    }

    /// The least-squares loss and dw.
    pub fn least_squares(&self) -> Result<Output> {
        let value = (self.x.matmul(self.w.as_tensor())? - &self.y)?
            .sqr()?
            .sum_all()?;
        backward(value, &[&self.w])
    }

    /// The logistic-regression loss and dw, with the stable
    /// `softplus(t) = relu(t) + ln(1 + e^−|t|)`.
    pub fn logistic(&self) -> Result<Output> {
        let t = (self.x.matmul(self.w.as_tensor())? * &self.y)?.neg()?;
        let softplus = (t.relu()? + t.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?;
        let ridge = (self.w.as_tensor().sqr()?.sum_all()? * self.lambda)?;
        let value = (softplus.sum_all()? + ridge)?;
        backward(value, &[&self.w])
    }
}

/// `tr(A X B)`, the trace as the sum of the product masked by the identity (candle-core
/// has no diagonal or trace); variable x.
pub struct TraceAxb {
    /// n × n
    pub a: Tensor,
    /// n × n
    pub x: Var,
    /// n × n
    pub b: Tensor,
    /// the n × n identity
    pub eye: Tensor,
}

impl TraceAxb {
    /// The candle version of the inputs.
    pub fn new(p: &data::TraceAxb) -> Result<Self> {
        Ok(TraceAxb {
            a: tensor(&p.a)?,
            x: var(&tensor(&p.x)?)?,
            b: tensor(&p.b)?,
            eye: Tensor::eye(p.a.nrows(), DType::F64, &Device::Cpu)?,
        })
    }

    /// The loss and dx.
    pub fn grad(&self) -> Result<Output> {
        let p = self.a.matmul(self.x.as_tensor())?.matmul(&self.b)?;
        let value = (p * &self.eye)?.sum_all()?;
        backward(value, &[&self.x])
    }
}

/// Dictionary learning `‖X − D R‖² + λ ‖R‖²`; variables d, r.
pub struct Dictionary {
    /// signal length × signals
    pub x: Tensor,
    /// signal length × atoms
    pub d: Var,
    /// atoms × signals
    pub r: Var,
    /// the ridge weight
    pub lambda: f64,
}

impl Dictionary {
    /// The candle version of the inputs.
    pub fn new(p: &data::Dictionary) -> Result<Self> {
        Ok(Dictionary {
            x: tensor(&p.x)?,
            d: var(&tensor(&p.d)?)?,
            r: var(&tensor(&p.r)?)?,
            lambda: p.lambda,
        })
    }

    /// The loss and (dd, dr).
    pub fn grad(&self) -> Result<Output> {
        let (d, r) = (self.d.as_tensor(), self.r.as_tensor());
        let fit = (&self.x - d.matmul(r)?)?.sqr()?.sum_all()?;
        let value = (fit + (r.sqr()?.sum_all()? * self.lambda)?)?;
        backward(value, &[&self.d, &self.r])
    }
}
