//! The **Tags** view: every tag of a repository, page by page.

use yew::prelude::*;

use crate::state::TagsView;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub view: std::rc::Rc<TagsView>,
    pub on_choose: Callback<String>,
    pub on_more: Callback<()>,
}

#[function_component(Tags)]
pub fn tags(props: &Props) -> Html {
    let v = &props.view;
    let tags = v.tags.iter().map(|tag| {
        let t = tag.clone();
        let onclick = props.on_choose.reform(move |_| t.clone());
        html! { <li><button class="link" data-tag={tag.clone()} {onclick}><code>{ tag }</code></button></li> }
    });
    let more = props.on_more.reform(|_| ());
    html! {
        <section class="panel" data-view="tags">
            <h2>{ format!("Tags of {}", v.reference.repository()) }</h2>
            <p class="hint" data-tag-count={v.tags.len().to_string()}>
                { format!("{} tags", v.tags.len()) }
                if v.loading { { " — loading…" } }
            </p>
            <ul class="tags">{ for tags }</ul>
            if v.more {
                <button data-more-tags="" onclick={more} disabled={v.loading}>{ "More tags" }</button>
            }
        </section>
    }
}
