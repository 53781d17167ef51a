//! One component per file. Leaf components read the DOM and emit plain Rust values.

pub mod bottle_table;
pub mod credentials;
pub mod download_button;
pub mod downloads;
pub mod image_view;
pub mod platform_table;
pub mod problem;
pub mod raw_docs;
pub mod reference_form;
pub mod referrers;
pub mod relay_check;
pub mod settings;
pub mod tags_view;
pub mod unfinished_list;
