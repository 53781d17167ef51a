//! TODO: bottle
