//! TODO: reference
