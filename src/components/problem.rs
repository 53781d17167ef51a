//! The notice for a failed request: what happened and what to do.

use yew::prelude::*;

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
    let remedy = match &p.remedy {
        Remedy::Nothing | Remedy::Wait { .. } => html! {},
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
