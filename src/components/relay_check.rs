//! **Check through another relay**: the view's digest asked again through a second relay (the
//! check careful users make by hand from another network). Agreement is stated with the digest;
//! a disagreement is loud, with both digests, and saving stops for the view.

use yew::prelude::*;

use crate::view::{CheckOutcome, RelayCheck};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The other relays the setting names, as written.
    pub relays: Vec<String>,
    pub check: Option<RelayCheck>,
    /// Asks the relay at this index of `relays`.
    pub on_check: Callback<usize>,
    /// Streams the view's blobs through the relay that agreed (named as in `relays`); only
    /// for an image.
    #[prop_or_default]
    pub on_check_blobs: Option<Callback<String>>,
    /// The page holds credentials for this registry: they go through the other relay too.
    #[prop_or_default]
    pub credentials: bool,
}

#[function_component(RelayCheckPanel)]
pub fn relay_check_panel(props: &Props) -> Html {
    if props.relays.is_empty() {
        return html! {
            <p class="hint" data-relay-check-none="">
                { "To compare this digest through another relay, name a second relay in the Relay setting (after the first, with a space)." }
            </p>
        };
    }
    let checking = matches!(&props.check, Some(c) if c.outcome == CheckOutcome::Checking);
    let buttons = props.relays.iter().enumerate().map(|(i, relay)| {
        let onclick = props.on_check.reform(move |_| i);
        html! {
            <button class="small" data-check-relay={relay.clone()} disabled={checking}
                aria-label={format!("Check through another relay: {relay}")} {onclick}>
                { "Check through another relay" }</button>
        }
    });
    let warning = props.credentials.then(|| html! {
        <p class="hint" data-credentials-warning="">
            { "Your credentials for this registry go through the other relay too: check only through relays you trust with them." }
        </p>
    });
    html! {
        <div class="relay-check">
            { for buttons }
            { for warning }
            { props.check.as_ref().map(outcome).unwrap_or_default() }
            { blobs_button(props) }
        </div>
    }
}

/// After an agreement on an image: **Stream the blobs through it too**.
fn blobs_button(props: &Props) -> Html {
    let (Some(check), Some(on_check_blobs)) = (&props.check, &props.on_check_blobs) else {
        return Html::default();
    };
    if check.outcome != CheckOutcome::Agree {
        return Html::default();
    }
    let relay = check.relay.clone();
    let onclick = on_check_blobs.reform(move |_| relay.clone());
    html! {
        <button class="small" data-check-blobs={check.relay.clone()} {onclick}
            aria-label={format!("Stream the layers and config through {} too and verify them", check.relay)}>
            { "Stream the blobs through it too" }</button>
    }
}

fn outcome(check: &RelayCheck) -> Html {
    match &check.outcome {
        CheckOutcome::Checking => html! {
            <p class="hint" data-relay-check="checking">{ format!("Asking {}…", check.relay) }</p>
        },
        CheckOutcome::Agree => html! {
            <p data-relay-check="agree"><span class="badge ok">{ "agree" }</span>
                { format!(" {} served the same digest, ", check.relay) }
                <span class="digest">{ check.ours.to_string() }</span></p>
        },
        CheckOutcome::Disagree { theirs } => html! {
            <div class="notice error" role="alert" data-relay-check="disagree">
                <strong>{ "The relays disagree: do not trust this image" }</strong>
                <p>{ "This page's relay: " }<span class="digest" data-ours="">{ check.ours.to_string() }</span></p>
                <p>{ format!("{}: ", check.relay) }<span class="digest bad-text" data-theirs="">{ theirs.to_string() }</span></p>
                <p>{ "Saving is off for this view. One of the two paths serves something else than the other." }</p>
            </div>
        },
        CheckOutcome::Failed { message } => html! {
            <p class="bad-text" data-relay-check="failed">
                { format!("Could not check through {}: {message}", check.relay) }</p>
        },
    }
}
