//! The page's entry point.

fn main() {
    wharf::panic_hook::install();
    yew::Renderer::<wharf::app::App>::new().render();
}
