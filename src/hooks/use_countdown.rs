//! A countdown in whole seconds (the wait a `Retry-After` asks for), ticking once a second.

use std::cell::Cell;
use std::rc::Rc;

use yew::prelude::*;

use crate::net::js::sleep_ms;

/// Seconds left of `seconds`, counted down from when `seconds` last changed; 0 once it is over.
#[hook]
pub fn use_countdown(seconds: u64) -> u64 {
    let left = use_state(|| seconds);
    {
        let left = left.clone();
        use_effect_with(seconds, move |&seconds| {
            left.set(seconds);
            let live = Rc::new(Cell::new(true));
            let ticking = Rc::clone(&live);
            wasm_bindgen_futures::spawn_local(async move {
                for remaining in (0..seconds).rev() {
                    sleep_ms(1000).await;
                    if !ticking.get() {
                        return;
                    }
                    left.set(remaining);
                }
            });
            move || live.set(false)
        });
    }
    *left
}
