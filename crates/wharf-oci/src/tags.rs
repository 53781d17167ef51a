//! TODO: tags
