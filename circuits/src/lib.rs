//! circuits
