//! `static/worker.js`, the worker's boot script: when the page's module cannot be loaded it must
//! answer with a message the page decodes as `WorkerMessage::Crashed` (the page then fails the
//! worker's jobs instead of waiting for `ready` forever).

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use crate::download::protocol::WorkerMessage;

const BOOT_SCRIPT: &str = include_str!("../../../static/worker.js");

/// Starts the boot script as a module worker, posts it `{ glue, module: null }` and returns the
/// first message it answers.
async fn first_answer(glue: &str) -> String {
    let parts = Array::of1(&JsValue::from_str(BOOT_SCRIPT));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag).expect("blob");
    let url = web_sys::Url::create_object_url_with_blob(&blob).expect("blob url");
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(&url, &options).expect("worker");
    let answered = Promise::new(&mut |resolve, _reject| {
        let on_message = Closure::once_into_js(move |event: web_sys::MessageEvent| {
            let _ = resolve.call1(&JsValue::NULL, &event.data());
        });
        worker.set_onmessage(Some(on_message.unchecked_ref()));
    });
    let boot = Object::new();
    Reflect::set(&boot, &"glue".into(), &JsValue::from_str(glue)).expect("glue");
    Reflect::set(&boot, &"module".into(), &JsValue::NULL).expect("module");
    worker.post_message(&boot).expect("post");
    let answer = JsFuture::from(answered).await.expect("answer");
    worker.terminate();
    let _ = web_sys::Url::revoke_object_url(&url);
    answer
        .as_string()
        .expect("the boot script answers with a string")
}

#[wasm_bindgen_test]
async fn a_glue_that_cannot_load_is_reported_as_a_crash() {
    let glue = "data:text/javascript,throw new Error('no such module')";
    let answer = first_answer(glue).await;
    match WorkerMessage::from_json(&answer) {
        Ok(WorkerMessage::Crashed { message }) => {
            assert!(message.contains("could not start"), "{message}");
            assert!(message.contains("no such module"), "{message}");
        }
        other => panic!("expected a crash report, got {other:?} from {answer}"),
    }
}

#[wasm_bindgen_test]
async fn a_glue_without_an_init_function_is_reported_as_a_crash() {
    let answer = first_answer("data:text/javascript,export const nothing = 1;").await;
    assert!(
        matches!(
            WorkerMessage::from_json(&answer),
            Ok(WorkerMessage::Crashed { .. })
        ),
        "{answer}"
    );
}
