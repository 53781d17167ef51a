//! wharf test kit
