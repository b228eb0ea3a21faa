//! The one place where tch tensors become `nalgebra` matrices, so that the
//! analysis modules never depend on libtorch.
//!
//! ```no_run
//! let t = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).view([2, 2]);
//! let m = grokscope::convert::to_dmatrix(&t).unwrap();
//! assert_eq!(m[(1, 0)], 3.0);
//! ```

use nalgebra::DMatrix;
use tch::{Kind, TchError, Tensor};

/// A 2-D tensor as a `rows × cols` matrix of f64 (row-major read).
///
/// # Errors
/// If the tensor is not 2-D.
pub fn to_dmatrix(t: &Tensor) -> Result<DMatrix<f64>, TchError> {
    let size = t.size();
    if size.len() != 2 {
        return Err(TchError::Shape(format!(
            "expected a 2-D tensor, got shape {size:?}"
        )));
    }
    let data = to_vec(t)?;
    Ok(DMatrix::from_row_slice(
        size[0] as usize,
        size[1] as usize,
        &data,
    ))
}

/// Any tensor's values as f64, in row-major order.
///
/// # Errors
/// libtorch conversion errors.
pub fn to_vec(t: &Tensor) -> Result<Vec<f64>, TchError> {
    let flat = t
        .f_detach()?
        .f_to_kind(Kind::Double)?
        .f_contiguous()?
        .f_flatten(0, -1)?;
    Vec::<f64>::try_from(&flat)
}
