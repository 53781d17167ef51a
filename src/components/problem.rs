//! The notice for a failed request: what happened and what to do.

use yew::prelude::*;

use crate::hooks::use_countdown::use_countdown;
use crate::view::{Problem, Remedy};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub problem: std::rc::Rc<Problem>,
    pub on_dismiss: Callback<()>,
    pub on_remedy: Callback<Remedy>,
}

#[function_component(ProblemNotice)]
pub fn problem_notice(props: &Props) -> Html {
    let p = &props.problem;
    let wait = match &p.remedy {
        Remedy::Wait { seconds } => seconds.unwrap_or(0),
        _ => 0,
    };
    let left = use_countdown(wait);
    let remedy = match &p.remedy {
        Remedy::Nothing => html! {},
        Remedy::Wait { .. } => retry(props, left),
        Remedy::Credentials { host } => action(props, "Enter credentials", format!("for {host}")),
        Remedy::Tags => action(props, "Show tags", String::new()),
        Remedy::RelaySettings => action(props, "Relay settings", String::new()),
    };
    let on_dismiss = props.on_dismiss.reform(|_| ());
    html! {
        <div class="notice error" role="alert" data-problem="">
            <strong>{ &p.title }</strong>
            <p>{ &p.detail }</p>
            <p>
                { remedy }
                { " " }
                <button class="small" onclick={on_dismiss}>{ "Dismiss" }</button>
            </p>
        </div>
    }
}

/// **Try again**, disabled while the registry's wait lasts ("Try again in 3 s").
fn retry(props: &Props, left: u64) -> Html {
    let remedy = props.problem.remedy.clone();
    let onclick = props.on_remedy.reform(move |_| remedy.clone());
    let label = match left {
        0 => "Try again".to_owned(),
        n => format!("Try again in {n} s"),
    };
    html! {
        <button class="small primary" data-remedy="retry" data-wait={left.to_string()}
            disabled={left > 0} {onclick}>{ label }</button>
    }
}

fn action(props: &Props, label: &str, suffix: String) -> Html {
    let remedy = props.problem.remedy.clone();
    let onclick = props.on_remedy.reform(move |_| remedy.clone());
    html! {
        <>
            <button class="small primary" {onclick}>{ label }</button>
            { " " }<span class="hint">{ suffix }</span>
        </>
    }
}
