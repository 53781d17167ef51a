//! The root component: holds the reducer, wires hooks to components.

use std::rc::Rc;

use wharf_oci::auth::{Credentials as Creds, Secret};
use wharf_oci::{Digest, Reference};
use yew::prelude::*;

mod saves;

use crate::components::bottle_table::BottleTable;
use crate::components::credentials::{Credentials, Entered};
use crate::components::downloads::Downloads as DownloadList;
use crate::components::image_view::Image;
use crate::components::platform_table::PlatformTable;
use crate::components::problem::ProblemNotice;
use crate::components::raw_docs::RawDocs;
use crate::components::reference_form::ReferenceForm;
use crate::components::referrers::Referrers;
use crate::components::relay_check::RelayCheckPanel;
use crate::components::settings::Settings;
use crate::components::tags_view::Tags;
use crate::components::unfinished_list::UnfinishedList;
use crate::download::StartDownload;
use crate::hooks::use_downloads::{use_downloads, Downloads};
use crate::hooks::use_registry::{use_registry, Registry};
use crate::hooks::use_relay_setting::{use_relay_setting, RelaySetting};
use crate::hooks::use_unfinished::{self, use_unfinished};
use crate::hooks::use_url_state::{self, use_popstate, UrlState};
use crate::referrers::Found;
use crate::state::{Action, State, View};
use crate::view::{Blob, BottleRow, Looked, LookedKind, Remedy};
use saves::{check_blobs, export_image, export_platforms};

/// Which side panel is open.
#[derive(Debug, Clone, PartialEq, Default)]
enum Panel {
    #[default]
    None,
    Settings,
    Credentials {
        host: String,
    },
}

/// What the handlers need, cloned into each callback.
#[derive(Clone, PartialEq)]
struct Ctx {
    state: UseReducerHandle<State>,
    registry: Registry,
    downloads: Downloads,
    relay: RelaySetting,
    panel: UseStateHandle<Panel>,
    known_hosts: UseStateHandle<Vec<String>>,
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    let (relay, save_relay) = use_relay_setting();
    let registry = use_registry(state.dispatcher(), relay.template.clone());
    let downloads = use_downloads(state.dispatcher());
    use_unfinished(state.dispatcher());
    let panel = use_state(Panel::default);
    let known_hosts = use_state(Vec::<String>::new);
    let ctx = Ctx {
        state,
        registry,
        downloads,
        relay,
        panel,
        known_hosts,
    };
    {
        let registry = ctx.registry.clone();
        use_effect_with((), move |_| registry.open(use_url_state::current(), false));
    }
    {
        let registry = ctx.registry.clone();
        use_popstate(Callback::from(move |url| registry.open(url, false)));
    }
    html! {
        <>
            { header(&ctx) }
            <main>
                { form(&ctx) }
                { problem(&ctx) }
                { side_panel(&ctx, save_relay) }
                { unfinished_list(&ctx) }
                { download_list(&ctx) }
                { view(&ctx) }
            </main>
        </>
    }
}

fn header(ctx: &Ctx) -> Html {
    let toggle = |target: Panel| {
        let panel = ctx.panel.clone();
        Callback::from(move |_| {
            panel.set(if *panel == target {
                Panel::None
            } else {
                target.clone()
            })
        })
    };
    let host = current_host(ctx);
    html! {
        <header class="top">
            <h1>{ "wharf" }</h1>
            <p>{ "Verified files from container registries, in your browser" }</p>
            <nav>
                <button class="small" onclick={toggle(Panel::Credentials { host })}>{ "Credentials" }</button>
                <button class="small" onclick={toggle(Panel::Settings)}>{ "Relay" }</button>
            </nav>
        </header>
    }
}

fn current_host(ctx: &Ctx) -> String {
    match &ctx.state.view {
        View::Loading { reference } => reference.registry().to_owned(),
        View::Looked(l) => l.reference.registry().to_owned(),
        View::Tags(t) => t.reference.registry().to_owned(),
        View::Start => ctx
            .state
            .input
            .trim()
            .parse::<wharf_oci::Reference>()
            .map(|r| r.registry().to_owned())
            .unwrap_or_default(),
    }
}

fn form(ctx: &Ctx) -> Html {
    let open = |tags: bool| {
        let registry = ctx.registry.clone();
        Callback::from(move |text: String| {
            registry.open(
                UrlState {
                    reference: Some(text.trim().to_owned()),
                    tags,
                    ..UrlState::default()
                },
                true,
            )
        })
    };
    let dispatch = ctx.state.dispatcher();
    html! {
        <ReferenceForm value={ctx.state.input.clone()} error={ctx.state.input_error.clone()}
            busy={matches!(ctx.state.view, View::Loading { .. })}
            on_input={Callback::from(move |t| dispatch.dispatch(Action::Input(t)))}
            on_lookup={open(false)} on_tags={open(true)} />
    }
}

fn problem(ctx: &Ctx) -> Html {
    let Some(problem) = ctx.state.error.clone() else {
        return html! {};
    };
    let dispatch = ctx.state.dispatcher();
    let on_remedy = {
        let ctx = ctx.clone();
        Callback::from(move |remedy: Remedy| match remedy {
            Remedy::Credentials { host } => ctx.panel.set(Panel::Credentials { host }),
            Remedy::RelaySettings => ctx.panel.set(Panel::Settings),
            Remedy::Tags => {
                let reference = Some(ctx.state.input.clone());
                ctx.registry.open(
                    UrlState {
                        reference,
                        tags: true,
                        ..UrlState::default()
                    },
                    true,
                );
            }
            // The registry asked to wait; once it is over, the same view again.
            Remedy::Wait { .. } => ctx.registry.open(use_url_state::current(), false),
            Remedy::Nothing => {}
        })
    };
    html! {
        <ProblemNotice {problem} {on_remedy} on_dismiss={Callback::from(move |_| dispatch.dispatch(Action::DismissError))} />
    }
}

fn side_panel(ctx: &Ctx, save_relay: Callback<String>) -> Html {
    match &*ctx.panel {
        Panel::None => html! {},
        Panel::Settings => html! {
            <Settings template={ctx.relay.text.clone()} default_template={ctx.relay.default_text.clone()}
                error={ctx.relay.error.clone()} on_save={save_relay} />
        },
        Panel::Credentials { host } => credentials_panel(ctx, host),
    }
}

fn credentials_panel(ctx: &Ctx, host: &str) -> Html {
    let on_save = {
        let ctx = ctx.clone();
        Callback::from(move |e: Entered| {
            let creds = if e.username.is_empty() {
                Creds::token(Secret::new(e.secret))
            } else {
                Creds::user_password(e.username, Secret::new(e.secret))
            };
            let Ok(creds) = creds else { return };
            ctx.registry.client.set_credentials(&e.host, Some(creds));
            let mut known = (*ctx.known_hosts).clone();
            if !known.contains(&e.host) {
                known.push(e.host.clone());
            }
            ctx.known_hosts.set(known);
            ctx.panel.set(Panel::None);
            // Try again what needed the credentials.
            ctx.registry.open(use_url_state::current(), false);
        })
    };
    let on_forget = {
        let ctx = ctx.clone();
        Callback::from(move |host: String| {
            ctx.registry.client.set_credentials(&host, None);
            ctx.known_hosts.set(
                ctx.known_hosts
                    .iter()
                    .filter(|h| **h != host)
                    .cloned()
                    .collect(),
            );
        })
    };
    html! { <Credentials host={host.to_owned()} known={(*ctx.known_hosts).clone()} {on_save} {on_forget} /> }
}

fn view(ctx: &Ctx) -> Html {
    match &ctx.state.view {
        View::Start => html! {},
        View::Loading { reference } => html! {
            <section class="panel" data-view="loading"><p>{ format!("Looking up {reference}…") }</p></section>
        },
        View::Tags(tags) => {
            let registry = ctx.registry.clone();
            let reference = tags.reference.clone();
            let on_choose = Callback::from(move |tag: String| {
                let text = reference
                    .with_tag(&tag)
                    .map(|r| r.to_string())
                    .unwrap_or(tag);
                registry.open(
                    UrlState {
                        reference: Some(text),
                        ..UrlState::default()
                    },
                    true,
                );
            });
            let registry = ctx.registry.clone();
            let on_more = Callback::from(move |()| registry.more_tags());
            html! { <Tags view={tags.clone()} {on_choose} {on_more} /> }
        }
        View::Looked(looked) => looked_view(ctx, looked),
    }
}

fn looked_view(ctx: &Ctx, looked: &Rc<Looked>) -> Html {
    let copy = Callback::from(|text: String| copy_text(&text));
    let body = match &looked.kind {
        LookedKind::Platforms(rows) => {
            let on_choose = choose_platform(ctx, looked, rows);
            let on_export = export_platforms(ctx, looked);
            let exporting = ctx.state.is_exporting(&looked.digest);
            html! { <PlatformTable key={looked.digest.to_string()} rows={rows.clone()} {on_choose} {on_export} {exporting} /> }
        }
        LookedKind::Bottles(rows) => {
            let busy: Vec<String> = rows
                .iter()
                .filter(|r| ctx.state.is_downloading(&r.blob))
                .map(|r| r.tag.clone())
                .collect();
            let on_download = download_bottle(ctx, looked);
            let linked = ctx.state.linked_bottle.clone();
            html! { <BottleTable rows={rows.clone()} {busy} {linked} {on_download} /> }
        }
        LookedKind::Image(image) => {
            let busy: Vec<Digest> = image
                .layers
                .iter()
                .chain(&image.config_blob)
                .map(|b| b.digest.clone())
                .filter(|d| ctx.state.is_downloading(d))
                .collect();
            let exporting = ctx.state.is_exporting(&image.manifest_digest);
            html! { <Image image={image.clone()} {busy} {exporting}
            on_download={download_blob(ctx, looked)} on_export={export_image(ctx, looked, image)} /> }
        }
    };
    html! {
        <>
            <section class="panel" data-view="resolved">
                <dl class="facts">
                    <dt>{ "Reference" }</dt><dd><code>{ looked.reference.to_string() }</code></dd>
                    <dt>{ "Digest" }</dt><dd class="digest" data-resolved-digest={looked.digest.to_string()}>{ looked.digest.to_string() }</dd>
                    <dt>{ "Media type" }</dt><dd><code data-media-type="">{ &looked.media_type }</code></dd>
                </dl>
                { relay_check(ctx, looked) }
            </section>
            { body }
            { referrers_panel(ctx, looked) }
            <RawDocs docs={looked.raw.clone()} on_copy={copy} />
        </>
    }
}

/// What refers to the manifest in view; a referrer opens as a view of its own.
fn referrers_panel(ctx: &Ctx, looked: &Rc<Looked>) -> Html {
    let Some(view) = ctx.state.referrers.clone() else {
        return Html::default();
    };
    if &view.subject != looked.subject() {
        return Html::default();
    }
    let busy = match &view.found {
        Found::Listed { rows, .. } => rows
            .iter()
            .filter_map(|r| r.blob.as_ref().map(|b| b.digest.clone()))
            .filter(|d| ctx.state.is_downloading(d))
            .collect(),
        _ => Vec::new(),
    };
    let registry = ctx.registry.clone();
    let reference = looked.reference.clone();
    let on_open = Callback::from(move |digest: Digest| {
        let url = UrlState {
            reference: Some(reference.with_digest(digest).to_string()),
            ..UrlState::default()
        };
        registry.open(url, true);
    });
    let on_download = download_blob(ctx, looked);
    html! { <Referrers {view} {busy} {on_download} {on_open} /> }
}

fn choose_platform(
    ctx: &Ctx,
    looked: &Rc<Looked>,
    rows: &[crate::view::PlatformRow],
) -> Callback<Digest> {
    let registry = ctx.registry.clone();
    let rows = rows.to_vec();
    let reference = looked.reference.to_string();
    Callback::from(move |digest: Digest| {
        let Some(row) = rows.iter().find(|r| r.digest == digest) else {
            return;
        };
        let url = UrlState {
            reference: Some(reference.clone()),
            platform: Some(row.choice.clone()),
            ..UrlState::default()
        };
        registry.open(url, true);
    })
}

fn relay_check(ctx: &Ctx, looked: &Rc<Looked>) -> Html {
    let relays: Vec<String> = ctx.relay.checks.iter().map(ToString::to_string).collect();
    let on_check = {
        let (registry, checks, looked) = (
            ctx.registry.clone(),
            ctx.relay.checks.clone(),
            looked.clone(),
        );
        Callback::from(move |i: usize| {
            if let Some(relay) = checks.get(i) {
                registry.check_through(relay.clone(), &looked);
            }
        })
    };
    let on_check_blobs = match &looked.kind {
        LookedKind::Image(image) => Some(check_blobs(ctx, looked, image)),
        _ => None,
    };
    let registry = looked.reference.registry();
    let credentials = ctx.registry.client.credentials_for(registry).is_some();
    html! { <RelayCheckPanel {relays} check={ctx.state.relay_check.clone()} {on_check}
    {on_check_blobs} {credentials} /> }
}

fn download_bottle(ctx: &Ctx, looked: &Rc<Looked>) -> Callback<BottleRow> {
    let ctx = ctx.clone();
    let looked = looked.clone();
    Callback::from(move |row: BottleRow| {
        let url = UrlState {
            reference: Some(looked.reference.to_string()),
            bottle: Some(row.tag.clone()),
            ..UrlState::default()
        };
        use_url_state::push(&url);
        ctx.state
            .dispatch(Action::BottleLinked(Some(row.tag.clone())));
        let Some(size) = row.size else { return };
        start(
            &ctx,
            &looked.reference,
            row.blob.clone(),
            size,
            row.file_name.clone(),
        );
    })
}

fn download_blob(ctx: &Ctx, looked: &Rc<Looked>) -> Callback<Blob> {
    let ctx = ctx.clone();
    let looked = looked.clone();
    Callback::from(move |blob: Blob| match blob.size {
        Some(size) => start(
            &ctx,
            &looked.reference,
            blob.digest.clone(),
            size,
            blob.file_name.clone(),
        ),
        None => {
            let ctx = ctx.clone();
            let looked = looked.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let size = ctx
                    .registry
                    .client
                    .blob_size(&looked.reference, &blob.digest);
                match size.await {
                    Ok(size) => start(
                        &ctx,
                        &looked.reference,
                        blob.digest.clone(),
                        size,
                        blob.file_name.clone(),
                    ),
                    Err(e) => ctx.state.dispatch(Action::Failed(Rc::new((&e).into()))),
                }
            });
        }
    })
}

fn start(ctx: &Ctx, reference: &Reference, digest: Digest, size: u64, file_name: String) {
    // Two relays served different digests for this view: nothing of it is saved.
    if ctx.state.is_downloading(&digest) || ctx.state.relays_disagree() {
        return;
    }
    let id = u64::from(ctx.state.upcoming_download());
    ctx.state.dispatch(Action::DownloadStarted {
        file_name: file_name.clone(),
        digest: digest.clone(),
        size,
        through: None,
    });
    let credentials = ctx.registry.client.credentials_for(reference.registry());
    ctx.downloads.start(StartDownload {
        id,
        reference: reference.clone(),
        digest,
        size,
        file_name,
        relay: ctx.relay.template.clone(),
        credentials: credentials.as_ref().map(Into::into),
        check_only: false,
    });
}

/// What a closed tab left unfinished: **Resume** starts the same download (its staged bytes are
/// kept and checked), **Discard** removes them.
fn unfinished_list(ctx: &Ctx) -> Html {
    let on_resume = {
        let ctx = ctx.clone();
        Callback::from(move |digest: Digest| {
            let Some(download) = ctx.state.unfinished_download(&digest) else {
                return;
            };
            ctx.state.dispatch(Action::UnfinishedTaken(digest.clone()));
            let Some(reference) = download.parsed_reference() else {
                return;
            };
            match download.export {
                Some(e) => saves::begin_export(
                    &ctx,
                    &reference,
                    download.file_name,
                    e.format,
                    e.platforms,
                    Some(e.staged_name),
                ),
                None => start(&ctx, &reference, digest, download.size, download.file_name),
            }
        })
    };
    let on_discard = {
        let ctx = ctx.clone();
        Callback::from(move |digest: Digest| {
            let Some(download) = ctx.state.unfinished_download(&digest) else {
                return;
            };
            ctx.state.dispatch(Action::UnfinishedTaken(digest));
            wasm_bindgen_futures::spawn_local(async move {
                use_unfinished::discard(&download).await;
            });
        })
    };
    html! {
        <UnfinishedList unfinished={ctx.state.unfinished.clone()} {on_resume} {on_discard} />
    }
}

fn download_list(ctx: &Ctx) -> Html {
    let dispatch = ctx.state.dispatcher();
    let downloads = ctx.downloads.clone();
    let on_expected = {
        let dispatch = dispatch.clone();
        Callback::from(move |(id, text)| dispatch.dispatch(Action::ExpectedDigest { id, text }))
    };
    html! {
        <DownloadList downloads={ctx.state.downloads.clone()} staging={ctx.state.staging.clone()}
            on_cancel={Callback::from(move |id: u32| downloads.cancel(u64::from(id)))}
            on_copy={Callback::from(|t: String| copy_text(&t))} {on_expected}
            on_clear={Callback::from(move |_| dispatch.dispatch(Action::ClearFinished))} />
    }
}

fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}
