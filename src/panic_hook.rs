//! A panic is a bug: report it on the page, not only in the console.

/// Installs a hook that shows the panic message in a banner and logs it to the console.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let message =
            format!("wharf hit a bug and stopped: {info}. Reload the page to start again.");
        web_sys::console::error_1(&message.as_str().into());
        show(&message);
    }));
}

fn show(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(banner) = document.create_element("div") else {
        return;
    };
    banner.set_class_name("notice error");
    banner.set_attribute("role", "alert").ok();
    banner.set_attribute("data-panic", "").ok();
    banner.set_text_content(Some(message));
    if let Some(body) = document.body() {
        let _ = body.prepend_with_node_1(&banner);
    }
}
